"""Page faults and page-table copying: handle_mm_fault, do_anonymous_page,
do_wp_page (copy-on-write), copy_page_range (fork), zap_page_range.

On entry to handle_mm_fault the faulting task's mm is the one given; on
return the PTE for `va` is present with the access allowed, or Segv was
raised.  The caller flushes the TLB before the access is retried.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from emu.paging import (
    PTE_PFN_MASK, _PAGE_NX, _PAGE_PRESENT, _PAGE_RW, _PAGE_SOFT_COW, _PAGE_USER,
)

from ..panic import BUG
from ..uapi import SEGV_ACCERR, SEGV_MAPERR
from .vmstat import vmstat

if TYPE_CHECKING:
    from .mmap import mm_struct, vm_area_struct

_PAGE_PROTNONE = 1 << 11  # software bit: frame kept, not present to the MMU
_MAPPED = _PAGE_PRESENT | _PAGE_PROTNONE

VM_READ, VM_WRITE, VM_EXEC, VM_SHARED = 0x1, 0x2, 0x4, 0x8
VM_MAYREAD, VM_MAYWRITE, VM_MAYEXEC, VM_MAYSHARE = 0x10, 0x20, 0x40, 0x80
VM_GROWSDOWN, VM_DONTCOPY = 0x100, 0x20000

FAULT_WRITE, FAULT_EXEC = 1, 2


class Segv(Exception):
    """The access has no valid mapping: the task gets SIGSEGV with si_code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def mk_pte(alloc, pfn: int, vm_flags: int, writable: bool) -> int:
    pte = (pfn << 12) | _PAGE_PRESENT | _PAGE_USER
    if writable:
        pte |= _PAGE_RW
    if vm_flags & VM_EXEC:
        alloc.page_exec[pfn] = 1
    else:
        pte |= _PAGE_NX
    return pte


def handle_mm_fault(mm: "mm_struct", va: int, flags: int) -> None:
    vma = mm.find_vma(va)
    if vma is None:
        vmstat.pgfault_segv += 1
        raise Segv(SEGV_MAPERR)
    vf = vma.vm_flags
    if flags & FAULT_WRITE:
        if not vf & VM_WRITE:
            vmstat.pgfault_segv += 1
            raise Segv(SEGV_ACCERR)
    elif flags & FAULT_EXEC:
        if not vf & VM_EXEC:
            vmstat.pgfault_segv += 1
            raise Segv(SEGV_ACCERR)
    elif not vf & (VM_READ | VM_WRITE | VM_EXEC):
        vmstat.pgfault_segv += 1
        raise Segv(SEGV_ACCERR)
    pt = mm.pt
    idx = pt.pte_index(va, True)
    pte = pt.q[idx]
    if pte & _PAGE_PROTNONE:
        # Back from PROT_NONE: the frame was kept, make it visible again.
        pte = (pte & ~_PAGE_PROTNONE) | _PAGE_PRESENT
        pt.q[idx] = pte
    if not pte & _PAGE_PRESENT:
        do_pte_missing(mm, vma, idx, va, flags)
    elif flags & FAULT_WRITE and not pte & _PAGE_RW:
        do_wp_page(mm, vma, idx, pte)
    # else: the TLB held a stale entry; the caller's flush is the fix.


def do_pte_missing(mm: "mm_struct", vma: "vm_area_struct", idx: int, va: int, flags: int) -> None:
    alloc = mm.alloc
    q = mm.pt.q
    vf = vma.vm_flags
    write = flags & FAULT_WRITE
    pgoff = vma.vm_pgoff + ((va - vma.vm_start) >> 12)
    if vma.shm is not None:
        # MAP_SHARED: every mapper sees the one frame of the shared object.
        pfn = vma.shm.find_or_create(pgoff)
        alloc.page_ref[pfn] += 1
        alloc.page_mapcount[pfn] += 1
        q[idx] = mk_pte(alloc, pfn, vf, bool(vf & VM_WRITE))
        vmstat.pgfault_shared += 1
        return
    if vma.vm_file is not None:
        src = vma.vm_file.get_page(alloc, pgoff)
        if write:   # do_cow_fault: a private copy at once
            pfn = alloc.alloc_frame()
            alloc.machine.copy_frame(pfn, src)
            alloc.page_mapcount[pfn] += 1
            q[idx] = mk_pte(alloc, pfn, vf, True)
            vmstat.cow_copy += 1
        else:       # do_read_fault: the page-cache frame, read-only
            alloc.page_ref[src] += 1
            alloc.page_mapcount[src] += 1
            q[idx] = mk_pte(alloc, src, vf, False)
            vmstat.pgfault_file += 1
        return
    # do_anonymous_page
    if not write:
        q[idx] = ((alloc.zero_pfn << 12) | _PAGE_PRESENT | _PAGE_USER
                  | (0 if vf & VM_EXEC else _PAGE_NX))
        vmstat.pgfault_zero += 1
        return
    pfn = alloc.alloc_zeroed()
    alloc.page_mapcount[pfn] += 1
    q[idx] = mk_pte(alloc, pfn, vf, True)
    vmstat.pgfault_anon += 1


def do_wp_page(mm: "mm_struct", vma: "vm_area_struct", idx: int, pte: int) -> None:
    """A write to a present read-only PTE in a writable VMA: break CoW.
    Reuse the frame when this PTE holds its only reference, else copy."""
    alloc = mm.alloc
    q = mm.pt.q
    pfn = (pte & PTE_PFN_MASK) >> 12
    if vma.shm is not None:
        q[idx] = pte | _PAGE_RW   # shared mapping made writable again (mprotect)
        return
    keep = pte & (_PAGE_NX | _PAGE_PRESENT | _PAGE_USER)
    if pfn == alloc.zero_pfn:
        new = alloc.alloc_zeroed()
        alloc.page_mapcount[new] += 1
        q[idx] = mk_pte(alloc, new, vma.vm_flags, True)
        vmstat.pgfault_anon += 1
        return
    if alloc.page_ref[pfn] == 1:
        if alloc.page_mapcount[pfn] != 1:
            raise BUG(f"do_wp_page: frame {pfn} ref 1 but mapcount {alloc.page_mapcount[pfn]}")
        q[idx] = (pte | _PAGE_RW) & ~_PAGE_SOFT_COW
        vmstat.cow_reuse += 1
        return
    new = alloc.alloc_frame()
    alloc.machine.copy_frame(new, pfn)
    alloc.page_mapcount[new] += 1
    if alloc.page_exec[pfn]:
        alloc.page_exec[new] = 1
    q[idx] = (new << 12) | keep | _PAGE_RW
    alloc.page_mapcount[pfn] -= 1
    alloc.put_page(pfn)
    vmstat.cow_copy += 1


def copy_page_range(dst: "mm_struct", src: "mm_struct", vma: "vm_area_struct") -> None:
    """fork: share every present page of `vma` with the child.  Private
    writable pages become read-only copy-on-write in both; the caller
    flushes the parent's TLB.  May raise OutOfMemory (table frames)."""
    alloc = src.alloc
    q = src.pt.q
    ref, mapc = alloc.page_ref, alloc.page_mapcount
    zero = alloc.zero_pfn
    cow = (vma.vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE
    for va, si, n in src.pt.pt_blocks(vma.vm_start, vma.vm_end, False):
        di = dst.pt.pte_index(va, True)
        for k in range(n):
            pte = q[si + k]
            if not pte & _MAPPED:
                continue
            pfn = (pte & PTE_PFN_MASK) >> 12
            if pfn != zero:
                ref[pfn] += 1
                mapc[pfn] += 1
            if cow and pte & _PAGE_RW:
                pte = (pte & ~_PAGE_RW) | _PAGE_SOFT_COW
                q[si + k] = pte
            q[di + k] = pte


def zap_page_range(mm: "mm_struct", start: int, end: int) -> None:
    """Unmap [start, end): drop each frame's mapping and reference.  The
    caller flushes the TLB if `mm` is live on a CPU."""
    alloc = mm.alloc
    q = mm.pt.q
    mapc = alloc.page_mapcount
    zero = alloc.zero_pfn
    for _va, i, n in mm.pt.pt_blocks(start, end, False):
        for k in range(i, i + n):
            pte = q[k]
            if not pte & _MAPPED:
                continue
            q[k] = 0
            pfn = (pte & PTE_PFN_MASK) >> 12
            if pfn != zero:
                mapc[pfn] -= 1
                alloc.put_page(pfn)


def change_protection(mm: "mm_struct", start: int, end: int, vm_flags: int) -> None:
    """mprotect: rewrite the PTEs of [start, end) for `vm_flags`.  Write
    permission is never granted here; a later write fault decides between
    reuse and copy (private) or sets it (shared)."""
    q = mm.pt.q
    alloc = mm.alloc
    for _va, i, n in mm.pt.pt_blocks(start, end, False):
        for k in range(i, i + n):
            pte = q[k]
            if not pte & _MAPPED:
                continue
            pte = (pte & ~(_PAGE_RW | _PAGE_PROTNONE)) | _PAGE_PRESENT
            if vm_flags & VM_EXEC:
                pte &= ~_PAGE_NX
                alloc.page_exec[(pte & PTE_PFN_MASK) >> 12] = 1
            else:
                pte |= _PAGE_NX
            if not vm_flags & (VM_READ | VM_WRITE | VM_EXEC):
                # PROT_NONE: keep the frame, but no user access at all.
                pte &= ~_PAGE_PRESENT
                pte |= _PAGE_PROTNONE
            q[k] = pte
