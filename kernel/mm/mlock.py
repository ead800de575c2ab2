"""mlock, munlock, mlockall, munlockall (mm/mlock.c).  There is no swap,
so a locked page is simply one that is resident: locking marks the VMAs
VM_LOCKED and faults every page in (breaking CoW on private writable
pages, as populate does), under RLIMIT_MEMLOCK unless CAP_IPC_LOCK.
fork does not pass VM_LOCKED on (dup_mmap)."""
from __future__ import annotations

from emu.paging import PAGE_SIZE

from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..types import c_int, c_ulong, size_t
from ..uapi import EINVAL, ENOMEM, EPERM, RLIMIT_MEMLOCK
from .memory import FAULT_WRITE, VM_READ, VM_SHARED, VM_WRITE, VM_EXEC, Segv, handle_mm_fault
from .mmap import TASK_SIZE, mm_struct, page_align

VM_LOCKED = 0x2000
MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT = 1, 2, 4
MLOCK_ONFAULT = 1
CAP_IPC_LOCK = 14


def locked_pages(mm: mm_struct) -> int:
    return sum(v.vm_end - v.vm_start for v in mm.vmas if v.vm_flags & VM_LOCKED) >> 12


def may_lock(mm: mm_struct, extra_pages: int) -> None:
    """RLIMIT_MEMLOCK: ENOMEM past it, EPERM when it is 0 (mlock_fixup's
    callers), unless the task has CAP_IPC_LOCK."""
    from ..sys import capable
    if capable(CAP_IPC_LOCK):
        return
    limit = current().signal.rlim[RLIMIT_MEMLOCK][0]
    if limit == 0:
        raise Errno(EPERM)
    if (locked_pages(mm) + extra_pages) << 12 > limit:
        raise Errno(ENOMEM)


def populate(mm: mm_struct, start: int, end: int) -> None:
    """Fault in [start, end) as __mm_populate does: writable private pages
    by a write fault (their own copy), the rest by a read."""
    for vma in mm.overlapping(start, end):
        vf = vma.vm_flags
        if not vf & (VM_READ | VM_WRITE | VM_EXEC):
            continue
        flags = FAULT_WRITE if vf & VM_WRITE and not vf & VM_SHARED else 0
        for va in range(max(start, vma.vm_start), min(end, vma.vm_end), PAGE_SIZE):
            try:
                handle_mm_fault(mm, va, flags)
            except Segv:
                break           # past the end of a file: stays unpopulated
    mm.flush_tlb()


def apply_vma_lock_flags(mm: mm_struct, start: int, end: int, lock: bool) -> None:
    cur = start
    for vma in mm.overlapping(start, end):
        if vma.vm_start > cur:
            raise Errno(ENOMEM)
        cur = vma.vm_end
    if cur < end:
        raise Errno(ENOMEM)
    for vma in mm.overlapping(start, end):
        if vma.vm_start < start:
            vma = mm.split_vma(vma, start)
        if vma.vm_end > end:
            mm.split_vma(vma, end)
        vma.vm_flags = vma.vm_flags | VM_LOCKED if lock else vma.vm_flags & ~VM_LOCKED


def _range(start: int, len_: int) -> tuple[int, int]:
    end = page_align(start + len_)
    start &= ~(PAGE_SIZE - 1)
    if end < start or end > TASK_SIZE:
        raise Errno(ENOMEM)
    return start, end


def do_mlock(start: int, len_: int, onfault: bool) -> int:
    mm = current().mm
    start, end = _range(start, len_)
    if start == end:
        return 0
    new = ((end - start) >> 12) - sum(
        (min(end, v.vm_end) - max(start, v.vm_start)) >> 12
        for v in mm.overlapping(start, end) if v.vm_flags & VM_LOCKED)
    may_lock(mm, new)
    apply_vma_lock_flags(mm, start, end, True)
    if not onfault:
        populate(mm, start, end)
    return 0


@syscall("mlock")
def sys_mlock(start: c_ulong, len_: size_t) -> int:
    return do_mlock(start, len_, False)


@syscall("mlock2")
def sys_mlock2(start: c_ulong, len_: size_t, flags: c_int) -> int:
    if flags & ~MLOCK_ONFAULT:
        raise Errno(EINVAL)
    return do_mlock(start, len_, bool(flags & MLOCK_ONFAULT))


@syscall("munlock")
def sys_munlock(start: c_ulong, len_: size_t) -> int:
    start, end = _range(start, len_)
    if start != end:
        apply_vma_lock_flags(current().mm, start, end, False)
    return 0


@syscall("mlockall", note="MCL_FUTURE is accepted; later mappings are not locked")
def sys_mlockall(flags: c_int) -> int:
    if not flags or flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) or \
            flags == MCL_ONFAULT:
        raise Errno(EINVAL)
    mm = current().mm
    if flags & MCL_CURRENT:
        may_lock(mm, mm.total_vm() - locked_pages(mm))
        for vma in mm.vmas:
            vma.vm_flags |= VM_LOCKED
        if not flags & MCL_ONFAULT:
            for vma in list(mm.vmas):
                populate(mm, vma.vm_start, vma.vm_end)
    return 0


@syscall("munlockall")
def sys_munlockall() -> int:
    for vma in current().mm.vmas:
        vma.vm_flags &= ~VM_LOCKED
    return 0
