"""CPU-time clocks and the timers on them (kernel/time/posix-cpu-timers.c).

A CPU clock measures a thread's or a whole process's CPU time (see
sched/cputime.py): PROF = user + system, VIRT = user, SCHED = user +
system.  A clockid names one: CLOCK_PROCESS_CPUTIME_ID and
CLOCK_THREAD_CPUTIME_ID for the caller, or the encoded ids of
clock_getcpuclockid/pthread_getcpuclockid, (~pid << 3) | perthread << 2 |
which.

A cpu_timer fires when its clock reaches `expires`.  Thread timers hang
on task.cpu_timers, process ones (ITIMER_VIRTUAL/PROF, timer_create on a
process clock) on signal.cpu_timers.  The run loop bounds each slice of a
task by its nearest CPU-timer expiry (posix_cpu_timers_left) and checks
them when the task comes off the CPU (run_posix_cpu_timers).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from .. import state
from ..panic import Errno
from ..percpu import current
from ..sched.cputime import task_cputime, thread_group_cputime, watch_cputime
from .hrtimer import resched_for_timer
from ..uapi import CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, EINVAL

CPUCLOCK_PROF, CPUCLOCK_VIRT, CPUCLOCK_SCHED = 0, 1, 2
CPUCLOCK_PERTHREAD_MASK = 4


@dataclass(eq=False, slots=True)
class cpu_timer:
    which: int                       # CPUCLOCK_PROF / VIRT / SCHED
    owner: Any                       # task_struct (thread clock) or signal_struct
    function: Callable[["cpu_timer", int], None]   # called with the clock's sample
    data: Any = None
    expires: int = 0                 # on the clock, ns; 0 = disarmed


def is_cpu_clock(which_clock: int) -> bool:
    return which_clock < 0 or which_clock in (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID)


def cpu_clock_target(which_clock: int) -> tuple[Any, bool, int]:
    """(task, perthread, which) for a CPU clockid, else EINVAL
    (lookup_task): a thread clock must be one of the caller's threads,
    a process clock a process's leader."""
    tsk = current()
    if which_clock == CLOCK_PROCESS_CPUTIME_ID:
        return tsk.group_leader, False, CPUCLOCK_SCHED
    if which_clock == CLOCK_THREAD_CPUTIME_ID:
        return tsk, True, CPUCLOCK_SCHED
    which = which_clock & 3
    perthread = bool(which_clock & CPUCLOCK_PERTHREAD_MASK)
    if which > CPUCLOCK_SCHED:
        raise Errno(EINVAL)
    pid = ~(which_clock >> 3)
    if pid == 0:
        p = tsk if perthread else tsk.group_leader
    else:
        p = state.K.tasks.get(pid)
        if p is None or p.exit_state or (perthread and p.signal is not tsk.signal) \
                or (not perthread and not p.thread_group_leader):
            raise Errno(EINVAL)
    return p, perthread, which


def _pick(which: int, u: int, s: int) -> int:
    return u if which == CPUCLOCK_VIRT else u + s


def cpu_clock_sample(which: int, owner: Any) -> int:
    """Now on a thread's (owner: task) or process's (owner: signal) clock."""
    if hasattr(owner, "tgid"):
        return _pick(which, *task_cputime(owner))
    return _pick(which, *thread_group_cputime(owner))


def cpu_clock_now(which_clock: int) -> int:
    p, perthread, which = cpu_clock_target(which_clock)
    if p.signal is current().signal:
        watch_cputime(p)
    return cpu_clock_sample(which, p if perthread else p.signal)


def cpu_timer_owner(which_clock: int) -> tuple[Any, int]:
    p, perthread, which = cpu_clock_target(which_clock)
    return (p if perthread else p.signal), which


def arm_cpu_timer(t: cpu_timer, expires: int) -> None:
    """Fire t when its clock reaches `expires` (> 0)."""
    t.expires = expires
    if t not in t.owner.cpu_timers:
        t.owner.cpu_timers.append(t)
    resched_for_timer()


def disarm_cpu_timer(t: cpu_timer) -> None:
    t.expires = 0
    if t in t.owner.cpu_timers:
        t.owner.cpu_timers.remove(t)


def posix_cpu_timers_left(tsk: Any) -> int:
    """CPU time tsk may run before one of its timers (or its process's)
    is due; -1 with none armed."""
    left = -1
    for owner in (tsk, tsk.signal):
        for t in owner.cpu_timers:
            d = max(0, t.expires - cpu_clock_sample(t.which, owner))
            if left < 0 or d < left:
                left = d
    return left


def run_posix_cpu_timers(tsk: Any) -> None:
    """Fire tsk's due thread timers and its process's due timers."""
    for owner in (tsk, tsk.signal):
        for t in list(owner.cpu_timers):
            if t.owner is not owner or not t.expires:
                continue
            now = cpu_clock_sample(t.which, owner)
            if now >= t.expires:
                # Off the list, t.expires still the expiry that passed:
                # the callback re-arms from it (arm_cpu_timer) or not.
                owner.cpu_timers.remove(t)
                t.function(t, now)
                if t not in owner.cpu_timers:
                    t.expires = 0


def exit_cpu_timers(owner: Any) -> None:
    """A thread exits or a process ends: its CPU timers go."""
    for t in list(owner.cpu_timers):
        disarm_cpu_timer(t)


def cpu_timer_remaining(t: cpu_timer) -> Optional[int]:
    """ns until t fires (may be <= 0 if due); None if disarmed."""
    if not t.expires:
        return None
    return t.expires - cpu_clock_sample(t.which, t.owner)
