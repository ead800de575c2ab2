"""High-resolution timers on the virtual clock (kernel/time/hrtimer.c),
and nanosleep.

Every timed thing of a machine is an hrtimer on one queue, K.timers: a
heap of (expires, seq, timer), expires in monotonic ns.  The run loop
(sched.core) expires due timers at the top of each scheduling decision
and bounds each time slice by the first expiry; when no task can run it
jumps the virtual clock to that expiry (or, under --realtime, waits for
it on the host).  A timer's callback runs in the kernel with no task of
its own (do not use current()); it returns HRTIMER_RESTART to be queued
again at its (forwarded) expiry.

Cancelling is lazy: the timer forgets its entry (seq = 0) and the entry is
dropped when it reaches the top of the heap, so start and cancel are
O(log n) and O(1).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .. import state
from ..panic import Errno
from ..percpu import current, this_cpu
from ..sched.wait import BlockOn
from ..syscalls import syscall
from ..types import UPtr
from ..uapi import ERESTART_RESTARTBLOCK, ERESTARTNOHAND
from .timekeeping import get_timespec_ns, ktime_get_ns, put_timespec64

HRTIMER_NORESTART, HRTIMER_RESTART = 0, 1


@dataclass(eq=False, slots=True)
class hrtimer:
    function: Callable[["hrtimer"], int]
    data: Any = None
    expires: int = 0
    seq: int = 0            # the live heap entry's seq; 0 = not queued

    @property
    def active(self) -> bool:
        return self.seq != 0


def hrtimer_start(t: hrtimer, expires: int) -> None:
    """(Re)arm t to fire at monotonic time `expires`; a time already past
    fires at the next expiry check."""
    K = state.K
    K.timer_seq += 1
    t.seq = K.timer_seq
    t.expires = expires
    heapq.heappush(K.timers, (expires, t.seq, t))
    resched_for_timer()


def resched_for_timer() -> None:
    """A timer armed inside a syscall: the CPU goes back to the run loop,
    which bounds the next slice by the new expiry (an unsliced task
    would otherwise run on past it)."""
    cpu = this_cpu()
    if cpu is not None and cpu.curr is not None:
        cpu.need_resched = True


def hrtimer_cancel(t: hrtimer) -> bool:
    """Disarm t; True if it was armed.  Its callback will not run."""
    was = t.seq != 0
    t.seq = 0
    return was


def hrtimer_forward(t: hrtimer, now: int, interval: int) -> int:
    """Move t's expiry past `now` in steps of `interval`; the number of
    steps (overruns + 1, as Linux's hrtimer_forward), 0 if not behind."""
    delta = now - t.expires
    if delta < 0:
        return 0
    n = delta // interval + 1
    t.expires += n * interval
    return n


def hrtimer_next_expiry() -> Optional[int]:
    """The first armed expiry (maybe negative: a time before boot), or
    None with no timer armed."""
    q = state.K.timers
    while q:
        expires, seq, t = q[0]
        if t.seq == seq:
            return expires
        heapq.heappop(q)
    return None


def hrtimer_run_queues(now: int) -> None:
    """Run the callbacks of every timer due at `now`, in expiry order."""
    q = state.K.timers
    while q and q[0][0] <= now:
        _expires, seq, t = heapq.heappop(q)
        if t.seq != seq:
            continue
        t.seq = 0
        if t.function(t) == HRTIMER_RESTART and t.seq == 0:
            hrtimer_start(t, t.expires)


# --- nanosleep -------------------------------------------------------------------

def do_nanosleep(expires: int, rmtp: int, absolute: bool) -> int:
    """Sleep until monotonic time `expires` (hrtimer_nanosleep).  A
    signal ends an absolute sleep with -ERESTARTNOHAND; a relative one
    writes the time left to rmtp (if given) and returns
    -ERESTART_RESTARTBLOCK, restart_syscall sleeping on to the same
    expiry (hrtimer_nanosleep_restart).  May sleep."""
    tsk = current()

    def interrupted() -> int:
        if absolute:
            raise Errno(ERESTARTNOHAND)
        left = expires - ktime_get_ns()
        if left <= 0:
            return 0
        if rmtp:
            put_timespec64(rmtp, left)
        tsk.restart_block = lambda: do_nanosleep(expires, rmtp, False)
        raise Errno(ERESTART_RESTARTBLOCK)

    def sleep() -> int:
        if tsk.timed_out or ktime_get_ns() >= expires:
            tsk.timed_out = False
            return 0
        raise BlockOn([], sleep, expires, interrupted=interrupted)

    tsk.timed_out = False
    return sleep()


@syscall("nanosleep")
def sys_nanosleep(rqtp: UPtr, rmtp: UPtr) -> int:
    return do_nanosleep(ktime_get_ns() + get_timespec_ns(rqtp), rmtp, False)
