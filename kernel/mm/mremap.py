"""mremap (mm/mremap.c): grow or shrink a mapping in place, or move it
(its PTEs move with it: no frame is copied, no refcount changes)."""
from __future__ import annotations

from emu.paging import PAGE_SIZE

from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..types import c_ulong
from .memory import _MAPPED
from .mmap import TASK_SIZE, mm_struct, page_align, vm_area_struct

MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP = 1, 2, 4
EINVAL, ENOMEM, EFAULT = 22, 12, 14
VM_SHARED = 0x8


def move_page_tables(mm: mm_struct, old: int, new: int, length: int) -> None:
    """Move the PTEs of [old, old+length) to [new, ...): each mapped entry
    is written at its new place and cleared at the old one.  May raise
    OutOfMemory (a table page for the new place) before anything moved
    past the entry it stopped at; the caller's VMAs then still cover
    both ranges, so no frame is lost."""
    pt = mm.pt
    q = pt.q
    for off in range(0, length, PAGE_SIZE):
        i = pt.pte_index(old + off, False)
        if i < 0 or not q[i] & _MAPPED:
            continue
        j = pt.pte_index(new + off, True)
        q[j] = q[i]
        q[i] = 0


def vma_to_resize(mm: mm_struct, addr: int, old_len: int) -> vm_area_struct:
    vma = mm.find_vma(addr)
    if vma is None:
        raise Errno(EFAULT)
    if old_len > vma.vm_end - addr:
        raise Errno(EFAULT)     # the old range spans more than one mapping
    return vma


def check_dontunmap(vma: vm_area_struct, addr: int, old_len: int, flags: int) -> None:
    """MREMAP_DONTUNMAP moves a whole private mapping only (measured on
    Linux 6.18: part of a VMA is EINVAL, as is a shared one)."""
    if flags & MREMAP_DONTUNMAP and (vma.vm_flags & VM_SHARED or vma.vm_start != addr
                                     or vma.vm_end != addr + old_len):
        raise Errno(EINVAL)


def move_vma(mm: mm_struct, vma: vm_area_struct, old: int, old_len: int, new: int,
             new_len: int, dontunmap: bool) -> int:
    """The mapping [old, old+old_len) of `vma` goes to [new, new+new_len)
    (new_len >= old_len; the room at `new` is free)."""
    if vma.vm_start < old:
        vma = mm.split_vma(vma, old)
    if vma.vm_end > old + old_len:
        mm.split_vma(vma, old + old_len)
    moved = vm_area_struct(new, new + new_len, vma.vm_flags, vma.vm_pgoff, vma.vm_file,
                           vma.shm, vma.name)
    moved.get_refs()
    mm.insert_vma(moved)
    move_page_tables(mm, old, new, old_len)
    if not dontunmap:
        mm.do_munmap(old, old_len)    # nothing mapped there any more: just the VMA
    mm.flush_tlb()
    return new


def do_mremap(addr: int, old_len: int, new_len: int, flags: int, new_addr: int) -> int:
    if flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) or addr & (PAGE_SIZE - 1):
        raise Errno(EINVAL)
    if flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) and not flags & MREMAP_MAYMOVE:
        raise Errno(EINVAL)
    if flags & MREMAP_DONTUNMAP and old_len != new_len:
        raise Errno(EINVAL)
    old_len, new_len = page_align(old_len), page_align(new_len)
    if not new_len:
        raise Errno(EINVAL)
    mm = current().mm
    if not old_len:
        # Duplicating a shared mapping (old_len 0) is not modelled.
        raise Errno(EINVAL)
    if flags & MREMAP_FIXED:
        if new_addr & (PAGE_SIZE - 1) or new_len > TASK_SIZE or new_addr > TASK_SIZE - new_len:
            raise Errno(EINVAL)
        if new_addr < addr + old_len and addr < new_addr + new_len:
            raise Errno(EINVAL)     # overlapping ranges
        check_dontunmap(vma_to_resize(mm, addr, old_len), addr, old_len, flags)
        mm.do_munmap(new_addr, new_len)
        if old_len > new_len:
            mm.do_munmap(addr + new_len, old_len - new_len)
            old_len = new_len
        vma = vma_to_resize(mm, addr, old_len)
        if not mm.may_expand_vm(vma.vm_flags, (new_len - old_len) >> 12):
            raise Errno(ENOMEM)
        return move_vma(mm, vma, addr, old_len, new_addr, new_len,
                        bool(flags & MREMAP_DONTUNMAP))
    if old_len >= new_len and not flags & MREMAP_DONTUNMAP:
        if old_len > new_len:
            mm.do_munmap(addr + new_len, old_len - new_len)
        return addr
    vma = vma_to_resize(mm, addr, old_len)
    check_dontunmap(vma, addr, old_len, flags)
    grow = new_len - old_len
    if grow and not mm.may_expand_vm(vma.vm_flags, grow >> 12):
        raise Errno(ENOMEM)
    end = addr + old_len
    if (grow and vma.vm_end == end and end + grow <= TASK_SIZE
            and not mm.overlapping(end, end + grow) and not flags & MREMAP_DONTUNMAP):
        vma.vm_end = end + grow       # grow in place
        return addr
    if not flags & MREMAP_MAYMOVE:
        raise Errno(ENOMEM)
    new = mm.get_unmapped_area(new_len)
    return move_vma(mm, vma, addr, old_len, new, new_len, bool(flags & MREMAP_DONTUNMAP))


@syscall("mremap")
def sys_mremap(addr: c_ulong, old_len: c_ulong, new_len: c_ulong, flags: c_ulong,
               new_addr: c_ulong) -> int:
    return do_mremap(addr, old_len, new_len, flags, new_addr)
