"""Interval timers (kernel/time/itimer.c): getitimer, setitimer, alarm.

ITIMER_REAL is an hrtimer of the process (signal.real_timer) that sends
SIGALRM; ITIMER_VIRTUAL and ITIMER_PROF are process CPU timers on user
and user+system time that send SIGVTALRM and SIGPROF (si_code
SI_KERNEL, as Linux's SEND_SIG_PRIV).  A reload interval re-arms each at
once.  They survive exec and are not inherited by fork.
"""
from __future__ import annotations

import struct
from typing import Any

from ..mm.uaccess import copy_from_user, copy_to_user
from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..types import UPtr, c_int, c_uint
from ..uapi import EINVAL, ITIMER_PROF, ITIMER_REAL, ITIMER_VIRTUAL, SIGALRM, SIGPROF, SIGVTALRM
from .hrtimer import HRTIMER_NORESTART, HRTIMER_RESTART, hrtimer, hrtimer_cancel, \
    hrtimer_forward, hrtimer_start
from .posix_cpu_timers import (
    CPUCLOCK_PROF, CPUCLOCK_VIRT, arm_cpu_timer, cpu_clock_sample, cpu_timer, disarm_cpu_timer,
)
from .timekeeping import NSEC_PER_USEC, ktime_get_ns, ns_to_timeval

TICK_NSEC = 4_000_000        # one jiffy at HZ=250: the least a CPU itimer shows as left
_ITIMERVAL = struct.Struct("<qqqq")   # it_interval, it_value (timevals)


def _group_send_priv(sig: Any, signo: int) -> None:
    """__group_send_sig_info(signo, SEND_SIG_PRIV, leader)."""
    from ..signal import SEND_SIG_PRIV, send_signal
    t = next((x for x in sig.threads if not x.exit_state), None)
    if t is not None:
        send_signal(signo, t, SEND_SIG_PRIV, True)


def it_real_fn(t: hrtimer) -> int:
    sig = t.data
    _group_send_priv(sig, SIGALRM)
    if sig.it_real_incr:
        hrtimer_forward(t, ktime_get_ns(), sig.it_real_incr)
        return HRTIMER_RESTART
    return HRTIMER_NORESTART


def _real_timer(sig: Any) -> hrtimer:
    if sig.real_timer is None:
        sig.real_timer = hrtimer(it_real_fn, sig)
    return sig.real_timer


def _it_cpu_fn(t: cpu_timer, now: int) -> None:
    """ITIMER_VIRTUAL/PROF expired (check_cpu_itimer): signal, then reload."""
    sig = t.owner
    _group_send_priv(sig, SIGPROF if t.which == CPUCLOCK_PROF else SIGVTALRM)
    if t.data:
        arm_cpu_timer(t, max(t.expires + t.data, now + 1))


def _cpu_itimer(sig: Any, which: int) -> cpu_timer:
    clock = CPUCLOCK_PROF if which == ITIMER_PROF else CPUCLOCK_VIRT
    for t in sig.cpu_timers:
        if t.function is _it_cpu_fn and t.which == clock:
            return t
    return cpu_timer(clock, sig, _it_cpu_fn, 0)     # data: the interval


def do_getitimer(which: int) -> tuple[int, int]:
    """(value, interval) in ns."""
    sig = current().signal
    if which == ITIMER_REAL:
        t = sig.real_timer
        if t is None or not t.active:
            return 0, sig.it_real_incr
        rem = t.expires - ktime_get_ns()
        return (rem if rem > 0 else NSEC_PER_USEC), sig.it_real_incr
    if which in (ITIMER_VIRTUAL, ITIMER_PROF):
        t = _cpu_itimer(sig, which)
        if not t.expires:
            return 0, t.data
        now = cpu_clock_sample(t.which, sig)
        return (t.expires - now if now < t.expires else TICK_NSEC), t.data
    raise Errno(EINVAL)


def do_setitimer(which: int, value: int, interval: int) -> tuple[int, int]:
    """Set an itimer; returns the old (value, interval)."""
    old = do_getitimer(which)
    sig = current().signal
    if which == ITIMER_REAL:
        t = _real_timer(sig)
        hrtimer_cancel(t)
        if value:
            sig.it_real_incr = interval
            hrtimer_start(t, ktime_get_ns() + value)
        else:
            sig.it_real_incr = 0
        return old
    t = _cpu_itimer(sig, which)
    t.data = interval
    if value:
        arm_cpu_timer(t, cpu_clock_sample(t.which, sig) + value)
    else:
        disarm_cpu_timer(t)
    return old


def _get_itimerval(uaddr: int) -> tuple[int, int]:
    isec, iusec, vsec, vusec = _ITIMERVAL.unpack(copy_from_user(uaddr, 32))
    for sec, usec in ((isec, iusec), (vsec, vusec)):
        if sec < 0 or not 0 <= usec < 1_000_000:
            raise Errno(EINVAL)
    return vsec * 1_000_000_000 + vusec * NSEC_PER_USEC, isec * 1_000_000_000 + iusec * NSEC_PER_USEC


def _put_itimerval(uaddr: int, value: int, interval: int) -> None:
    copy_to_user(uaddr, ns_to_timeval(interval) + ns_to_timeval(value))


@syscall("getitimer")
def sys_getitimer(which: c_int, value: UPtr) -> int:
    v, i = do_getitimer(which)
    _put_itimerval(value, v, i)
    return 0


@syscall("setitimer")
def sys_setitimer(which: c_int, value: UPtr, ovalue: UPtr) -> int:
    if which not in (ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF):
        raise Errno(EINVAL)
    new = _get_itimerval(value) if value else (0, 0)
    old = do_setitimer(which, *new)
    if ovalue:
        _put_itimerval(ovalue, *old)
    return 0


@syscall("alarm")
def sys_alarm(seconds: c_uint) -> int:
    """alarm_setitimer: the old value rounded to whole seconds (up from
    half a second, and never 0 for a pending alarm)."""
    old, _ = do_setitimer(ITIMER_REAL, seconds * 1_000_000_000, 0)
    sec, usec = old // 1_000_000_000, (old % 1_000_000_000) // NSEC_PER_USEC
    if (not sec and usec) or usec >= 500_000:
        sec += 1
    return sec


def exit_itimers_real(sig: Any) -> None:
    """The process ends: ITIMER_REAL stops (its CPU timers go with
    exit_cpu_timers)."""
    if sig.real_timer is not None:
        hrtimer_cancel(sig.real_timer)
