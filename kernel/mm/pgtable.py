"""Page tables in emulated RAM: allocation, walking and freeing of the
4-level x86-64 tables an mm_struct owns.  Entries are read and written as
qwords of physical memory (machine.qwords[pa >> 3]); the emulated MMU walks
the very same bytes.

Intermediate entries are always present|rw|user: the leaf PTE alone
decides access.  Table frames carry page_ref 1, owned by their mm.
"""
from __future__ import annotations

from itertools import compress
from typing import TYPE_CHECKING, Iterator

from emu.paging import PTE_PFN_MASK, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER

if TYPE_CHECKING:
    from .page_alloc import FrameAllocator

_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER
KERNEL_SLOT = 511


class PageTables:
    """The tables rooted at one PML4 frame."""

    __slots__ = ("alloc", "q", "pgd", "nr_tables")

    def __init__(self, alloc: "FrameAllocator", kernel_pml4e: int) -> None:
        self.alloc = alloc
        self.q = alloc.machine.qwords
        self.pgd = alloc.alloc_zeroed()       # pgd_alloc
        self.q[(self.pgd << 9) + KERNEL_SLOT] = kernel_pml4e
        self.nr_tables = 1

    @property
    def cr3(self) -> int:
        return self.pgd << 12

    def pte_index(self, va: int, create: bool) -> int:
        """qword index of va's PTE, or -1 if a table is missing and not
        `create`.  May raise OutOfMemory when creating."""
        q = self.q
        i = (self.pgd << 9) | ((va >> 39) & 511)
        for shift in (30, 21):
            e = q[i]
            if not e & 1:
                if not create:
                    return -1
                e = self._new_table(i)
            i = ((e & PTE_PFN_MASK) >> 3) | ((va >> shift) & 511)
        e = q[i]
        if not e & 1:
            if not create:
                return -1
            e = self._new_table(i)
        return ((e & PTE_PFN_MASK) >> 3) | ((va >> 12) & 511)

    def _new_table(self, slot: int) -> int:
        pfn = self.alloc.alloc_zeroed()
        self.nr_tables += 1
        e = (pfn << 12) | _TABLE
        self.q[slot] = e
        return e

    def get_pte(self, va: int) -> int:
        i = self.pte_index(va, False)
        return self.q[i] if i >= 0 else 0

    def pt_blocks(self, start: int, end: int, create: bool) -> Iterator[tuple[int, int, int]]:
        """Yield (va, first_index, count) for each page-table page covering
        [start, end): PTEs va.. are q[first_index : first_index+count].
        Ranges whose table is missing are skipped unless `create`."""
        va = start
        while va < end:
            block_end = min((va | 0x1F_FFFF) + 1, end)
            i = self.pte_index(va, create)
            if i >= 0:
                yield va, i, (block_end - va) >> 12
            else:
                # Skip all the missing table would map, not 2 MiB at a time:
                # a 64 TiB mapping with a few pages touched is a few steps.
                block_end = min((va | (self.hole_size(va) - 1)) + 1, end)
            va = block_end

    def hole_size(self, va: int) -> int:
        """For a va with no PTE table: the size of the aligned region the
        first missing entry would map (512 GiB, 1 GiB or 2 MiB)."""
        q = self.q
        i = (self.pgd << 9) | ((va >> 39) & 511)
        for shift in (39, 30, 21):
            e = q[i]
            if not e & 1:
                return 1 << shift
            i = ((e & PTE_PFN_MASK) >> 3) | ((va >> (shift - 9)) & 511)
        return 1 << 21

    def free_tables(self) -> None:
        """Free every user table frame and the PML4 (pgd_free).  Leaf PTEs
        must already be cleared (zapped) by the caller."""
        q, alloc = self.q, self.alloc
        base4 = self.pgd << 9
        # Each level is read as one list (a table page is 512 qwords) and
        # only the present entries are visited: a small process has a
        # handful of tables among 3 x 512 slots.
        for s4, e4 in _present(q, base4, KERNEL_SLOT):
            pdpt = (e4 & PTE_PFN_MASK) >> 12
            for _s3, e3 in _present(q, pdpt << 9, 512):
                pd = (e3 & PTE_PFN_MASK) >> 12
                for _s2, e2 in _present(q, pd << 9, 512):
                    alloc.put_page((e2 & PTE_PFN_MASK) >> 12)
                alloc.put_page(pd)
            alloc.put_page(pdpt)
            q[base4 + s4] = 0
        q[base4 + KERNEL_SLOT] = 0
        alloc.put_page(self.pgd)
        self.nr_tables = 0
        self.pgd = 0


def _present(q: memoryview, base: int, n: int) -> list[tuple[int, int]]:
    """(slot, entry) for the present entries among q[base:base+n]: the
    non-zero ones are picked out in C (compress), then tested."""
    ents = q[base:base + n].tolist()
    return [(i, ents[i]) for i in compress(range(n), ents) if ents[i] & 1]
