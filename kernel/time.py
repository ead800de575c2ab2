"""Time on the virtual clock: clock_gettime, gettimeofday, time,
nanosleep, clock_nanosleep, times.  Guest-visible time never reads the
host's clock; it advances with the work the guest does (sched.core)."""
from __future__ import annotations

import struct

from .mm.uaccess import copy_from_user, copy_to_user
from .panic import Errno
from .sched.core import ktime_get_ns
from .sched.wait import BlockOn
from .syscalls import syscall
from .types import UPtr, c_int
from .uapi import EINVAL, ERESTART_RESTARTBLOCK, ERESTARTNOHAND, TIMER_ABSTIME

# CLOCK_REALTIME starts at a fixed instant so runs repeat: 2026-01-01 UTC.
REALTIME_BASE_NS = 1_767_225_600 * 1_000_000_000
_CLOCKS = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11}


def clock_ns(which: int) -> int:
    if which not in _CLOCKS:
        raise Errno(EINVAL)
    now = ktime_get_ns()
    if which in (0, 5, 8, 11):     # REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
        return REALTIME_BASE_NS + now
    return now


@syscall("clock_gettime")
def sys_clock_gettime(which_clock: c_int, tp: UPtr) -> int:
    ns = clock_ns(which_clock)
    copy_to_user(tp, struct.pack("<qq", ns // 1_000_000_000, ns % 1_000_000_000))
    return 0


@syscall("clock_getres")
def sys_clock_getres(which_clock: c_int, tp: UPtr) -> int:
    clock_ns(which_clock)
    if tp:
        copy_to_user(tp, struct.pack("<qq", 0, 1))
    return 0


@syscall("gettimeofday")
def sys_gettimeofday(tv: UPtr, tz: UPtr) -> int:
    ns = clock_ns(0)
    if tv:
        copy_to_user(tv, struct.pack("<qq", ns // 1_000_000_000, (ns // 1000) % 1_000_000))
    if tz:
        copy_to_user(tz, bytes(8))
    return 0


@syscall("time")
def sys_time(tloc: UPtr) -> int:
    t = clock_ns(0) // 1_000_000_000
    if tloc:
        copy_to_user(tloc, struct.pack("<q", t))
    return t


def _get_timespec(uaddr: int) -> int:
    sec, nsec = struct.unpack("<qq", copy_from_user(uaddr, 16))
    if sec < 0 or not 0 <= nsec < 1_000_000_000:
        raise Errno(EINVAL)
    return sec * 1_000_000_000 + nsec


def do_nanosleep(deadline: int, rmtp: int, restart: int = ERESTART_RESTARTBLOCK) -> int:
    """Sleep on the virtual clock until `deadline` (monotonic ns).  A
    signal ends the sleep with the time left in rmtp and `restart`: a
    relative sleep goes on through restart_syscall to the same deadline
    (hrtimer_nanosleep_restart) unless a handler ran; an absolute one
    (ERESTARTNOHAND) is simply called again."""
    from .percpu import current
    tsk = current()

    def after() -> int:
        if tsk.timed_out or ktime_get_ns() >= deadline:
            return 0
        raise BlockOn([], after, deadline, interrupted=interrupted)

    def interrupted() -> int:
        left = max(0, deadline - ktime_get_ns())
        if rmtp:
            copy_to_user(rmtp, struct.pack("<qq", left // 1_000_000_000, left % 1_000_000_000))
        if restart == ERESTART_RESTARTBLOCK:
            tsk.restart_block = lambda: do_nanosleep(deadline, rmtp)
        return -restart
    if ktime_get_ns() >= deadline:
        return 0
    raise BlockOn([], after, deadline, interrupted=interrupted)


@syscall("nanosleep")
def sys_nanosleep(rqtp: UPtr, rmtp: UPtr) -> int:
    return do_nanosleep(ktime_get_ns() + _get_timespec(rqtp), rmtp)


@syscall("clock_nanosleep")
def sys_clock_nanosleep(which_clock: c_int, flags: c_int, rqtp: UPtr, rmtp: UPtr) -> int:
    if which_clock not in (0, 1, 7, 8, 9):
        raise Errno(EINVAL)
    t = _get_timespec(rqtp)
    if flags & TIMER_ABSTIME:
        deadline = t - REALTIME_BASE_NS if which_clock in (0, 8) else t
        return do_nanosleep(deadline, 0, ERESTARTNOHAND)
    return do_nanosleep(ktime_get_ns() + t, rmtp)


@syscall("times")
def sys_times(tbuf: UPtr) -> int:
    ticks = ktime_get_ns() // 10_000_000
    if tbuf:
        copy_to_user(tbuf, struct.pack("<qqqq", ticks, 0, 0, 0))
    return ticks
