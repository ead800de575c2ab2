"""CPU time accounting (kernel/sched/cputime.c) on the virtual clock.

A task's user time is the basic blocks it ran (BLOCK_NS each), its
system time the syscalls and traps it made (SYSCALL_NS, TRAP_NS): the
same work that advances the monotonic clock, charged to whoever did it.
The glue counts per CPU; the run loop snapshots the counters when a task
goes on the CPU (account_start) and charges the difference when it comes
off (account_stop), so a read in the middle (getrusage, clock_gettime of
a CPU clock, a CPU timer's check) adds the part still in flight.

Basic blocks are counted only while the CPU is time-sliced: another task
runnable, a timer armed, an armed CPU-time timer (ITIMER_VIRTUAL/PROF, a
timer on a CPU clock), or a process that has read its own CPU time
(watch_cputime: a clock, getrusage, times).  A lone task with none of
these runs unsliced, and its user time does not grow then.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from .. import state
from ..time.timekeeping import BLOCK_NS, COUNTERS, COUNTERS_OFF, SYSCALL_NS, TRAP_NS

if TYPE_CHECKING:
    from ..percpu import cpu_struct
    from ..task import signal_struct, task_struct


def _counters(cpu: "cpu_struct") -> tuple[int, int, int]:
    blocks, _left, sysc, traps = COUNTERS.unpack_from(cpu.hw.shared, COUNTERS_OFF)
    return blocks, sysc, traps


def watch_cputime(tsk: "task_struct") -> None:
    """tsk's process looks at its own CPU time: from now on its basic
    blocks are counted even when it runs alone (the run loop slices it)."""
    if not tsk.signal.cputime_watched:
        from ..time.hrtimer import resched_for_timer
        tsk.signal.cputime_watched = True
        resched_for_timer()


def account_start(cpu: "cpu_struct", tsk: "task_struct") -> None:
    """tsk goes on `cpu`: its time from now on is its own."""
    tsk.acct_snap = _counters(cpu)


def account_stop(cpu: "cpu_struct", tsk: "task_struct") -> None:
    """tsk comes off `cpu` (or exits): charge what it ran since account_start."""
    snap = tsk.acct_snap
    if snap is None:
        return
    tsk.acct_snap = None
    b, s, t = _counters(cpu)
    tsk.utime += (b - snap[0]) * BLOCK_NS
    tsk.stime += (s - snap[1]) * SYSCALL_NS + (t - snap[2]) * TRAP_NS


def task_cputime(tsk: "task_struct") -> tuple[int, int]:
    """(utime, stime) of one thread in ns, the part in flight included."""
    snap = tsk.acct_snap
    if snap is None:
        return tsk.utime, tsk.stime
    b, s, t = _counters(state.K.cpus[tsk.cpu])
    return (tsk.utime + (b - snap[0]) * BLOCK_NS,
            tsk.stime + (s - snap[1]) * SYSCALL_NS + (t - snap[2]) * TRAP_NS)


def thread_group_cputime(sig: "signal_struct") -> tuple[int, int]:
    """(utime, stime) of a whole process: its threads not yet released
    and those gone (folded into sig by __exit_signal)."""
    u, s = sig.utime, sig.stime
    for t in sig.threads:
        tu, ts = task_cputime(t)
        u += tu
        s += ts
    return u, s


def exit_signal_cputime(p: "task_struct") -> None:
    """__exit_signal: a released thread's times and switches go to its group."""
    sig = p.signal
    sig.utime += p.utime
    sig.stime += p.stime
    sig.nvcsw += p.nvcsw
    sig.nivcsw += p.nivcsw
    p.utime = p.stime = p.nvcsw = p.nivcsw = 0


def account_reaped_child(parent: "task_struct", p: "task_struct") -> None:
    """wait_task_zombie: a reaped child's times, and its own reaped
    children's, become the parent's cutime/cstime."""
    psig, sig = parent.signal, p.signal
    u, s = thread_group_cputime(sig)
    psig.cutime += u + sig.cutime
    psig.cstime += s + sig.cstime
    psig.cnvcsw += sig.nvcsw + sig.cnvcsw + sum(t.nvcsw for t in sig.threads)
    psig.cnivcsw += sig.nivcsw + sig.cnivcsw + sum(t.nivcsw for t in sig.threads)


# --- what getrusage, times and wait4 report --------------------------------------

RUSAGE_BOTH = -2
_RUSAGE = struct.Struct("<qqqq14q")     # ru_utime, ru_stime (timevals), 14 longs
CLOCK_TICK_NS = 10_000_000              # USER_HZ = 100


def _timeval(ns: int) -> tuple[int, int]:
    return ns // 1_000_000_000, (ns % 1_000_000_000) // 1000


def k_getrusage(p: "task_struct", who: int) -> bytes:
    """The struct rusage of getrusage(who) for task p (RUSAGE_SELF: its
    process, RUSAGE_CHILDREN: its reaped children, RUSAGE_THREAD: p,
    RUSAGE_BOTH: both, as wait4 reports a child).  Times and context
    switches are counted; the other fields are 0."""
    sig = p.signal
    u = s = nv = niv = 0
    if who == 1:                               # RUSAGE_THREAD
        u, s = task_cputime(p)
        nv, niv = p.nvcsw, p.nivcsw
    if who in (0, RUSAGE_BOTH):                # RUSAGE_SELF
        u, s = thread_group_cputime(sig)
        nv = sig.nvcsw + sum(t.nvcsw for t in sig.threads)
        niv = sig.nivcsw + sum(t.nivcsw for t in sig.threads)
    if who in (-1, RUSAGE_BOTH):               # RUSAGE_CHILDREN
        u += sig.cutime
        s += sig.cstime
        nv += sig.cnvcsw
        niv += sig.cnivcsw
    longs = [0] * 14
    longs[12], longs[13] = nv, niv
    return _RUSAGE.pack(*_timeval(u), *_timeval(s), *longs)


def clock_t_of(ns: int) -> int:
    return ns // CLOCK_TICK_NS
