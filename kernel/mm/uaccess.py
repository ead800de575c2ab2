"""User memory, touched only through these helpers.  They walk the current
task's page tables, honour U/S and R/W, take the fault a user access would
(demand paging, copy-on-write) and raise Errno(EFAULT) where the guest
itself would get SIGSEGV."""
from __future__ import annotations

import struct

from emu.paging import PTE_PFN_MASK, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER

from .. import state
from ..panic import Errno
from ..percpu import current
from ..uapi import EFAULT, ENAMETOOLONG
from .memory import FAULT_WRITE, Segv, handle_mm_fault
from .mmap import TASK_SIZE, mm_struct

_OK_R = _PAGE_PRESENT | _PAGE_USER
_OK_W = _PAGE_PRESENT | _PAGE_USER | _PAGE_RW


def user_page(mm: mm_struct, va: int, write: bool) -> int:
    """Physical address of the page holding va, made accessible."""
    if va < 0 or va >= TASK_SIZE:
        raise Errno(EFAULT)
    need = _OK_W if write else _OK_R
    pt = mm.pt
    i = pt.pte_index(va, False)
    if i >= 0:
        pte = pt.q[i]
        if pte & need == need:
            return pte & PTE_PFN_MASK
    try:
        handle_mm_fault(mm, va, FAULT_WRITE if write else 0)
    except Segv:
        raise Errno(EFAULT) from None
    state.K.vmstat.pgfault_kernel += 1
    mm.flush_tlb()
    pte = pt.q[pt.pte_index(va, False)]
    return pte & PTE_PFN_MASK


def access_ok(uaddr: int, n: int) -> bool:
    """The range could be user memory (it lies below TASK_SIZE); whether
    it is mapped is found out by the copy."""
    return 0 <= uaddr and uaddr + n <= TASK_SIZE


def copy_from_user(uaddr: int, n: int, mm: mm_struct | None = None) -> bytes:
    if n <= 0:
        return b""
    mm = mm or current().mm
    mem = mm.alloc.machine.mem
    if uaddr + n > TASK_SIZE:
        raise Errno(EFAULT)
    off = uaddr & 0xFFF
    if off + n <= 4096:
        pa = user_page(mm, uaddr, False) + off
        return bytes(mem[pa:pa + n])
    out = bytearray()
    va, end = uaddr, uaddr + n
    while va < end:
        chunk = min(end, (va | 0xFFF) + 1) - va
        pa = user_page(mm, va, False) + (va & 0xFFF)
        out += mem[pa:pa + chunk]
        va += chunk
    return bytes(out)


def copy_to_user(uaddr: int, data: bytes | bytearray | memoryview,
                 mm: mm_struct | None = None) -> None:
    n = len(data)
    if n == 0:
        return
    mm = mm or current().mm
    mem = mm.alloc.machine.mem
    if uaddr + n > TASK_SIZE:
        raise Errno(EFAULT)
    va, end, pos = uaddr, uaddr + n, 0
    while va < end:
        chunk = min(end, (va | 0xFFF) + 1) - va
        pa = user_page(mm, va, True) + (va & 0xFFF)
        mem[pa:pa + chunk] = data[pos:pos + chunk]
        va += chunk
        pos += chunk


def clear_user(uaddr: int, n: int, mm: mm_struct | None = None) -> None:
    copy_to_user(uaddr, bytes(n), mm)


def strncpy_from_user(uaddr: int, limit: int = 4096) -> bytes:
    """A NUL-terminated string (without the NUL); ENAMETOOLONG past limit."""
    mm = current().mm
    mem = mm.alloc.machine.mem
    out = bytearray()
    va = uaddr
    while True:
        pa = user_page(mm, va, False)
        start = pa + (va & 0xFFF)
        page = mem[start:pa + 4096]
        z = bytes(page).find(0)
        if z >= 0:
            out += page[:z]
            break
        out += page
        va += len(page)
        if len(out) >= limit:
            raise Errno(ENAMETOOLONG)
    if len(out) >= limit:
        raise Errno(ENAMETOOLONG)
    return bytes(out)


def get_user_u64(uaddr: int) -> int:
    return struct.unpack("<Q", copy_from_user(uaddr, 8))[0]


def get_user_u32(uaddr: int) -> int:
    return struct.unpack("<I", copy_from_user(uaddr, 4))[0]


def put_user_u64(uaddr: int, v: int) -> None:
    copy_to_user(uaddr, struct.pack("<Q", v & 0xFFFF_FFFF_FFFF_FFFF))


def put_user_u32(uaddr: int, v: int) -> None:
    copy_to_user(uaddr, struct.pack("<I", v & 0xFFFF_FFFF))


def put_user_s32(uaddr: int, v: int) -> None:
    copy_to_user(uaddr, struct.pack("<i", v))


def get_user_ptr_array(uaddr: int, limit: int = 1 << 16) -> list[int]:
    """A NULL-terminated array of user pointers (argv, envp)."""
    out = []
    while True:
        p = get_user_u64(uaddr + 8 * len(out))
        if p == 0:
            return out
        out.append(p)
        if len(out) > limit:
            raise Errno(7)  # E2BIG
