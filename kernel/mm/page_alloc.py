"""The frame allocator: every physical frame the kernel hands out, with a
struct-page-like record kept as parallel lists indexed by pfn.

page_ref[pfn]      references: each PTE mapping it, plus kernel holders
                   (page cache, shmem objects, page-table ownership).
page_mapcount[pfn] PTEs mapping it.
A frame is free exactly when page_ref is 0 and it is on the free list.
The zero page is allocated once and never refcounted by its mappings.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..panic import BUG, OutOfMemory

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
        # Hand out low frames first: pop() from the end of a reversed list.
        self.free_list = list(range(n - 1, machine.first_free_pfn - 1, -1))
        self.nr_free_at_boot = len(self.free_list)
        self.allocs = 0
        self.fail_alloc = fail_alloc  # fault injection: the N-th allocation fails
        self.limit = n                # frames the guest may hold (--memory)
        self.tb_dirty = False         # an exec frame was freed: flush translations
        self.zero_pfn = self.alloc_frame()  # held forever

    def nr_used(self) -> int:
        return self.nr_free_at_boot - len(self.free_list)

    def alloc_frame(self) -> int:
        """A frame with page_ref 1, contents undefined.  Raises OutOfMemory."""
        self.allocs += 1
        if self.fail_alloc and self.allocs == self.fail_alloc:
            raise OutOfMemory("injected allocation failure", injected=True)
        if not self.free_list:
            raise OutOfMemory("no free frame")
        pfn = self.free_list.pop()
        if self.page_ref[pfn]:
            raise BUG(f"alloc_frame: free frame {pfn} has page_ref {self.page_ref[pfn]}")
        self.page_ref[pfn] = 1
        return pfn

    def alloc_zeroed(self) -> int:
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
