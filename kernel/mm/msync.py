"""msync and mincore (mm/msync.c, mm/mincore.c): what a range of the
address space says about the files and frames behind it."""
from __future__ import annotations

from emu.paging import PAGE_SIZE

from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..types import UPtr, c_int, c_ulong, size_t
from ..uapi import EBUSY, EINVAL, ENOMEM
from .memory import _MAPPED, VM_SHARED
from .mmap import TASK_SIZE, page_align
from .uaccess import copy_to_user

MS_ASYNC, MS_INVALIDATE, MS_SYNC = 1, 2, 4
VM_LOCKED = 0x2000


@syscall("msync")
def sys_msync(start: c_ulong, len_: size_t, flags: c_int) -> int:
    """Shared file mappings of the range are written back to their files
    (with the page cache the file's truth already, this only copies the
    frames into the overlay's bytes).  ENOMEM when part of the range is
    unmapped, after the mapped parts were done; EBUSY to invalidate
    locked pages."""
    if flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC) or start & (PAGE_SIZE - 1):
        raise Errno(EINVAL)
    if flags & MS_ASYNC and flags & MS_SYNC:
        raise Errno(EINVAL)
    end = start + page_align(len_)
    if end < start or end > TASK_SIZE:
        raise Errno(ENOMEM)
    mm = current().mm
    cur = start
    holes = False
    for vma in mm.overlapping(start, end):
        holes |= vma.vm_start > cur
        if flags & MS_INVALIDATE and vma.vm_flags & VM_LOCKED:
            raise Errno(EBUSY)
        if vma.vm_flags & VM_SHARED and hasattr(vma.vm_file, "writeback"):
            vma.vm_file.writeback()
        cur = vma.vm_end
    if holes or cur < end:
        raise Errno(ENOMEM)
    return 0


@syscall("mincore")
def sys_mincore(start: c_ulong, len_: size_t, vec: UPtr) -> int:
    """One byte per page, bit 0 set when the page is resident: mapped by
    a PTE here, or (for a file mapping) in the file's page cache even if
    this process never touched it.  ENOMEM for unmapped pages."""
    if start & (PAGE_SIZE - 1):
        raise Errno(EINVAL)
    end = start + page_align(len_)
    if end > TASK_SIZE or end < start:
        raise Errno(ENOMEM)
    mm = current().mm
    out = bytearray()
    cur = start
    for vma in mm.overlapping(start, end):
        if vma.vm_start > cur:
            raise Errno(ENOMEM)
        hi = min(end, vma.vm_end)
        for va in range(cur, hi, PAGE_SIZE):
            idx = mm.pt.pte_index(va, False)
            resident = idx >= 0 and bool(mm.pt.q[idx] & _MAPPED)
            if not resident and vma.vm_file is not None:
                pgoff = vma.vm_pgoff + ((va - vma.vm_start) >> 12)
                if hasattr(vma.vm_file, "writeback"):
                    # An overlay file is all in memory, as on tmpfs.
                    resident = pgoff < (vma.vm_file.size + PAGE_SIZE - 1) >> 12
                else:
                    resident = pgoff in vma.vm_file.pages
            out.append(1 if resident else 0)
        cur = hi
    if cur < end:
        raise Errno(ENOMEM)
    copy_to_user(vec, bytes(out))
    return 0
