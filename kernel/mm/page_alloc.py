"""The frame allocator: every physical frame the kernel hands out, with a
struct-page-like record kept as parallel lists indexed by pfn.

page_ref[pfn]      references: each PTE mapping it, plus kernel holders
                   (page cache, shmem objects, page-table ownership).
page_mapcount[pfn] PTEs mapping it.
page_kind[pfn]     which per-mm RSS counter a mapping of it counts in
                   (MM_FILEPAGES for page-cache frames, MM_SHMEMPAGES for
                   shared anonymous ones, MM_ANONPAGES otherwise): what
                   PageAnon/PageSwapBacked tell Linux's add_mm_counter.
A frame is free exactly when page_ref is 0 and it is on the free list.
The zero page is allocated once and never refcounted by its mappings.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..panic import BUG, OutOfMemory

# The per-mm RSS counters (mm_struct.rss_stat), in Linux's order.
MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES = 0, 1, 2, 3
NR_MM_COUNTERS = 4
PREZERO_BATCH = 256       # frames freed before the zeroing kworker is woken

if TYPE_CHECKING:
    from emu.machine import Machine


class FrameAllocator:
    def __init__(self, machine: "Machine", fail_alloc: int = 0) -> None:
        self.machine = machine
        n = machine.nr_frames
        self.nr_frames = n
        self.page_ref = [0] * n
        self.page_mapcount = [0] * n
        # Frames once mapped executable: their translated code must be
        # dropped before they hold anything else (see free_frame).
        self.page_exec = bytearray(n)
        self.page_kind = bytearray(b"\x01") * n     # MM_ANONPAGES until told
        # Hand out low frames first: pop() from the end of a reversed list.
        self.free_list = list(range(n - 1, machine.first_free_pfn - 1, -1))
        # Free frames known to hold zeroes (cleared by the zeroing kworker,
        # mm/prezero.py): alloc_zeroed takes these first, alloc_frame last.
        self.free_zeroed: list[int] = []
        self.nr_dirty_freed = 0       # frames freed since the kworker last ran
        self.on_dirty = None          # called when enough are (wakes the kworker)
        self.pgzero_hit = 0           # zeroed allocations served by such a frame
        self.nr_free_at_boot = len(self.free_list)
        self.allocs = 0
        self.fail_alloc = fail_alloc  # fault injection: the N-th allocation fails
        self.limit = n                # frames the guest may hold (--memory)
        self.tb_dirty = False         # an exec frame was freed: flush translations
        self.zero_pfn = self.alloc_frame()  # held forever

    def nr_used(self) -> int:
        return self.nr_free_at_boot - self.nr_free()

    def nr_free(self) -> int:
        return len(self.free_list) + len(self.free_zeroed)

    def alloc_frame(self) -> int:
        """A frame with page_ref 1, contents undefined.  Raises OutOfMemory."""
        self.allocs += 1
        if self.fail_alloc and self.allocs == self.fail_alloc:
            raise OutOfMemory("injected allocation failure", injected=True)
        if self.free_list:
            pfn = self.free_list.pop()
        elif self.free_zeroed:
            pfn = self.free_zeroed.pop()
        else:
            raise OutOfMemory("no free frame")
        if self.page_ref[pfn]:
            raise BUG(f"alloc_frame: free frame {pfn} has page_ref {self.page_ref[pfn]}")
        self.page_ref[pfn] = 1
        self.page_kind[pfn] = MM_ANONPAGES
        return pfn

    def alloc_zeroed(self) -> int:
        if self.free_zeroed and not self.fail_alloc:
            self.allocs += 1
            pfn = self.free_zeroed.pop()
            if self.page_ref[pfn]:
                raise BUG(f"alloc_zeroed: free frame {pfn} has page_ref {self.page_ref[pfn]}")
            self.page_ref[pfn] = 1
            self.page_kind[pfn] = MM_ANONPAGES
            self.pgzero_hit += 1
            return pfn
        pfn = self.alloc_frame()
        self.machine.zero_frame(pfn)
        return pfn

    def get_page(self, pfn: int) -> None:
        self.page_ref[pfn] += 1

    def put_page(self, pfn: int) -> None:
        """Drop one reference; the last one frees the frame."""
        r = self.page_ref[pfn] - 1
        if r < 0:
            raise BUG(f"put_page: frame {pfn} refcount underflow")
        self.page_ref[pfn] = r
        if r == 0:
            self.free_frame(pfn)

    def free_frame(self, pfn: int) -> None:
        if self.page_mapcount[pfn]:
            raise BUG(f"free_frame: frame {pfn} still mapped {self.page_mapcount[pfn]} times")
        if pfn == self.zero_pfn:
            raise BUG("free_frame: the zero page")
        if self.page_exec[pfn]:
            # The CPU may hold code translated from this frame, keyed by
            # its physical address; it must go before the frame is reused.
            self.page_exec[pfn] = 0
            self.tb_dirty = True
        self.free_list.append(pfn)
        self.nr_dirty_freed += 1
        if self.nr_dirty_freed >= PREZERO_BATCH and self.on_dirty is not None:
            self.nr_dirty_freed = 0
            self.on_dirty()
