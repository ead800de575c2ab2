"""mm_struct and its VMAs: find_vma, get_unmapped_area, do_mmap, do_munmap,
brk, mprotect, madvise, dup_mmap (fork) and mmput (exit).

VMAs are kept sorted by vm_start, never overlapping, in mm.vmas with a
parallel list of starts for bisection.  Callers that change PTEs of a live
mm flush its TLB with mm.flush_tlb().
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from emu.paging import PAGE_SIZE, PTE_PFN_MASK, USER_TOP

from ..panic import BUG, Errno
from ..uapi import EACCES, EINVAL, ENOMEM, RLIMIT_AS, RLIMIT_DATA
from .memory import (
    _MAPPED, VM_EXEC, VM_GROWSDOWN, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_SHARED,
    VM_WRITE, change_protection, copy_page_range, zap_page_range,
)
from .page_alloc import MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, NR_MM_COUNTERS
from .pgtable import PageTables

if TYPE_CHECKING:
    from ..fs.inode import Inode
    from .page_alloc import FrameAllocator

TASK_SIZE = USER_TOP - PAGE_SIZE       # 0x7ffffffff000, as on Linux
STACK_TOP = TASK_SIZE
MMAP_BASE = TASK_SIZE - (128 << 20)   # mmap_base() for the default stack limit
STACK_GUARD_GAP = 256 * PAGE_SIZE


def stack_layout(rlim_stack: int) -> tuple[int, int]:
    """(mmap_base, stack size) for a new program under RLIMIT_STACK
    `rlim_stack` (mmap_base() without randomisation): the gap kept for
    the stack is the limit plus the guard gap, at least 128 MiB and at
    most 5/6 of the address space; the stack may use all of it but the
    guard gap, and no more than the limit (acct_stack_growth)."""
    gap = min(max(rlim_stack + STACK_GUARD_GAP, 128 << 20), TASK_SIZE // 6 * 5)
    base = page_align(TASK_SIZE - gap)
    size = min(rlim_stack, gap - STACK_GUARD_GAP) & ~(PAGE_SIZE - 1)
    return base, max(size, 32 * PAGE_SIZE)
MMAP_MIN_ADDR = 0x10000


def page_align(x: int) -> int:
    return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


class ShmemObject:
    """Frames of a MAP_SHARED anonymous mapping, shared by every VMA that
    maps it (across fork).  Holds one reference on each frame; `users`
    counts the VMAs."""

    def __init__(self, alloc: "FrameAllocator") -> None:
        self.alloc = alloc
        self.pages: dict[int, int] = {}
        self.users = 0

    def find_or_create(self, pgoff: int) -> int:
        pfn = self.pages.get(pgoff)
        if pfn is None:
            pfn = self.alloc.alloc_zeroed()
            self.alloc.page_kind[pfn] = MM_SHMEMPAGES
            self.pages[pgoff] = pfn
        return pfn

    def get(self) -> "ShmemObject":
        self.users += 1
        return self

    def put(self) -> None:
        self.users -= 1
        if self.users == 0:
            for pfn in self.pages.values():
                self.alloc.put_page(pfn)
            self.pages.clear()


@dataclass(eq=False, slots=True)
class vm_area_struct:
    vm_start: int
    vm_end: int
    vm_flags: int
    vm_pgoff: int = 0
    vm_file: Optional["Inode"] = None
    shm: Optional[ShmemObject] = None
    name: str = ""

    def get_refs(self) -> None:
        """Take the references this VMA holds (dropped by put_refs)."""
        if self.vm_file is not None:
            self.vm_file.get()
        if self.shm is not None:
            self.shm.get()

    def put_refs(self) -> None:
        if self.vm_file is not None:
            self.vm_file.put()
        if self.shm is not None:
            self.shm.put()


def is_data_mapping(vm_flags: int) -> bool:
    """Private, writable and not the stack: counted in data_vm."""
    return vm_flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN) == VM_WRITE


def _current_rlimits() -> Optional[list]:
    """The running task's resource limits, None outside a task (unit
    tests, boot)."""
    from ..percpu import current
    try:
        tsk = current()
    except AttributeError:
        return None
    return tsk.signal.rlim if tsk is not None and tsk.signal is not None else None


def prot_to_vm_flags(prot: int) -> int:
    f = 0
    if prot & 1:
        f |= VM_READ
    if prot & 2:
        f |= VM_WRITE
    if prot & 4:
        f |= VM_EXEC
    return f


@dataclass(eq=False, slots=True)
class mm_struct:
    alloc: "FrameAllocator"
    pt: PageTables
    vmas: list = field(default_factory=list)
    starts: list = field(default_factory=list)
    mm_users: int = 1
    start_code: int = 0
    end_code: int = 0
    start_data: int = 0
    end_data: int = 0
    start_brk: int = 0
    brk: int = 0
    start_stack: int = 0
    arg_start: int = 0
    arg_end: int = 0
    env_start: int = 0
    env_end: int = 0
    mmap_base: int = MMAP_BASE
    exe_file: Optional["Inode"] = None
    exe_path: str = ""
    # Resident pages by kind (rss_stat, indexed by MM_FILEPAGES ...), kept
    # by add_mm_counter wherever a PTE gains or loses a frame; the high
    # water marks of RSS and of total_vm (VmHWM, VmPeak) move with them.
    rss_stat: list = field(default_factory=lambda: [0] * NR_MM_COUNTERS)
    hiwater_rss: int = 0
    hiwater_vm: int = 0
    # CPUs on which this address space is loaded (their TLBs cache it).
    cpus: set = field(default_factory=set)
    on_tlb_flush: Optional[Callable[["mm_struct"], None]] = None

    # --- VMA list -------------------------------------------------------
    def find_vma(self, va: int) -> Optional[vm_area_struct]:
        """The VMA containing va, or None."""
        i = bisect.bisect_right(self.starts, va) - 1
        if i >= 0:
            vma = self.vmas[i]
            if va < vma.vm_end:
                return vma
        return None

    def insert_vma(self, vma: vm_area_struct) -> None:
        i = bisect.bisect_left(self.starts, vma.vm_start)
        if (i > 0 and self.vmas[i - 1].vm_end > vma.vm_start) or (
                i < len(self.vmas) and self.vmas[i].vm_start < vma.vm_end):
            raise BUG(f"insert_vma: {vma.vm_start:#x}-{vma.vm_end:#x} overlaps")
        self.vmas.insert(i, vma)
        self.starts.insert(i, vma.vm_start)

    def overlapping(self, start: int, end: int) -> list[vm_area_struct]:
        i = max(bisect.bisect_right(self.starts, start) - 1, 0)
        out = []
        for vma in self.vmas[i:]:
            if vma.vm_start >= end:
                break
            if vma.vm_end > start:
                out.append(vma)
        return out

    def split_vma(self, vma: vm_area_struct, addr: int) -> vm_area_struct:
        """Split at addr; returns the new upper part (already inserted)."""
        if not vma.vm_start < addr < vma.vm_end:
            raise BUG("split_vma: address outside the vma")
        upper = vm_area_struct(addr, vma.vm_end, vma.vm_flags,
                               vma.vm_pgoff + ((addr - vma.vm_start) >> 12),
                               vma.vm_file, vma.shm, vma.name)
        upper.get_refs()
        vma.vm_end = addr
        self.insert_vma(upper)
        return upper

    def flush_tlb(self) -> None:
        if self.cpus and self.on_tlb_flush is not None:
            self.on_tlb_flush(self)

    # --- accounting -----------------------------------------------------
    def total_vm(self) -> int:
        """Pages mapped by every VMA (mm->total_vm)."""
        return sum(v.vm_end - v.vm_start for v in self.vmas) >> 12

    def add_mm_counter(self, member: int, value: int) -> None:
        self.rss_stat[member] += value
        if value > 0:
            rss = self.get_mm_rss()
            if rss > self.hiwater_rss:
                self.hiwater_rss = rss

    def get_mm_counter(self, member: int) -> int:
        return self.rss_stat[member]

    def get_mm_rss(self) -> int:
        """Resident pages (MM_FILEPAGES + MM_ANONPAGES + MM_SHMEMPAGES),
        from the counters."""
        r = self.rss_stat
        return r[MM_FILEPAGES] + r[MM_ANONPAGES] + r[MM_SHMEMPAGES]

    def walk_mm_rss(self) -> int:
        """Resident pages counted by walking the tables: PTEs holding a
        frame other than the zero page (--check compares it with the
        counters)."""
        q = self.pt.q
        zero = self.alloc.zero_pfn
        n = 0
        for vma in self.vmas:
            for _va, i, k in self.pt.pt_blocks(vma.vm_start, vma.vm_end, False):
                for pte in q[i:i + k]:
                    if pte & _MAPPED and (pte & PTE_PFN_MASK) >> 12 != zero:
                        n += 1
        return n

    def data_vm(self) -> int:
        """Pages of private writable non-stack VMAs (mm->data_vm)."""
        return sum(v.vm_end - v.vm_start for v in self.vmas if is_data_mapping(v.vm_flags)) >> 12

    def count_vma_pages_range(self, start: int, end: int) -> int:
        return sum(min(end, v.vm_end) - max(start, v.vm_start)
                   for v in self.overlapping(start, end)) >> 12

    def may_expand_vm(self, vm_flags: int, npages: int) -> bool:
        """mm/mmap.c may_expand_vm: would `npages` more stay within the
        current task's RLIMIT_AS (all mappings) and RLIMIT_DATA (private
        writable ones)?"""
        rlim = _current_rlimits()
        if rlim is None or npages <= 0:
            return True
        if self.total_vm() + npages > rlim[RLIMIT_AS][0] >> 12:
            return False
        if is_data_mapping(vm_flags):
            data = rlim[RLIMIT_DATA]
            if self.data_vm() + npages > data[0] >> 12:
                # Valgrind's workaround: a zero soft limit means the hard one.
                return data[0] == 0 and self.data_vm() + npages <= data[1] >> 12
        return True

    # --- address-space operations ---------------------------------------
    def get_unmapped_area(self, length: int) -> int:
        """Top-down search below mmap_base, as arch_get_unmapped_area_topdown."""
        hi = self.mmap_base
        for vma in reversed(self.vmas):
            if vma.vm_start >= hi:
                continue
            if vma.vm_end <= hi - length:
                return hi - length
            hi = vma.vm_start
        if hi - length >= MMAP_MIN_ADDR:
            return hi - length
        raise Errno(ENOMEM)

    def do_munmap(self, start: int, length: int) -> None:
        end = start + length
        for vma in self.overlapping(start, end):
            if vma.vm_start < start:
                vma = self.split_vma(vma, start)
            if vma.vm_end > end:
                self.split_vma(vma, end)
            zap_page_range(self, vma.vm_start, vma.vm_end)
            i = self.vmas.index(vma)
            del self.vmas[i]
            del self.starts[i]
            vma.put_refs()
        self.flush_tlb()

    def do_mmap(self, addr: int, length: int, vm_flags: int, fixed: bool,
                file: Optional["Inode"] = None, pgoff: int = 0,
                shm: Optional[ShmemObject] = None, name: str = "",
                maywrite: bool = True) -> int:
        """Map [addr, addr+length) (length page-aligned, non-zero).  With
        `fixed`, whatever was there is unmapped first.  Takes a reference
        on file and shm for the new VMA.  Returns the address."""
        if fixed:
            if addr + length > TASK_SIZE or addr < 0:
                raise Errno(ENOMEM)
            # mmap_region: pages it replaces do not count against the limits.
            replaced = self.count_vma_pages_range(addr, addr + length)
            if not self.may_expand_vm(vm_flags, (length >> 12) - replaced):
                raise Errno(ENOMEM)
            self.do_munmap(addr, length)
        else:
            if not (addr >= MMAP_MIN_ADDR and addr + length <= TASK_SIZE
                    and not self.overlapping(addr, addr + length)):
                addr = self.get_unmapped_area(length)   # no hint, or it is taken
            if not self.may_expand_vm(vm_flags, length >> 12):
                raise Errno(ENOMEM)
        # A shared map of a file not open for writing may never become
        # writable (mprotect: EACCES).
        vm_flags |= VM_MAYREAD | (VM_MAYWRITE if maywrite else 0) | VM_MAYEXEC
        vma = vm_area_struct(addr, addr + length, vm_flags, pgoff, file, shm, name)
        vma.get_refs()
        self.insert_vma(vma)
        self.hiwater_vm = max(self.hiwater_vm, self.total_vm())
        return addr

    def mprotect(self, start: int, end: int, vm_flags: int) -> None:
        # The whole range must be mapped, without holes (else ENOMEM).
        cur = start
        for vma in self.overlapping(start, end):
            if vma.vm_start > cur:
                raise Errno(ENOMEM)
            cur = vma.vm_end
        if cur < end:
            raise Errno(ENOMEM)
        if vm_flags & VM_WRITE and any(not v.vm_flags & VM_MAYWRITE
                                       for v in self.overlapping(start, end)):
            raise Errno(EACCES)
        for vma in self.overlapping(start, end):
            if vma.vm_start < start:
                vma = self.split_vma(vma, start)
            if vma.vm_end > end:
                self.split_vma(vma, end)
            keep = vma.vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)
            vma.vm_flags = keep | vm_flags
            change_protection(self, vma.vm_start, vma.vm_end, vma.vm_flags)
        self.merge_adjacent()
        self.flush_tlb()

    def merge_adjacent(self) -> None:
        """Join neighbouring anonymous private VMAs with equal flags (as
        vma_merge does), so mprotect back and forth leaves one VMA."""
        i = 0
        while i + 1 < len(self.vmas):
            a, b = self.vmas[i], self.vmas[i + 1]
            if (a.vm_end == b.vm_start and a.vm_flags == b.vm_flags and a.vm_file is None
                    and b.vm_file is None and a.shm is None and b.shm is None
                    and a.name == b.name):
                a.vm_end = b.vm_end
                del self.vmas[i + 1]
                del self.starts[i + 1]
            else:
                i += 1

    def do_brk(self, brk: int) -> int:
        """sys_brk: move the break; on failure the old break is returned."""
        if brk < self.start_brk:
            return self.brk
        rlim = _current_rlimits()
        if rlim is not None and (brk - self.start_brk) + (self.end_data - self.start_data) \
                > rlim[RLIMIT_DATA][0]:
            return self.brk             # check_data_rlimit
        newbrk, oldbrk = page_align(brk), page_align(self.brk)
        if newbrk == oldbrk:
            self.brk = brk
            return brk
        if brk <= self.brk:
            self.do_munmap(newbrk, oldbrk - newbrk)
            self.brk = brk
            return brk
        if newbrk > TASK_SIZE or self.overlapping(oldbrk, newbrk + PAGE_SIZE):
            return self.brk
        if not self.may_expand_vm(VM_READ | VM_WRITE, (newbrk - oldbrk) >> 12):
            return self.brk
        if (newbrk - oldbrk) >> 12 > self.alloc.machine.nr_frames:
            return self.brk             # __vm_enough_memory: more than all of RAM
        heap = self.find_vma(oldbrk - 1) if oldbrk > self.start_brk else None
        if heap is not None and heap.name == "[heap]" and heap.vm_end == oldbrk:
            heap.vm_end = newbrk
            self.hiwater_vm = max(self.hiwater_vm, self.total_vm())
        else:
            self.do_mmap(oldbrk, newbrk - oldbrk, VM_READ | VM_WRITE, True, name="[heap]")
        self.brk = brk
        return brk

    def madvise_dontneed(self, start: int, end: int, free: bool = False) -> None:
        """MADV_DONTNEED (and MADV_FREE, done at once: there is no
        reclaim to defer to): drop the pages; private ones refault as zero
        or from the file, shared ones from the object.  EINVAL on locked
        VMAs, and MADV_FREE on anything but private anonymous memory."""
        for vma in self.overlapping(start, end):
            if vma.vm_flags & 0x2000 or (free and (vma.vm_file is not None or vma.shm is not None
                                                   or vma.vm_flags & VM_SHARED)):
                raise Errno(EINVAL)
        cur = start
        holes = False
        for vma in self.overlapping(start, end):
            holes |= vma.vm_start > cur
            zap_page_range(self, max(start, vma.vm_start), min(end, vma.vm_end))
            cur = vma.vm_end
        self.flush_tlb()
        if holes or cur < end:
            raise Errno(ENOMEM)

    # --- whole-mm life cycle --------------------------------------------
    def dup_mmap(self, kernel_pml4e: int) -> "mm_struct":
        """fork: a new mm sharing every page copy-on-write.  On failure
        (OutOfMemory) nothing of the new mm is left allocated."""
        new = mm_struct(self.alloc, PageTables(self.alloc, kernel_pml4e))
        for name in ("start_code", "end_code", "start_data", "end_data", "start_brk", "brk",
                     "start_stack", "arg_start", "arg_end", "env_start", "env_end",
                     "mmap_base", "exe_path"):
            setattr(new, name, getattr(self, name))
        new.on_tlb_flush = self.on_tlb_flush
        new.hiwater_vm = self.total_vm()
        new.exe_file = self.exe_file.get() if self.exe_file is not None else None
        try:
            for vma in self.vmas:
                # mlock is not inherited (VM_LOCKED, 0x2000).
                copy = vm_area_struct(vma.vm_start, vma.vm_end, vma.vm_flags & ~0x2000,
                                      vma.vm_pgoff, vma.vm_file, vma.shm, vma.name)
                copy.get_refs()
                new.vmas.append(copy)
                new.starts.append(copy.vm_start)
                copy_page_range(new, self, vma)
            new.hiwater_rss = new.get_mm_rss()
        except BaseException:
            new.exit_mmap()
            raise
        self.flush_tlb()  # the parent's writable pages just became read-only
        return new

    def exit_mmap(self) -> None:
        """Tear down every mapping and the page tables; frames go back."""
        for vma in self.vmas:
            zap_page_range(self, vma.vm_start, vma.vm_end)
            vma.put_refs()
        self.vmas.clear()
        self.starts.clear()
        self.pt.free_tables()
        if self.exe_file is not None:
            self.exe_file.put()
            self.exe_file = None

    def mmget(self) -> "mm_struct":
        self.mm_users += 1
        return self

    def mmput(self) -> None:
        """Drop a user; the last one tears the address space down."""
        self.mm_users -= 1
        if self.mm_users == 0:
            self.exit_mmap()


def new_mm(alloc: "FrameAllocator", kernel_pml4e: int,
           on_tlb_flush: Optional[Callable[[mm_struct], None]]) -> mm_struct:
    mm = mm_struct(alloc, PageTables(alloc, kernel_pml4e))
    mm.on_tlb_flush = on_tlb_flush
    return mm


def check_range(addr: int, length: int) -> tuple[int, int]:
    """Validate a user range for munmap/mprotect/madvise: page-aligned
    start, non-zero length that stays in user space."""
    if addr & (PAGE_SIZE - 1):
        raise Errno(EINVAL)
    length = page_align(length)
    if addr + length > TASK_SIZE or addr + length < addr:
        raise Errno(EINVAL)
    return addr, addr + length
