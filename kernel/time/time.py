"""time and gettimeofday (kernel/time/time.c)."""
from __future__ import annotations

import struct

from ..mm.uaccess import copy_to_user
from ..syscalls import syscall
from ..types import UPtr
from .timekeeping import NSEC_PER_SEC, ktime_get_real_ns, ns_to_timeval


@syscall("gettimeofday")
def sys_gettimeofday(tv: UPtr, tz: UPtr) -> int:
    if tv:
        copy_to_user(tv, ns_to_timeval(ktime_get_real_ns()))
    if tz:
        copy_to_user(tz, bytes(8))
    return 0


@syscall("time")
def sys_time(tloc: UPtr) -> int:
    t = ktime_get_real_ns() // NSEC_PER_SEC
    if tloc:
        copy_to_user(tloc, struct.pack("<q", t))
    return t
