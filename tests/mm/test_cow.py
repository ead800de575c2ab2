"""Copy-on-write across dup_mmap (fork), the zero page, MAP_SHARED, and
that exit_mmap gives every frame back (kernel/mm/memory.py, mmap.py)."""
from __future__ import annotations

import pytest

from emu.paging import PAGE_SIZE, PTE_PFN_MASK, _PAGE_PRESENT, _PAGE_RW, _PAGE_SOFT_COW
from kernel.main import boot
from kernel.mm.memory import FAULT_WRITE, VM_READ, VM_SHARED, VM_WRITE, Segv, handle_mm_fault
from kernel.mm.mmap import ShmemObject, new_mm
from kernel.panic import OutOfMemory
from kernel.state import Options, entered

RW = VM_READ | VM_WRITE


@pytest.fixture(scope="module")
def K():
    K = boot(Options(memory=64 << 20))
    with entered(K):       # the tests call kernel functions directly
        yield K


def _new(K):
    base = K.alloc.nr_used()
    return base, new_mm(K.alloc, K.machine.kernel_pml4e, None)


def _pfn(mm, va):
    return (mm.pt.get_pte(va) & PTE_PFN_MASK) >> 12


def _frame(K, pfn, n=PAGE_SIZE):
    return bytes(K.machine.mem[pfn << 12:(pfn << 12) + n])


def _write(K, pfn, data, off=0):
    K.machine.mem[(pfn << 12) + off:(pfn << 12) + off + len(data)] = data


def test_private_anonymous_cow(K):
    alloc = K.alloc
    base, parent = _new(K)
    va = parent.do_mmap(0, 4 * PAGE_SIZE, RW, False)
    assert parent.find_vma(va) is not None

    anon0 = K.vmstat.pgfault_anon
    handle_mm_fault(parent, va, FAULT_WRITE)
    handle_mm_fault(parent, va + PAGE_SIZE, FAULT_WRITE)
    assert K.vmstat.pgfault_anon == anon0 + 2
    pte = parent.pt.get_pte(va)
    assert pte & _PAGE_PRESENT and pte & _PAGE_RW
    pfn = _pfn(parent, va)
    assert pfn != alloc.zero_pfn
    assert alloc.page_ref[pfn] == 1 and alloc.page_mapcount[pfn] == 1
    assert _frame(K, pfn) == bytes(PAGE_SIZE)          # fresh anonymous memory is zeroed
    data = b"copy-on-write test pattern \x00\xff" * 8
    _write(K, pfn, data, 100)

    child = parent.dup_mmap(K.machine.kernel_pml4e)
    ppte, cpte = parent.pt.get_pte(va), child.pt.get_pte(va)
    assert ppte & _PAGE_PRESENT and cpte & _PAGE_PRESENT
    assert not ppte & _PAGE_RW and not cpte & _PAGE_RW
    assert ppte & _PAGE_SOFT_COW and cpte & _PAGE_SOFT_COW
    assert _pfn(parent, va) == _pfn(child, va) == pfn
    assert alloc.page_ref[pfn] == 2 and alloc.page_mapcount[pfn] == 2
    # Untouched pages stay unmapped in both.
    assert parent.pt.get_pte(va + 2 * PAGE_SIZE) == 0
    assert child.pt.get_pte(va + 2 * PAGE_SIZE) == 0
    assert [(v.vm_start, v.vm_end, v.vm_flags) for v in child.vmas] == \
        [(v.vm_start, v.vm_end, v.vm_flags) for v in parent.vmas]

    # Child writes: it gets a copy; the parent keeps the original.
    copy0, reuse0 = K.vmstat.cow_copy, K.vmstat.cow_reuse
    handle_mm_fault(child, va, FAULT_WRITE)
    assert K.vmstat.cow_copy == copy0 + 1
    assert K.vmstat.cow_reuse == reuse0
    cpfn = _pfn(child, va)
    assert cpfn != pfn
    assert child.pt.get_pte(va) & _PAGE_RW
    assert _frame(K, cpfn) == _frame(K, pfn)
    assert _frame(K, cpfn)[100:100 + len(data)] == data
    assert alloc.page_ref[pfn] == 1 and alloc.page_mapcount[pfn] == 1
    assert alloc.page_ref[cpfn] == 1 and alloc.page_mapcount[cpfn] == 1
    assert not parent.pt.get_pte(va) & _PAGE_RW       # parent untouched so far

    # Parent writes: last reference, so the frame is reused in place.
    handle_mm_fault(parent, va, FAULT_WRITE)
    assert K.vmstat.cow_reuse == reuse0 + 1
    assert K.vmstat.cow_copy == copy0 + 1
    assert _pfn(parent, va) == pfn
    assert parent.pt.get_pte(va) & _PAGE_RW
    assert not parent.pt.get_pte(va) & _PAGE_SOFT_COW
    # The two are now independent.
    _write(K, pfn, b"parent")
    _write(K, cpfn, b"child!")
    assert _frame(K, pfn, 6) == b"parent" and _frame(K, cpfn, 6) == b"child!"

    # The second page is still shared CoW: the parent writing first copies.
    pfn2 = _pfn(parent, va + PAGE_SIZE)
    assert alloc.page_ref[pfn2] == 2
    handle_mm_fault(parent, va + PAGE_SIZE, FAULT_WRITE)
    assert K.vmstat.cow_copy == copy0 + 2
    assert _pfn(parent, va + PAGE_SIZE) != pfn2
    assert _pfn(child, va + PAGE_SIZE) == pfn2
    assert alloc.page_ref[pfn2] == 1

    child.exit_mmap()
    parent.exit_mmap()
    assert alloc.nr_used() == base


def test_read_fault_maps_zero_page(K):
    alloc = K.alloc
    base, mm = _new(K)
    va = mm.do_mmap(0, 2 * PAGE_SIZE, RW, False)
    zref = alloc.page_ref[alloc.zero_pfn]
    zero0 = K.vmstat.pgfault_zero
    handle_mm_fault(mm, va, 0)
    assert K.vmstat.pgfault_zero == zero0 + 1
    pte = mm.pt.get_pte(va)
    assert pte & _PAGE_PRESENT
    assert not pte & _PAGE_RW
    assert _pfn(mm, va) == alloc.zero_pfn
    assert alloc.page_ref[alloc.zero_pfn] == zref           # never refcounted
    assert _frame(K, alloc.zero_pfn) == bytes(PAGE_SIZE)

    # fork with the zero page mapped: both still map it, no refcounts.
    child = mm.dup_mmap(K.machine.kernel_pml4e)
    assert _pfn(child, va) == alloc.zero_pfn
    assert alloc.page_ref[alloc.zero_pfn] == zref

    # A write then gets a fresh zeroed frame, the zero page stays zero.
    anon0 = K.vmstat.pgfault_anon
    handle_mm_fault(child, va, FAULT_WRITE)
    assert K.vmstat.pgfault_anon == anon0 + 1
    pfn = _pfn(child, va)
    assert pfn != alloc.zero_pfn
    assert child.pt.get_pte(va) & _PAGE_RW
    assert alloc.page_ref[pfn] == 1 and alloc.page_mapcount[pfn] == 1
    _write(K, pfn, b"not zero")
    assert _frame(K, alloc.zero_pfn) == bytes(PAGE_SIZE)
    assert _pfn(mm, va) == alloc.zero_pfn

    child.exit_mmap()
    mm.exit_mmap()
    assert alloc.page_ref[alloc.zero_pfn] == zref
    assert alloc.nr_used() == base


def test_shared_mapping_stays_shared_across_fork(K):
    alloc = K.alloc
    base, parent = _new(K)
    shm = ShmemObject(alloc)
    va = parent.do_mmap(0, 2 * PAGE_SIZE, RW | VM_SHARED, False, shm=shm)
    assert shm.users == 1
    shared0 = K.vmstat.pgfault_shared
    handle_mm_fault(parent, va, FAULT_WRITE)
    assert K.vmstat.pgfault_shared == shared0 + 1
    pfn = _pfn(parent, va)
    assert parent.pt.get_pte(va) & _PAGE_RW
    assert alloc.page_ref[pfn] == 2            # the shmem object + one PTE
    assert alloc.page_mapcount[pfn] == 1
    _write(K, pfn, b"shared data")

    child = parent.dup_mmap(K.machine.kernel_pml4e)
    assert shm.users == 2
    for m in (parent, child):
        pte = m.pt.get_pte(va)
        assert pte & _PAGE_PRESENT and pte & _PAGE_RW
        assert not pte & _PAGE_SOFT_COW
        assert _pfn(m, va) == pfn
    assert alloc.page_ref[pfn] == 3 and alloc.page_mapcount[pfn] == 2

    # Writes fault nothing new: same frame in both.
    copy0, reuse0 = K.vmstat.cow_copy, K.vmstat.cow_reuse
    handle_mm_fault(child, va, FAULT_WRITE)
    handle_mm_fault(parent, va, FAULT_WRITE)
    assert _pfn(child, va) == _pfn(parent, va) == pfn
    assert (K.vmstat.cow_copy, K.vmstat.cow_reuse) == (copy0, reuse0)

    # A page first touched in the child after fork is the same frame too.
    handle_mm_fault(child, va + PAGE_SIZE, FAULT_WRITE)
    handle_mm_fault(parent, va + PAGE_SIZE, 0)
    assert _pfn(child, va + PAGE_SIZE) == _pfn(parent, va + PAGE_SIZE)
    assert parent.pt.get_pte(va + PAGE_SIZE) & _PAGE_RW

    child.exit_mmap()
    assert shm.users == 1
    assert alloc.page_ref[pfn] == 2 and alloc.page_mapcount[pfn] == 1
    assert _frame(K, pfn, 11) == b"shared data"
    parent.exit_mmap()
    assert shm.users == 0
    assert alloc.page_ref[pfn] == 0
    assert alloc.nr_used() == base


def test_write_fault_on_read_only_vma_is_segv(K):
    base, mm = _new(K)
    va = mm.do_mmap(0, PAGE_SIZE, VM_READ, False)
    with pytest.raises(Segv):
        handle_mm_fault(mm, va, FAULT_WRITE)
    with pytest.raises(Segv):
        handle_mm_fault(mm, va + PAGE_SIZE * 1000, 0)
    mm.exit_mmap()
    assert K.alloc.nr_used() == base


def test_dup_mmap_out_of_memory_leaves_nothing(K):
    alloc = K.alloc
    base, parent = _new(K)
    va = parent.do_mmap(0, 8 * PAGE_SIZE, RW, False)
    for k in range(8):
        handle_mm_fault(parent, va + k * PAGE_SIZE, FAULT_WRITE)
    # A second VMA far away needs its own tables in the child.
    va2 = parent.do_mmap(0x1000_0000, PAGE_SIZE, RW, True)
    handle_mm_fault(parent, va2, FAULT_WRITE)
    pfns = [_pfn(parent, va + k * PAGE_SIZE) for k in range(8)]
    used = alloc.nr_used()
    # Fail the 4th allocation from now: the child's PML4 and first tables
    # succeed, a later table fails.
    saved = alloc.fail_alloc
    alloc.fail_alloc = alloc.allocs + 4
    try:
        with pytest.raises(OutOfMemory):
            parent.dup_mmap(K.machine.kernel_pml4e)
    finally:
        alloc.fail_alloc = saved
    assert alloc.nr_used() == used
    for p in pfns:
        assert alloc.page_ref[p] == 1 and alloc.page_mapcount[p] == 1
    # The parent still works: writes reuse its frames.
    for k in range(8):
        handle_mm_fault(parent, va + k * PAGE_SIZE, FAULT_WRITE)
        assert _pfn(parent, va + k * PAGE_SIZE) == pfns[k]
    parent.exit_mmap()
    assert alloc.nr_used() == base
