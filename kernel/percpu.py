"""Per-CPU state.  this_cpu() and current() are the only way to the CPU the
kernel is running on and its running task; code acting on another task
takes it as `tsk`.  The kernel runs on one host thread: the run loop sets
which CPU is executing before it hands that CPU to a task, and every entry
into a machine sets it with state.K (state.enter_kernel), so it always
names a CPU of the current kernel."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from emu.machine import Cpu

    from .task import task_struct


@dataclass(eq=False, slots=True)
class cpu_struct:
    index: int
    hw: Optional["Cpu"] = None           # the vCPU (emu)
    curr: Optional["task_struct"] = None
    idle: Optional["task_struct"] = None  # pid 0, swapper/N
    loaded: Optional["task_struct"] = None  # whose context is in the vCPU
    rq: deque = field(default_factory=deque)  # runnable tasks, not running
    need_resched: bool = False
    # An mm dropped while its tables were live on this CPU (exit, exec):
    # released by the run loop once the CPU has left them (lazy TLB).
    deferred_mm: list = field(default_factory=list)
    nr_switches: int = 0       # context switches (rq->nr_switches)
    block_hook: bool = False   # the C block hook is installed (time slicing)
    solo_runs: int = 0         # consecutive runs with nobody else runnable


# The CPU whose code runs now on this host thread: swapped with state.K.
_running: Optional[cpu_struct] = None


def set_running_cpu(cpu: cpu_struct) -> None:
    global _running
    _running = cpu


def this_cpu() -> cpu_struct:
    return _running  # type: ignore[return-value]


def current() -> "task_struct":
    return _running.curr  # type: ignore[union-attr,return-value]
