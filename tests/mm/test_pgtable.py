"""PageTables: 4-level tables in emulated RAM (kernel/mm/pgtable.py)."""
from __future__ import annotations

import pytest

from emu.machine import Machine
from emu.paging import PTE_PFN_MASK, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER
from kernel.mm.page_alloc import FrameAllocator
from kernel.mm.pgtable import KERNEL_SLOT, PageTables

VA = 0x0000_5555_5555_4000          # a typical user address
TABLE_BITS = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER


@pytest.fixture
def env():
    machine = Machine(16 << 20)
    alloc = FrameAllocator(machine)
    before = alloc.nr_used()
    pt = PageTables(alloc, machine.kernel_pml4e)
    return machine, alloc, pt, before


def test_allocator_starts_with_only_the_zero_page(env):
    _machine, alloc, _pt, before = env
    assert before == 1
    assert alloc.page_ref[alloc.zero_pfn] == 1


def test_new_tables_hold_one_pml4_with_kernel_slot(env):
    machine, alloc, pt, before = env
    assert pt.nr_tables == 1
    assert alloc.nr_used() == before + 1
    assert pt.cr3 == pt.pgd << 12
    assert pt.q[(pt.pgd << 9) + KERNEL_SLOT] == machine.kernel_pml4e
    assert machine.kernel_pml4e & _PAGE_PRESENT
    # Every user slot of a fresh PML4 is empty.
    assert all(pt.q[(pt.pgd << 9) + s] == 0 for s in range(KERNEL_SLOT))
    assert alloc.page_ref[pt.pgd] == 1


def test_pte_index_without_create_does_not_allocate(env):
    _machine, alloc, pt, _before = env
    used = alloc.nr_used()
    assert pt.pte_index(VA, False) == -1
    assert pt.get_pte(VA) == 0
    assert pt.nr_tables == 1
    assert alloc.nr_used() == used


def test_pte_index_creates_intermediate_tables(env):
    _machine, alloc, pt, _before = env
    used = alloc.nr_used()
    i = pt.pte_index(VA, True)
    assert i >= 0
    assert pt.nr_tables == 4                    # PDPT, PD, PT
    assert alloc.nr_used() == used + 3
    # Walk by hand: each level present|rw|user, and the index lands in the PT.
    q = pt.q
    e4 = q[(pt.pgd << 9) + ((VA >> 39) & 511)]
    e3 = q[((e4 & PTE_PFN_MASK) >> 3) + ((VA >> 30) & 511)]
    e2 = q[((e3 & PTE_PFN_MASK) >> 3) + ((VA >> 21) & 511)]
    for e in (e4, e3, e2):
        assert e & TABLE_BITS == TABLE_BITS
        assert alloc.page_ref[(e & PTE_PFN_MASK) >> 12] == 1
    assert i == ((e2 & PTE_PFN_MASK) >> 3) + ((VA >> 12) & 511)
    # The new leaf is empty: unmapped reads as 0.
    assert q[i] == 0
    assert pt.get_pte(VA) == 0
    # Same lookup again: the same slot, nothing new.
    assert pt.pte_index(VA, True) == i
    assert pt.pte_index(VA, False) == i
    assert pt.nr_tables == 4


def test_neighbour_in_same_2mib_shares_tables(env):
    _machine, alloc, pt, _before = env
    i = pt.pte_index(VA, True)
    used = alloc.nr_used()
    j = pt.pte_index(VA + 0x1000, True)
    assert j == i + 1
    base = VA & ~0x1F_FFFF
    assert pt.pte_index(base, True) == i - ((VA - base) >> 12)
    assert pt.pte_index(base + 0x1F_F000, True) == i - ((VA - base) >> 12) + 511
    assert pt.nr_tables == 4
    assert alloc.nr_used() == used


def test_other_2mib_and_1gib_and_512gib_need_more_tables(env):
    _machine, _alloc, pt, _before = env
    pt.pte_index(VA, True)
    assert pt.nr_tables == 4
    # Another 2 MiB region within the same 1 GiB: one more PT.
    other_pt = (VA & ~0x1F_FFFF) ^ (1 << 21)
    pt.pte_index(other_pt, True)
    assert pt.nr_tables == 5
    # Another 1 GiB region within the same 512 GiB: a PD and a PT.
    other_pd = VA ^ (1 << 30)
    pt.pte_index(other_pd, True)
    assert pt.nr_tables == 7
    # Another 512 GiB region: PDPT, PD, PT.
    other_pml4 = VA ^ (1 << 39)
    pt.pte_index(other_pml4, True)
    assert pt.nr_tables == 10


def test_get_pte_reads_what_was_written(env):
    _machine, _alloc, pt, _before = env
    i = pt.pte_index(VA, True)
    pte = (0x123 << 12) | _PAGE_PRESENT | _PAGE_USER
    pt.q[i] = pte
    assert pt.get_pte(VA) == pte
    assert pt.get_pte(VA + 0x1000) == 0
    assert pt.get_pte(VA | 0xabc) == pte       # offset within the page ignored


def test_pt_blocks_split_at_2mib(env):
    _machine, _alloc, pt, _before = env
    start = 0x40_0000 - 0x3000                  # three pages below a 2 MiB boundary
    end = 0x40_0000 + 0x2000
    assert list(pt.pt_blocks(start, end, False)) == []
    blocks = list(pt.pt_blocks(start, end, True))
    assert [(va, n) for va, _i, n in blocks] == [(start, 3), (0x40_0000, 2)]
    assert blocks[0][1] == pt.pte_index(start, False)
    assert blocks[1][1] == pt.pte_index(0x40_0000, False)


def test_free_tables_returns_every_frame(env):
    _machine, alloc, pt, before = env
    for va in (VA, VA + 0x1000, VA ^ (1 << 21), VA ^ (1 << 30), VA ^ (1 << 39), 0x10000,
               0x7fff_ffff_f000):
        pt.pte_index(va, True)
    assert alloc.nr_used() == before + pt.nr_tables
    pgd = pt.pgd
    pt.free_tables()
    assert alloc.nr_used() == before == 1
    assert pt.nr_tables == 0
    assert pt.pgd == 0
    assert pt.q[(pgd << 9) + KERNEL_SLOT] == 0
    assert alloc.page_ref[pgd] == 0


def test_free_tables_of_fresh_tables(env):
    _machine, alloc, pt, before = env
    pt.free_tables()
    assert alloc.nr_used() == before


def test_frames_are_reused_after_free(env):
    machine, alloc, pt, before = env
    pt.pte_index(VA, True)
    pt.free_tables()
    pt2 = PageTables(alloc, machine.kernel_pml4e)
    # A reused frame comes back zeroed: no stale entries from pt.
    assert pt2.pte_index(VA, False) == -1
    assert all(pt2.q[(pt2.pgd << 9) + s] == 0 for s in range(KERNEL_SLOT))
    pt2.free_tables()
    assert alloc.nr_used() == before
