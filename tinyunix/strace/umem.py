"""Reading a traced task's memory without side effects.

strace reads its tracee with process_vm_readv; the tracer here reads the
task's page tables the same way the MMU would, but never faults a page in:
a tracer must not change what it traces (no frame allocated, no fault
counted, no CoW broken).  A page that is not present is read from where
the fault would take it: zeros for anonymous memory, the page cache (or
the file's bytes) for a file mapping.  Anything else is unreadable, and
the argument is then shown as a pointer, as strace does on EFAULT.
"""
from __future__ import annotations

from typing import Optional

from emu.paging import PTE_PFN_MASK, _PAGE_PRESENT, _PAGE_USER
from kernel.mm.memory import VM_EXEC, VM_READ, VM_WRITE
from kernel.mm.mmap import TASK_SIZE

_OK = _PAGE_PRESENT | _PAGE_USER


def _page(mm, va: int) -> Optional[bytes | memoryview]:
    """The 4 KiB page holding `va` as the task would read it, or None."""
    mem = mm.alloc.machine.mem
    pt = mm.pt
    i = pt.pte_index(va, False)
    if i >= 0:
        pte = pt.q[i]
        if pte & _OK == _OK:
            pa = pte & PTE_PFN_MASK
            return mem[pa:pa + 4096]
    vma = mm.find_vma(va)
    if vma is None or not vma.vm_flags & (VM_READ | VM_WRITE | VM_EXEC):
        return None
    pgoff = vma.vm_pgoff + ((va - vma.vm_start) >> 12)
    if vma.shm is not None:
        return None
    ino = vma.vm_file
    if ino is not None:
        pfn = ino.pages.get(pgoff)
        if pfn is not None:
            return mem[pfn << 12:(pfn << 12) + 4096]
        chunk = ino.data[pgoff << 12:(pgoff + 1) << 12]
        return chunk + bytes(4096 - len(chunk))
    return bytes(4096)


def peek(mm, addr: int, n: int) -> Optional[bytes]:
    """n bytes at addr, or None if any of them is unreadable."""
    if mm is None or addr <= 0 or n < 0 or addr + n > TASK_SIZE:
        return None
    out = bytearray()
    va, end = addr, addr + n
    while va < end:
        page = _page(mm, va & ~0xFFF)
        if page is None:
            return None
        off = va & 0xFFF
        take = min(end - va, 4096 - off)
        out += page[off:off + take]
        va += take
    return bytes(out)


def peek_cstr(mm, addr: int, limit: int) -> Optional[tuple[bytes, bool]]:
    """The NUL-terminated string at addr, at most `limit` bytes, and whether
    its NUL was found within them; None if its first byte is unreadable."""
    if mm is None or addr <= 0 or addr >= TASK_SIZE:
        return None
    out = bytearray()
    va = addr
    while len(out) < limit:
        page = _page(mm, va & ~0xFFF)
        if page is None:
            return (bytes(out), False) if out else None
        off = va & 0xFFF
        chunk = bytes(page[off:off + min(4096 - off, limit - len(out))])
        z = chunk.find(b"\0")
        if z >= 0:
            out += chunk[:z]
            return bytes(out), True
        out += chunk
        va += len(chunk)
    return bytes(out), False
