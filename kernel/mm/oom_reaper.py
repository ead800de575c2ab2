"""The OOM reaper (mm/oom_kill.c oom_reaper): a kernel thread that frees
an OOM victim's private memory as soon as it is killed, instead of
waiting for the victim to run its exit path.

oom_kill queues the victim's mm here (wake_oom_reaper, holding an mm
reference the reaper drops).  The reaper unmaps every private mapping
(__oom_reap_task_mm: shared mappings are left to exit, whose other
users still need them); the victim dies at its next return to user mode
and cannot see the hole; the kernel's own accesses to its memory on the
way out (a clear_child_tid write, the robust list) fault a fresh page in.
"""
from __future__ import annotations

from typing import Iterator

from .. import state
from ..kthread import kthread_should_stop, set_current_state, wake_up_process
from ..task import TASK_INTERRUPTIBLE
from .memory import VM_SHARED, zap_page_range


def wake_oom_reaper(mm) -> None:
    """Queue an OOM victim's address space for reaping."""
    K = state.K
    reaper = K.kthreads.get("oom_reaper")
    if reaper is None or mm in K.oom_reaper_list:
        return
    K.oom_reaper_list.append(mm.mmget())     # dropped by oom_reap_task_mm
    wake_up_process(reaper)


def oom_reap_task_mm(mm) -> int:
    """Unmap the private mappings of mm; returns the pages freed from it."""
    before = mm.get_mm_rss()
    for vma in mm.vmas:
        if vma.vm_flags & VM_SHARED or vma.shm is not None:
            continue
        zap_page_range(mm, vma.vm_start, vma.vm_end)
    mm.flush_tlb()
    freed = before - mm.get_mm_rss()
    mm.mmput()
    return freed


def oom_reaper() -> Iterator[None]:
    K = state.K
    while not kthread_should_stop():
        if not K.oom_reaper_list:
            set_current_state(TASK_INTERRUPTIBLE)
            yield
            continue
        mm = K.oom_reaper_list.pop(0)
        freed = oom_reap_task_mm(mm)
        K.vmstat.oom_reaped += freed
        if K.listeners:
            K.emit("oom_reap", pages=freed)
        yield                                  # one victim per turn
    # Stopping: hand back what is still queued.
    while K.oom_reaper_list:
        K.oom_reaper_list.pop().mmput()
