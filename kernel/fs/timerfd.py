"""timerfd (fs/timerfd.c): a timer read through a file descriptor.

Each expiry counts a tick; read returns the ticks since the last read as
an 8-byte count and resets it, blocks while there is none (EAGAIN with
O_NONBLOCK), and poll shows POLLIN while there is one.  As in Linux a
periodic timer is not re-armed when it fires but when the ticks are
looked at (read, timerfd_gettime): the intervals that passed meanwhile
are counted then.  Clocks: REALTIME, MONOTONIC, BOOTTIME and the alarm
clocks (as their plain ones).  TFD_TIMER_CANCEL_ON_SET is accepted; the
clock is never set, so a read never fails with ECANCELED.
"""
from __future__ import annotations

import struct
from typing import Any

from ..panic import Errno
from ..percpu import current
from ..sched.wait import BlockOn, wait_queue_head, wake_up
from ..syscalls import syscall
from ..types import UPtr, c_int
from ..uapi import (
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME, EAGAIN, EINVAL, O_NONBLOCK, O_RDWR,
    TFD_CLOEXEC, TFD_NONBLOCK, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET,
)
from ..time.hrtimer import HRTIMER_NORESTART, hrtimer, hrtimer_cancel, hrtimer_forward, \
    hrtimer_start
from ..time.timekeeping import (
    CLOCK_BOOTTIME_ALARM, CLOCK_REALTIME_ALARM, get_itimerspec, ktime_get_ns, put_itimerspec,
    to_monotonic,
)
from .file import FileOps, fd_install_new, file

POLLIN, POLLRDNORM = 0x1, 0x40
S_IFREG_ANON = 0o600                   # anon_inode: mode without a file type
_CLOCKS = (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM,
           CLOCK_BOOTTIME_ALARM)


class timerfd_ctx:
    def __init__(self, clockid: int) -> None:
        self.clockid = clockid
        self.tmr = hrtimer(timerfd_tmrproc, self)
        self.ticks = 0
        self.expired = False
        self.tintv = 0
        self.wqh = wait_queue_head()


def timerfd_tmrproc(t: hrtimer) -> int:
    """The timer fired: one more tick, wake readers and pollers."""
    ctx = t.data
    ctx.expired = True
    ctx.ticks += 1
    wake_up(ctx.wqh)
    return HRTIMER_NORESTART


def timerfd_rearm(ctx: timerfd_ctx) -> None:
    """A periodic timer that fired: count the intervals since, re-arm."""
    if ctx.expired and ctx.tintv:
        ctx.ticks += hrtimer_forward(ctx.tmr, ktime_get_ns(), ctx.tintv) - 1
        hrtimer_start(ctx.tmr, ctx.tmr.expires)
    ctx.expired = False


def timerfd_get_remaining(ctx: timerfd_ctx) -> int:
    if not ctx.tmr.active:
        return 0
    return max(0, ctx.tmr.expires - ktime_get_ns())


class TimerfdOps(FileOps):
    def read(self, f: file, n: int) -> bytes:
        ctx = f.private
        if n < 8:
            raise Errno(EINVAL)
        if not ctx.ticks:
            if f.f_flags & O_NONBLOCK:
                raise Errno(EAGAIN)
            raise BlockOn([ctx.wqh], lambda: self.read(f, n))
        if ctx.expired and ctx.tintv:
            timerfd_rearm(ctx)
        ticks, ctx.ticks = ctx.ticks, 0
        return struct.pack("<Q", ticks)

    def can_poll(self, f: file) -> bool:
        return True

    def poll(self, f: file, pt: Any = None) -> int:
        """timerfd_poll: POLLIN while ticks are unread.  A poller's table
        (fs/poll.py's poll_table; poll_wait) gets the queue each expiry
        wakes."""
        ctx = f.private
        if pt is not None:
            pt.add(f, ctx.wqh)
        return POLLIN | POLLRDNORM if ctx.ticks else 0

    def stat(self, f: file) -> dict:
        return {"mode": S_IFREG_ANON, "ino": 0, "dev": 0xE, "blksize": 4096, "size": 0,
                "nlink": 1}

    def release(self, f: file) -> None:
        hrtimer_cancel(f.private.tmr)


def timerfd_fget(fd: int) -> timerfd_ctx:
    f = current().files.fget(fd)
    if not isinstance(f.f_op, TimerfdOps):
        raise Errno(EINVAL)
    return f.private


@syscall("timerfd_create")
def sys_timerfd_create(clockid: c_int, flags: c_int) -> int:
    if flags & ~(TFD_CLOEXEC | TFD_NONBLOCK) or clockid not in _CLOCKS:
        raise Errno(EINVAL)
    f = file(TimerfdOps(), O_RDWR | (flags & O_NONBLOCK), timerfd_ctx(clockid),
             path="anon_inode:[timerfd]")
    return fd_install_new(f, bool(flags & TFD_CLOEXEC))


@syscall("timerfd_settime")
def sys_timerfd_settime(ufd: c_int, flags: c_int, utmr: UPtr, otmr: UPtr) -> int:
    value, interval = get_itimerspec(utmr)
    if flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET):
        raise Errno(EINVAL)
    ctx = timerfd_fget(ufd)
    if ctx.expired and ctx.tintv:
        timerfd_rearm(ctx)
    old = timerfd_get_remaining(ctx), ctx.tintv
    hrtimer_cancel(ctx.tmr)
    ctx.ticks = 0
    ctx.expired = False
    ctx.tintv = interval
    if value:
        if flags & TFD_TIMER_ABSTIME:
            expires = to_monotonic(ctx.clockid, value)
        else:
            expires = ktime_get_ns() + value
        hrtimer_start(ctx.tmr, expires)
    if otmr:
        put_itimerspec(otmr, *old)
    return 0


@syscall("timerfd_gettime")
def sys_timerfd_gettime(ufd: c_int, otmr: UPtr) -> int:
    ctx = timerfd_fget(ufd)
    if ctx.expired and ctx.tintv:
        timerfd_rearm(ctx)
    put_itimerspec(otmr, timerfd_get_remaining(ctx), ctx.tintv)
    return 0
