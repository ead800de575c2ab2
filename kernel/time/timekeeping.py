"""The clocks (kernel/time/timekeeping.c) and the timespec/timeval copies
of kernel/time/time.c.

CLOCK_MONOTONIC is sched.core's virtual time: it advances with the work
the guest does and jumps over idle time to the next timer, so a run
repeats exactly.  CLOCK_REALTIME is monotonic plus a fixed offset (the
epoch of the run: 2026-01-01 UTC), CLOCK_BOOTTIME is monotonic (nothing
suspends).  Under --realtime both follow the host's clocks instead
(sched.core.ktime_get_ns reads the host's monotonic clock, and the
offset is the host's realtime at boot)."""
from __future__ import annotations

import struct
import time as host_time

from .. import state
from ..mm.uaccess import copy_from_user, copy_to_user
from ..panic import Errno
from ..uapi import (
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
    CLOCK_REALTIME, CLOCK_REALTIME_COARSE, EINVAL,
)

NSEC_PER_SEC = 1_000_000_000
NSEC_PER_USEC = 1_000
# CLOCK_REALTIME starts at a fixed instant so runs repeat: 2026-01-01 UTC.
REALTIME_BASE_NS = 1_767_225_600 * NSEC_PER_SEC
CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM, CLOCK_SGI_CYCLE, CLOCK_TAI = 8, 9, 10, 11
KTIME_MAX = (1 << 63) - 1

# Clocks that read monotonic time plus the realtime offset.
REALTIME_CLOCKS = frozenset({CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_REALTIME_ALARM,
                             CLOCK_TAI})
# The clocks that are not CPU-time clocks (posix_clocks[] without the CPU ones).
WALL_CLOCKS = frozenset({CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
                         CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
                         CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM, CLOCK_TAI})


# Virtual time (ns): each basic block, syscall and trap costs a fixed
# amount.  The glue counts them per CPU in its shared page.
BLOCK_NS = 2
SYSCALL_NS = 150
TRAP_NS = 400
COUNTERS = struct.Struct("<QqQQ")   # blocks, slice_left, syscalls, traps
COUNTERS_OFF = 13 * 8


def ktime_get_ns() -> int:
    """Virtual monotonic time: advances with executed work only, plus the
    idle jumps (K.idle_ns); under --realtime, the host's monotonic clock
    since boot."""
    K = state.K
    if K.realtime_base:
        return host_time.monotonic_ns() - K.realtime_base
    t = K.idle_ns
    for cpu in K.cpus:
        blocks, _left, sysc, traps = COUNTERS.unpack_from(cpu.hw.shared, COUNTERS_OFF)
        t += blocks * BLOCK_NS + sysc * SYSCALL_NS + traps * TRAP_NS
    return t


def timekeeping_init(K) -> None:
    """Set the realtime offset at boot (fixed, or the host's under --realtime)."""
    if K.opts.realtime:
        K.realtime_base = host_time.monotonic_ns()
        K.real_offset = host_time.time_ns()
    else:
        K.real_offset = REALTIME_BASE_NS


def real_offset() -> int:
    """CLOCK_REALTIME minus CLOCK_MONOTONIC (offs_real)."""
    return state.K.real_offset


def ktime_get_real_ns() -> int:
    return ktime_get_ns() + state.K.real_offset


def wall_clock_ns(which: int) -> int:
    """Now on a non-CPU clock."""
    now = ktime_get_ns()
    return now + state.K.real_offset if which in REALTIME_CLOCKS else now


def to_monotonic(which: int, t: int) -> int:
    """An absolute time on clock `which` as monotonic ns (maybe negative:
    already past)."""
    return t - state.K.real_offset if which in REALTIME_CLOCKS else t


# --- user copies ----------------------------------------------------------------

_TS = struct.Struct("<qq")


def timespec_valid(sec: int, nsec: int) -> bool:
    return sec >= 0 and 0 <= nsec < NSEC_PER_SEC


def get_timespec64(uaddr: int) -> tuple[int, int]:
    """Copy a struct timespec in (unvalidated: sec, nsec)."""
    return _TS.unpack(copy_from_user(uaddr, 16))


def get_timespec_ns(uaddr: int) -> int:
    """A valid timespec as ns, else EINVAL."""
    sec, nsec = get_timespec64(uaddr)
    if not timespec_valid(sec, nsec):
        raise Errno(EINVAL)
    return timespec_to_ns(sec, nsec)


def timespec_to_ns(sec: int, nsec: int) -> int:
    """As timespec64_to_ktime: seconds past KTIME_MAX saturate."""
    if sec >= KTIME_MAX // NSEC_PER_SEC:
        return KTIME_MAX
    return sec * NSEC_PER_SEC + nsec


def ns_to_timespec(ns: int) -> bytes:
    return _TS.pack(ns // NSEC_PER_SEC, ns % NSEC_PER_SEC)


def put_timespec64(uaddr: int, ns: int) -> None:
    copy_to_user(uaddr, ns_to_timespec(ns))


def ns_to_timeval(ns: int) -> bytes:
    return _TS.pack(ns // NSEC_PER_SEC, (ns % NSEC_PER_SEC) // NSEC_PER_USEC)


def put_timeval(uaddr: int, ns: int) -> None:
    copy_to_user(uaddr, ns_to_timeval(ns))


def get_itimerspec(uaddr: int) -> tuple[int, int]:
    """(value, interval) in ns of a struct itimerspec; EINVAL unless both
    are valid timespecs."""
    isec, insec, vsec, vnsec = struct.unpack("<qqqq", copy_from_user(uaddr, 32))
    if not timespec_valid(isec, insec) or not timespec_valid(vsec, vnsec):
        raise Errno(EINVAL)
    return timespec_to_ns(vsec, vnsec), timespec_to_ns(isec, insec)


def put_itimerspec(uaddr: int, value: int, interval: int) -> None:
    copy_to_user(uaddr, ns_to_timespec(interval) + ns_to_timespec(value))
