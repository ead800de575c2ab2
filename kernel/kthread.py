"""Kernel threads (kernel/kthread.c): tasks with mm = None that run kernel
code written in Python, scheduled like any task.

A kernel thread's function is a generator: each `yield` is a call to
schedule().  Before yielding the thread sets its state as Linux code
does (set_current_state(TASK_INTERRUPTIBLE) to sleep until
wake_up_process, or stays TASK_RUNNING to just let others run).  The run
loop steps it (run_kthread) on the CPU it is queued on, with no context
switch: it borrows the address space the CPU last ran (active_mm, lazy
TLB) and touches no user memory.

kthreadd (pid 2, child of swapper, pid 0) is the parent of every kernel
thread.  kthread_create builds the thread at once, as kthreadd's
create_kthread would (nothing here can wait for kthreadd to run), in
TASK_UNINTERRUPTIBLE: it first runs when woken (kthread_run does both).
kthread_stop and kthread_park act synchronously: they step the thread
until it has exited or parked, then return, which is what their callers
wait for in Linux.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from . import state
from .panic import BUG
from .percpu import current
from .sched.core import wake_up_process
from .task import (
    EXIT_DEAD, PF_KTHREAD, TASK_DEAD, TASK_IDLE, TASK_INTERRUPTIBLE, TASK_PARKED, TASK_RUNNING,
    TASK_UNINTERRUPTIBLE, TaskState, fs_struct, sighand_struct, signal_struct, task_struct,
)

if TYPE_CHECKING:
    from .percpu import cpu_struct
    from .state import KernelState

KTHREAD_STOP_STEPS = 10_000    # a thread that ignores kthread_stop this long is a bug


@dataclass(eq=False, slots=True)
class kthread_struct:
    threadfn: Callable[..., Iterator[Any]]
    args: tuple
    gen: Optional[Iterator[Any]] = None
    should_stop: bool = False
    should_park: bool = False
    parked: bool = False
    exited: bool = False
    result: Any = None


def kthreadd_start(K: "KernelState", kthreadd: task_struct, swapper: task_struct) -> None:
    """Boot: kthreadd, pid 2, child of swapper.  It has no work of its
    own here (see the module docstring): it sleeps."""
    kthreadd.real_parent = kthreadd.parent = swapper
    kthreadd.signal.pgrp = kthreadd.signal.session = 0   # as swapper's: no group of its own
    kthreadd.state = TASK_INTERRUPTIBLE
    kthreadd.kthread = kthread_struct(_kthreadd_fn, ())
    K.tasks[kthreadd.pid] = kthreadd
    K.kthreadd_task = kthreadd


def _kthreadd_fn() -> Iterator[None]:
    while True:
        set_current_state(TASK_INTERRUPTIBLE)
        yield


def set_current_state(st: TaskState) -> None:
    current().state = st


def kthread_create(threadfn: Callable[..., Iterator[Any]], name: str, *args: Any,
                   cpu: int = 0) -> task_struct:
    """A new kernel thread named `name` (comm, at most 15 characters) that
    will run threadfn(*args) once woken.  Child of kthreadd."""
    K = state.K
    kthreadd = K.kthreadd_task
    pid = K.pids.alloc_pid()
    t = task_struct(pid=pid, tgid=pid, comm=name[:15], state=TASK_UNINTERRUPTIBLE)
    t.flags = PF_KTHREAD
    t.group_leader = t
    t.real_parent = t.parent = kthreadd
    t.exit_signal = -1
    t.signal = signal_struct(threads=[t], pgrp=0, session=0)
    t.sighand = sighand_struct()
    t.fs = fs_struct()
    from .cred import init_cred
    t.cred = init_cred()
    t.cpu = cpu
    from .sched.core import ktime_get_ns
    t.start_time = ktime_get_ns()
    t.kthread = kthread_struct(threadfn, args)
    kthreadd.children.append(t)
    K.tasks[pid] = t
    return t


def kthread_run(threadfn: Callable[..., Iterator[Any]], name: str, *args: Any,
                cpu: int = 0) -> task_struct:
    t = kthread_create(threadfn, name, *args, cpu=cpu)
    wake_up_process(t)
    return t


def kthread_should_stop() -> bool:
    return current().kthread.should_stop


def kthread_should_park() -> bool:
    return current().kthread.should_park


def kthread_parkme() -> Iterator[None]:
    """`yield from kthread_parkme()`: sleep in TASK_PARKED until unparked."""
    kt = current().kthread
    while kt.should_park:
        kt.parked = True
        set_current_state(TASK_PARKED)
        yield
    kt.parked = False


def run_kthread(cpu: "cpu_struct", tsk: task_struct) -> None:
    """The run loop's turn for a kernel thread: run it up to its next
    schedule() (yield).  Still TASK_RUNNING afterwards: back on the
    runqueue; asleep: a wake_up_process puts it back; returned: it exits."""
    kt = tsk.kthread
    prev = cpu.curr
    cpu.curr = tsk
    tsk.active_mm = cpu.loaded.mm if cpu.loaded is not None else None  # lazy TLB
    try:
        if kt.gen is None:
            kt.gen = kt.threadfn(*kt.args)
        next(kt.gen)
    except StopIteration as e:
        kt.result = e.value
        kthread_exit(tsk)
    finally:
        tsk.active_mm = None
        cpu.curr = prev
    cpu.nr_switches += 1
    if tsk.state == TASK_RUNNING and not tsk.exit_state:
        tsk.nivcsw += 1
        cpu.rq.append(tsk)
    elif not tsk.exit_state:
        tsk.nvcsw += 1


def kthread_exit(tsk: task_struct) -> None:
    """The thread function returned: the thread is gone at once (kthreadd
    does not wait for its children: they are reaped as they die)."""
    K = state.K
    tsk.kthread.exited = True
    tsk.state = TASK_DEAD
    tsk.exit_state = EXIT_DEAD
    if tsk.parent is not None and tsk in tsk.parent.children:
        tsk.parent.children.remove(tsk)
    tsk.signal.threads.remove(tsk)
    K.tasks.pop(tsk.pid, None)
    K.pids.free_pid(tsk.pid)
    for name, t in list(K.kthreads.items()):
        if t is tsk:
            del K.kthreads[name]


def _step_until(tsk: task_struct, done: Callable[[], bool], who: str) -> None:
    """Run tsk now, again and again, until done(): what kthread_stop and
    kthread_park wait for.  Each turn wakes it from whatever it sleeps on."""
    from .sched.wait import remove_wait
    cpu = state.K.cpus[tsk.cpu]
    for _ in range(KTHREAD_STOP_STEPS):
        if done():
            return
        if tsk in cpu.rq:
            cpu.rq.remove(tsk)
        remove_wait(tsk)
        tsk.state = TASK_RUNNING
        run_kthread(cpu, tsk)
    if not done():
        raise BUG(f"{who}: kernel thread {tsk.comm} does not respond")


def kthread_stop(tsk: task_struct) -> Any:
    """Tell tsk to stop, let it run until its function returns, and give
    back what it returned."""
    kt = tsk.kthread
    kt.should_stop = True
    kt.should_park = False
    _step_until(tsk, lambda: kt.exited, "kthread_stop")
    return kt.result


def kthread_park(tsk: task_struct) -> None:
    kt = tsk.kthread
    kt.should_park = True
    _step_until(tsk, lambda: kt.parked or kt.exited, "kthread_park")


def kthread_unpark(tsk: task_struct) -> None:
    kt = tsk.kthread
    kt.should_park = False
    if tsk.state == TASK_PARKED:
        tsk.state = TASK_INTERRUPTIBLE
        wake_up_process(tsk)


__all__ = ["kthread_create", "kthread_run", "kthread_stop", "kthread_should_stop",
           "kthread_park", "kthread_unpark", "kthread_parkme", "kthread_should_park",
           "wake_up_process", "set_current_state", "TASK_IDLE"]
