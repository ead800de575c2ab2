"""Zeroing free frames ahead of time: a kernel thread (kworker/0:0) that
clears frames as they are freed, so the next anonymous fault, CoW of
the zero page or shmem page (alloc_zeroed) takes a frame that is
already zero instead of clearing one while the faulting task waits.

The allocator wakes the worker each time PREZERO_BATCH frames have been
freed (page_alloc.free_frame); the worker moves up to PREZERO_BATCH
frames per turn from the free list to the zeroed list, clearing each,
and sleeps when none is left.  It runs in turn with the guest's tasks,
so the result (which frame a fault gets) is the same on every run.
"""
from __future__ import annotations

from typing import Iterator

from .. import state
from ..kthread import kthread_should_stop, set_current_state, wake_up_process
from ..task import TASK_IDLE
from .page_alloc import PREZERO_BATCH

# Keep at most this many pre-zeroed frames (the rest stay on the free list).
PREZERO_MAX = 4096


def prezero_worker() -> Iterator[None]:
    K = state.K
    alloc = K.alloc
    while not kthread_should_stop():
        todo = min(PREZERO_BATCH, len(alloc.free_list), PREZERO_MAX - len(alloc.free_zeroed))
        if todo <= 0:
            set_current_state(TASK_IDLE)     # shown as I, like an idle kworker
            yield
            continue
        zero = alloc.machine.zero_frame
        fl = alloc.free_list
        # Take the frames freed last (the top of the free list): those the
        # allocator would hand out next are the most likely to be reused.
        batch = fl[-todo:]
        del fl[-todo:]
        for pfn in batch:
            zero(pfn)
        alloc.free_zeroed.extend(reversed(batch))
        K.vmstat.pgzero_ahead += todo
        yield


def wake_prezero() -> None:
    w = state.K.kthreads.get("kworker")
    if w is not None:
        wake_up_process(w)
