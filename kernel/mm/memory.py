"""Page faults and page-table copying: handle_mm_fault, do_anonymous_page,
do_wp_page (copy-on-write), copy_page_range (fork), zap_page_range.

On entry to handle_mm_fault the faulting task's mm is the one given; on
return the PTE for `va` is present with the access allowed, or Segv was
raised.  The caller flushes the TLB before the access is retried.
"""
from __future__ import annotations

from functools import lru_cache
from itertools import compress
from typing import TYPE_CHECKING

from emu.paging import (
    PTE_PFN_MASK, _PAGE_NX, _PAGE_PRESENT, _PAGE_RW, _PAGE_SOFT_COW, _PAGE_USER,
)

from .. import state
from ..panic import BUG
from .page_alloc import MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES
from ..uapi import BUS_ADRERR, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGSEGV

if TYPE_CHECKING:
    from .mmap import mm_struct, vm_area_struct

_PAGE_PROTNONE = 1 << 11  # software bit: frame kept, not present to the MMU
_MAPPED = _PAGE_PRESENT | _PAGE_PROTNONE

VM_READ, VM_WRITE, VM_EXEC, VM_SHARED = 0x1, 0x2, 0x4, 0x8
VM_MAYREAD, VM_MAYWRITE, VM_MAYEXEC, VM_MAYSHARE = 0x10, 0x20, 0x40, 0x80
VM_GROWSDOWN, VM_DONTCOPY = 0x100, 0x20000

FAULT_WRITE, FAULT_EXEC = 1, 2

# What handle_mm_fault did.  Not present: a read of anonymous memory maps
# the zero page, a write a new zeroed page; a file page comes from the
# page cache (a private write copies it at once); MAP_SHARED maps the
# shared object's frame.  Present but read-only, written: CoW copy, or
# reuse when this PTE held the only reference; the zero page is replaced
# by a new page.  Spurious: the PTE already allowed it (stale TLB entry).
FAULT_RESOLUTIONS = ("zero-page", "anon-page", "page-cache", "file-cow-copy", "shmem",
                     "cow-copy", "cow-reuse", "zero-page-copy", "shmem-write", "spurious")


class Segv(Exception):
    """The access has no valid mapping: the task gets SIGSEGV with si_code
    (or `signo`, e.g. SIGBUS with BUS_ADRERR past the end of a file)."""

    def __init__(self, code: int, signo: int = SIGSEGV) -> None:
        super().__init__(code)
        self.code = code
        self.signo = signo


def mk_pte(alloc, pfn: int, vm_flags: int, writable: bool) -> int:
    pte = (pfn << 12) | _PAGE_PRESENT | _PAGE_USER
    if writable:
        pte |= _PAGE_RW
    if vm_flags & VM_EXEC:
        alloc.page_exec[pfn] = 1
    else:
        pte |= _PAGE_NX
    return pte


def handle_mm_fault(mm: "mm_struct", va: int, flags: int) -> str:
    """Resolve a fault at `va`: returns how, one of FAULT_RESOLUTIONS
    (the fault event's `how`), or raises Segv."""
    vmstat = state.K.vmstat
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
        return do_pte_missing(mm, vma, idx, va, flags)
    if flags & FAULT_WRITE and not pte & _PAGE_RW:
        return do_wp_page(mm, vma, idx, pte)
    # The TLB held a stale entry (or PROT_NONE was lifted): the caller's
    # flush is the fix.
    return "spurious"


def do_pte_missing(mm: "mm_struct", vma: "vm_area_struct", idx: int, va: int, flags: int) -> str:
    vmstat = state.K.vmstat
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
        mm.add_mm_counter(MM_SHMEMPAGES, 1)
        q[idx] = mk_pte(alloc, pfn, vf, bool(vf & VM_WRITE))
        vmstat.pgfault_shared += 1
        return "shmem"
    if vma.vm_file is not None:
        if pgoff >= (vma.vm_file.size + 0xFFF) >> 12:
            # Wholly past the end of the file (filemap_fault): SIGBUS.
            vmstat.pgfault_segv += 1
            raise Segv(BUS_ADRERR, SIGBUS)
        src = vma.vm_file.get_page(alloc, pgoff)
        if vf & VM_SHARED:
            # do_shared_fault: the page-cache frame itself, writable when
            # the VMA is; stores reach the file (filemap.py).
            alloc.page_ref[src] += 1
            alloc.page_mapcount[src] += 1
            mm.add_mm_counter(MM_FILEPAGES, 1)
            q[idx] = mk_pte(alloc, src, vf, bool(vf & VM_WRITE))
            vmstat.pgfault_shared += 1
            return
        if write:   # do_cow_fault: a private copy at once
            pfn = alloc.alloc_frame()
            alloc.machine.copy_frame(pfn, src)
            alloc.page_mapcount[pfn] += 1
            mm.add_mm_counter(MM_ANONPAGES, 1)
            q[idx] = mk_pte(alloc, pfn, vf, True)
            vmstat.cow_copy += 1
            return "file-cow-copy"
        else:       # do_read_fault: the page-cache frame, read-only
            alloc.page_ref[src] += 1
            alloc.page_mapcount[src] += 1
            mm.add_mm_counter(MM_FILEPAGES, 1)
            q[idx] = mk_pte(alloc, src, vf, False)
            vmstat.pgfault_file += 1
            return "page-cache"
    # do_anonymous_page
    if not write:
        q[idx] = ((alloc.zero_pfn << 12) | _PAGE_PRESENT | _PAGE_USER
                  | (0 if vf & VM_EXEC else _PAGE_NX))
        vmstat.pgfault_zero += 1
        return "zero-page"
    pfn = alloc.alloc_zeroed()
    alloc.page_mapcount[pfn] += 1
    mm.add_mm_counter(MM_ANONPAGES, 1)
    q[idx] = mk_pte(alloc, pfn, vf, True)
    vmstat.pgfault_anon += 1
    return "anon-page"


def do_wp_page(mm: "mm_struct", vma: "vm_area_struct", idx: int, pte: int) -> str:
    """A write to a present read-only PTE in a writable VMA: break CoW.
    Reuse the frame when this PTE holds its only reference, else copy."""
    vmstat = state.K.vmstat
    alloc = mm.alloc
    q = mm.pt.q
    pfn = (pte & PTE_PFN_MASK) >> 12
    if vma.shm is not None or vma.vm_flags & VM_SHARED:
        q[idx] = pte | _PAGE_RW   # shared mapping made writable again (mprotect)
        return "shmem-write"
    keep = pte & (_PAGE_NX | _PAGE_PRESENT | _PAGE_USER)
    if pfn == alloc.zero_pfn:
        new = alloc.alloc_zeroed()
        alloc.page_mapcount[new] += 1
        mm.add_mm_counter(MM_ANONPAGES, 1)
        q[idx] = mk_pte(alloc, new, vma.vm_flags, True)
        vmstat.pgfault_anon += 1
        return "zero-page-copy"
    if alloc.page_ref[pfn] == 1:
        if alloc.page_mapcount[pfn] != 1:
            raise BUG(f"do_wp_page: frame {pfn} ref 1 but mapcount {alloc.page_mapcount[pfn]}")
        q[idx] = (pte | _PAGE_RW) & ~_PAGE_SOFT_COW
        vmstat.cow_reuse += 1
        return "cow-reuse"
    new = alloc.alloc_frame()
    alloc.machine.copy_frame(new, pfn)
    alloc.page_mapcount[new] += 1
    if alloc.page_exec[pfn]:
        alloc.page_exec[new] = 1
    q[idx] = (new << 12) | keep | _PAGE_RW
    mm.add_mm_counter(MM_ANONPAGES, 1)
    mm.add_mm_counter(alloc.page_kind[pfn], -1)
    alloc.page_mapcount[pfn] -= 1
    alloc.put_page(pfn)
    vmstat.cow_copy += 1
    return "cow-copy"


# Whole page-table pages at a time.  fork and exit touch every PTE of an
# address space, so they read the n <= 512 entries of a table page as one
# Python int (entry k in bits 64k..64k+63, one slice of guest RAM), do the
# bit changes on that int, write it back in one slice, and get the frame
# numbers out as a list of small ints; only the refcount updates stay one
# list operation per frame.
_PFN_BITS = 40   # PTE_PFN_MASK is bits 12-51
_U64 = (1 << 64) - 1


@lru_cache(maxsize=None)
def _masks(n: int) -> tuple[int, int, int]:
    """For n entries: bit 0 of each, the pfn field (shifted down by 12) of
    each, and all 64 bits of each."""
    bit0 = sum(1 << (64 * k) for k in range(n))
    return bit0, bit0 * ((1 << _PFN_BITS) - 1), bit0 * ((1 << 64) - 1)


def _block(mem: memoryview, i: int, n: int) -> tuple[int, int]:
    """PTEs q[i:i+n] as one int, and the mask with bit 0 of every mapped
    entry (present, or PROT_NONE with its frame kept) set."""
    big = int.from_bytes(mem[i << 3:(i + n) << 3], "little")
    return big, (big | (big >> 11)) & _masks(n)[0]


def _mapped_pfns(big: int, mapped: int, n: int) -> list[int]:
    """Frame numbers of the mapped entries of a _block, in order."""
    bit0, pfn_field, _ = _masks(n)
    pfns = memoryview(((big >> 12) & pfn_field).to_bytes(n << 3, "little")).cast("Q").tolist()
    if mapped != bit0:
        keep = memoryview(mapped.to_bytes(n << 3, "little")).cast("Q").tolist()
        pfns = list(compress(pfns, keep))
    return pfns


def copy_page_range(dst: "mm_struct", src: "mm_struct", vma: "vm_area_struct") -> None:
    """fork: share every present page of `vma` with the child.  Private
    writable pages become read-only copy-on-write in both; the caller
    flushes the parent's TLB.  `dst` is a fresh mm (dup_mmap): its PTEs in
    the range are zero on entry.  May raise OutOfMemory (table frames),
    between two table pages, each of which is either done or untouched."""
    alloc = src.alloc
    mem = alloc.machine.mem
    ref, mapc = alloc.page_ref, alloc.page_mapcount
    zero = alloc.zero_pfn
    cow = (vma.vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE
    for va, si, n in src.pt.pt_blocks(vma.vm_start, vma.vm_end, False):
        big, mapped = _block(mem, si, n)
        if not mapped:
            continue
        di = dst.pt.pte_index(va, True)
        pfns = _mapped_pfns(big, mapped, n)
        rss = dst.rss_stat
        kind = alloc.page_kind
        for pfn in pfns:          # one more PTE maps each frame
            ref[pfn] += 1
            mapc[pfn] += 1
            rss[kind[pfn]] += 1
        nz = pfns.count(zero)     # ... except the zero page, never counted
        if nz:
            ref[zero] -= nz
            mapc[zero] -= nz
            rss[kind[zero]] -= nz
        if cow:
            rw = big & (mapped << 1)        # _PAGE_RW of the mapped entries
            if rw:
                # RW off, _PAGE_SOFT_COW (bit 9 = bit 1 << 8) on.
                big = (big ^ rw) | (rw << 8)
                mem[si << 3:(si + n) << 3] = big.to_bytes(n << 3, "little")
        mem[di << 3:(di + n) << 3] = (big & (mapped * _U64)).to_bytes(n << 3, "little")


def zap_page_range(mm: "mm_struct", start: int, end: int) -> None:
    """Unmap [start, end): drop each frame's mapping and reference.  The
    caller flushes the TLB if `mm` is live on a CPU."""
    alloc = mm.alloc
    mem = alloc.machine.mem
    ref, mapc = alloc.page_ref, alloc.page_mapcount
    zero = alloc.zero_pfn
    rss = mm.rss_stat
    kind = alloc.page_kind
    for _va, i, n in mm.pt.pt_blocks(start, end, False):
        big, mapped = _block(mem, i, n)
        if not mapped:
            continue
        pfns = _mapped_pfns(big, mapped, n)
        mem[i << 3:(i + n) << 3] = (big & ~(mapped * _U64)).to_bytes(n << 3, "little")
        for pfn in pfns:
            if pfn == zero:
                continue
            rss[kind[pfn]] -= 1
            # page_remove_rmap + put_page, inline: this loop runs once per
            # frame of every exiting process.
            mapc[pfn] -= 1
            r = ref[pfn] - 1
            if r > 0:
                ref[pfn] = r
            elif r == 0:
                ref[pfn] = 0
                alloc.free_frame(pfn)
            else:
                raise BUG(f"zap_page_range: frame {pfn} refcount underflow")


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
