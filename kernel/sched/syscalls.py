"""Scheduling policy and priority calls (kernel/sched/syscalls.c and
sys.c's getpriority/setpriority): sched_setscheduler, sched_setparam,
sched_getscheduler, sched_getparam, sched_setattr, sched_getattr,
sched_get_priority_min/max, sched_rr_get_interval, sched_setaffinity,
sched_getaffinity, getpriority, setpriority.

Values are stored per thread (task_struct.sched_params) and returned
with Linux's errno rules; fork copies them (SCHED_RESET_ON_FORK resets a
real-time or negative-nice child to SCHED_NORMAL, nice 0).  The scheduler
does not honour them: every runnable task still gets the same
round-robin slices and runs on any CPU, whatever its policy, nice value
or affinity.  Without CAP_SYS_NICE a caller changes only tasks of its
own uid, and RLIMIT_RTPRIO and RLIMIT_NICE bound what it may raise.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, replace

from .. import state
from ..cred import CAP_SYS_NICE, capable
from ..mm.uaccess import copy_from_user, copy_to_user, get_user_u32, put_user_u32
from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..task import PF_KTHREAD, task_struct
from ..types import UPtr, c_int, c_uint, pid_t
from ..uapi import E2BIG, EACCES, EINVAL, EOPNOTSUPP, EPERM, ESRCH

SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE = 0, 1, 2, 3, 5, 6
SCHED_RESET_ON_FORK = 0x40000000
SCHED_FLAG_RESET_ON_FORK, SCHED_FLAG_RECLAIM, SCHED_FLAG_DL_OVERRUN = 0x01, 0x02, 0x04
SCHED_FLAG_KEEP_POLICY, SCHED_FLAG_KEEP_PARAMS = 0x08, 0x10
SCHED_FLAG_UTIL_CLAMP = 0x20 | 0x40          # needs CONFIG_UCLAMP_TASK
SCHED_FLAG_ALL = 0x7F
SCHED_ATTR_SIZE_VER0, SCHED_ATTR_SIZE_VER1 = 48, 56
MAX_RT_PRIO = 100
MIN_NICE, MAX_NICE = -20, 19
PRIO_PROCESS, PRIO_PGRP, PRIO_USER = 0, 1, 2
RLIMIT_NICE, RLIMIT_RTPRIO = 13, 14
RR_TIMESLICE_NS = 100_000_000                # sched_rr_timeslice_ms = 100
PAGE_SIZE = 4096
_SCHED_ATTR = struct.Struct("<IIQiIQQQII")
_FAIR = (SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE)
_NICE = (SCHED_NORMAL, SCHED_BATCH)          # fair_policy: sched_setattr sets nice
_RT = (SCHED_FIFO, SCHED_RR)


@dataclass(frozen=True)
class sched_params:
    """A thread's policy and priorities (policy, rt_priority, static_prio
    as a nice value, the deadline parameters, sched_reset_on_fork)."""
    policy: int = SCHED_NORMAL
    rt_priority: int = 0
    nice: int = 0
    runtime: int = 0
    deadline: int = 0
    period: int = 0
    reset_on_fork: bool = False


DEFAULT_PARAMS = sched_params()


def task_params(p: task_struct) -> sched_params:
    return p.sched_params or DEFAULT_PARAMS


def sched_fork(p: task_struct, parent: task_struct) -> None:
    """The child's policy and priorities: the parent's, unless it asked
    for SCHED_RESET_ON_FORK."""
    sp = task_params(parent)
    if sp.reset_on_fork:
        if sp.policy not in _FAIR:
            sp = DEFAULT_PARAMS
        else:
            sp = replace(sp, nice=max(sp.nice, 0), reset_on_fork=False)
    p.sched_params = None if sp == DEFAULT_PARAMS else sp


def find_process_by_pid(pid: int) -> task_struct:
    """pid 0 is the caller; else any thread by its id (ESRCH if none)."""
    if pid == 0:
        return current()
    p = state.K.tasks.get(pid)
    if p is None or pid < 0:
        raise Errno(ESRCH)
    return p


def capable_sys_nice() -> bool:
    return capable(CAP_SYS_NICE)


def check_same_owner(p: task_struct) -> bool:
    """The caller's euid is p's uid or euid (or it has CAP_SYS_NICE)."""
    me, them = current().cred, p.cred
    return me.euid in (them.uid, them.euid) or capable_sys_nice()


def can_nice(p: task_struct, nice: int) -> bool:
    """May nice go down to `nice`: RLIMIT_NICE (20 - nice) or CAP_SYS_NICE."""
    return 20 - nice <= p.signal.rlim[RLIMIT_NICE][0] or capable_sys_nice()


def valid_policy(policy: int) -> bool:
    return policy in _FAIR or policy in _RT or policy == SCHED_DEADLINE


def checkparam_dl(runtime: int, deadline: int, period: int) -> bool:
    if deadline == 0 or runtime < 1 << 10:
        return False
    if deadline & (1 << 63) or period & (1 << 63):
        return False
    period = period or deadline
    return period >= deadline >= runtime


def __sched_setscheduler(p: task_struct, new: sched_params, keep_params: bool = False) -> int:
    """Check `new` for p (EINVAL for a bad priority, EPERM for one the
    caller may not take) and store it."""
    old = task_params(p)
    if not check_same_owner(p):
        raise Errno(EPERM)
    if not valid_policy(new.policy):
        raise Errno(EINVAL)
    if new.rt_priority > MAX_RT_PRIO - 1:
        raise Errno(EINVAL)
    if new.policy == SCHED_DEADLINE and not keep_params and \
            not checkparam_dl(new.runtime, new.deadline, new.period):
        raise Errno(EINVAL)
    if (new.policy in _RT) != (new.rt_priority != 0):
        raise Errno(EINVAL)
    if not capable_sys_nice():
        if new.policy in _FAIR and new.nice < old.nice and not can_nice(p, new.nice):
            raise Errno(EPERM)
        if old.policy == SCHED_IDLE and new.policy != SCHED_IDLE and not can_nice(p, old.nice):
            raise Errno(EPERM)
        if new.policy in _RT:
            limit = p.signal.rlim[RLIMIT_RTPRIO][0]
            if old.policy not in _RT and not limit:
                raise Errno(EPERM)
            if new.rt_priority > max(old.rt_priority, limit):
                raise Errno(EPERM)
        if new.policy == SCHED_DEADLINE:
            raise Errno(EPERM)
        if old.reset_on_fork and not new.reset_on_fork:
            raise Errno(EPERM)
    if new.policy in _FAIR:
        new = replace(new, rt_priority=0, runtime=0, deadline=0, period=0)
    elif new.policy in _RT:
        new = replace(new, runtime=0, deadline=0, period=0)
    p.sched_params = None if new == DEFAULT_PARAMS else new
    return 0


def do_sched_setscheduler(pid: int, policy: int, param: int) -> int:
    """sched_setscheduler and sched_setparam (policy -1: keep it)."""
    if not param or pid < 0:
        raise Errno(EINVAL)
    prio = struct.unpack("<i", copy_from_user(param, 4))[0]
    p = find_process_by_pid(pid)
    old = task_params(p)
    reset = old.reset_on_fork
    if policy == -1:
        policy = old.policy
    else:
        reset = bool(policy & SCHED_RESET_ON_FORK)
        policy &= ~SCHED_RESET_ON_FORK
    if prio < 0:
        raise Errno(EINVAL)
    new = replace(old, policy=policy, rt_priority=prio, reset_on_fork=reset)
    return __sched_setscheduler(p, new, keep_params=policy == old.policy == SCHED_DEADLINE)


@syscall("sched_setscheduler")
def sys_sched_setscheduler(pid: pid_t, policy: c_int, param: UPtr) -> int:
    if policy < 0:
        raise Errno(EINVAL)
    return do_sched_setscheduler(pid, policy, param)


@syscall("sched_setparam")
def sys_sched_setparam(pid: pid_t, param: UPtr) -> int:
    return do_sched_setscheduler(pid, -1, param)


@syscall("sched_getscheduler")
def sys_sched_getscheduler(pid: pid_t) -> int:
    if pid < 0:
        raise Errno(EINVAL)
    sp = task_params(find_process_by_pid(pid))
    return sp.policy | (SCHED_RESET_ON_FORK if sp.reset_on_fork else 0)


@syscall("sched_getparam")
def sys_sched_getparam(pid: pid_t, param: UPtr) -> int:
    if not param or pid < 0:
        raise Errno(EINVAL)
    sp = task_params(find_process_by_pid(pid))
    copy_to_user(param, struct.pack("<i", sp.rt_priority if sp.policy in _RT else 0))
    return 0


def sched_copy_attr(uattr: int) -> tuple:
    """Read a struct sched_attr of any size the caller says (E2BIG, with
    the size we know written back, if it is too small, too big, or has
    non-zero bytes past what we know)."""
    size = get_user_u32(uattr)
    if size > PAGE_SIZE:
        put_user_u32(uattr, SCHED_ATTR_SIZE_VER1)
        raise Errno(E2BIG)
    if size == 0:
        size = SCHED_ATTR_SIZE_VER0
    if size < SCHED_ATTR_SIZE_VER0:
        put_user_u32(uattr, SCHED_ATTR_SIZE_VER1)
        raise Errno(E2BIG)
    raw = copy_from_user(uattr, size)
    if any(raw[SCHED_ATTR_SIZE_VER1:]):
        put_user_u32(uattr, SCHED_ATTR_SIZE_VER1)
        raise Errno(E2BIG)
    raw = raw[:SCHED_ATTR_SIZE_VER1].ljust(SCHED_ATTR_SIZE_VER1, b"\0")
    return _SCHED_ATTR.unpack(raw)


@syscall("sched_setattr")
def sys_sched_setattr(pid: pid_t, uattr: UPtr, flags: c_uint) -> int:
    if not uattr or pid < 0 or flags:
        raise Errno(EINVAL)
    (_size, policy, sflags, nice, prio, runtime, deadline, period,
     _umin, _umax) = sched_copy_attr(uattr)
    if policy >= 1 << 31:
        raise Errno(EINVAL)
    p = find_process_by_pid(pid)
    old = task_params(p)
    if sflags & ~SCHED_FLAG_ALL:
        raise Errno(EINVAL)
    if sflags & SCHED_FLAG_UTIL_CLAMP:
        raise Errno(EOPNOTSUPP)       # no CONFIG_UCLAMP_TASK
    if sflags & SCHED_FLAG_KEEP_POLICY:
        policy = old.policy
    nice = min(max(nice, MIN_NICE), MAX_NICE)
    if sflags & SCHED_FLAG_KEEP_PARAMS:
        new = replace(old, policy=policy)
    else:
        new = replace(old, policy=policy, rt_priority=prio, runtime=runtime,
                      deadline=deadline, period=period,
                      nice=nice if policy in _NICE else old.nice)
    new = replace(new, reset_on_fork=bool(sflags & SCHED_FLAG_RESET_ON_FORK))
    return __sched_setscheduler(p, new, keep_params=bool(sflags & SCHED_FLAG_KEEP_PARAMS))


@syscall("sched_getattr")
def sys_sched_getattr(pid: pid_t, uattr: UPtr, usize: c_uint, flags: c_uint) -> int:
    if not uattr or pid < 0 or usize > PAGE_SIZE or usize < SCHED_ATTR_SIZE_VER0 or flags:
        raise Errno(EINVAL)
    sp = task_params(find_process_by_pid(pid))
    size = min(usize, SCHED_ATTR_SIZE_VER1)
    raw = _SCHED_ATTR.pack(size, sp.policy, SCHED_FLAG_RESET_ON_FORK if sp.reset_on_fork else 0,
                           sp.nice if sp.policy in _FAIR else 0,   # SCHED_IDLE's too
                           sp.rt_priority if sp.policy in _RT else 0,
                           sp.runtime, sp.deadline, sp.period, 0, 0)
    copy_to_user(uattr, raw[:size])
    return 0


@syscall("sched_get_priority_max")
def sys_sched_get_priority_max(policy: c_int) -> int:
    if policy in _RT:
        return MAX_RT_PRIO - 1
    if policy in _FAIR or policy == SCHED_DEADLINE:
        return 0
    raise Errno(EINVAL)


@syscall("sched_get_priority_min")
def sys_sched_get_priority_min(policy: c_int) -> int:
    if policy in _RT:
        return 1
    if policy in _FAIR or policy == SCHED_DEADLINE:
        return 0
    raise Errno(EINVAL)


@syscall("sched_rr_get_interval")
def sys_sched_rr_get_interval(pid: pid_t, interval: UPtr) -> int:
    """SCHED_RR's time slice (100 ms); 0 for FIFO and, as on a lightly
    loaded Linux whose fair slice is under a jiffy, for the fair classes."""
    if pid < 0:
        raise Errno(EINVAL)
    sp = task_params(find_process_by_pid(pid))
    ns = RR_TIMESLICE_NS if sp.policy == SCHED_RR else 0
    copy_to_user(interval, struct.pack("<qq", ns // 1_000_000_000, ns % 1_000_000_000))
    return 0


def online_mask() -> int:
    return (1 << len(state.K.cpus)) - 1


@syscall("sched_setaffinity")
def sys_sched_setaffinity(pid: pid_t, len_: c_uint, user_mask_ptr: UPtr) -> int:
    """Store the mask (the CPUs that exist of it; EINVAL if none)."""
    n = min(len_, 128)
    mask = int.from_bytes(copy_from_user(user_mask_ptr, n), "little") if n else 0
    p = find_process_by_pid(pid)
    if p.flags & PF_KTHREAD:
        raise Errno(EINVAL)
    if not mask & online_mask():
        raise Errno(EINVAL)
    p.cpus_mask = mask & online_mask()
    return 0


@syscall("sched_getaffinity")
def sys_sched_getaffinity(pid: pid_t, len_: c_uint, user_mask_ptr: UPtr) -> int:
    """The mask set (all CPUs by default), in as many bytes as a long
    holds them: 8."""
    if len_ < 8 or len_ & 7:
        raise Errno(EINVAL)
    p = find_process_by_pid(pid)
    mask = p.cpus_mask or online_mask()
    copy_to_user(user_mask_ptr, struct.pack("<Q", mask))
    return 8


# --- nice: getpriority / setpriority (kernel/sys.c) ---------------------------

def prio_targets(which: int, who: int) -> list[task_struct]:
    """The threads `which`/`who` names (EINVAL for a bad `which`)."""
    K = state.K
    me = current()
    if which == PRIO_PROCESS:
        if who == 0:
            return [me]
        p = K.tasks.get(who)
        return [p] if p is not None and who > 0 and not p.exit_state else []
    if which == PRIO_PGRP:
        pgrp = who or me.signal.pgrp
        return [t for t in K.tasks.values() if t.signal.pgrp == pgrp and not t.exit_state
                and not t.flags & PF_KTHREAD]
    if which == PRIO_USER:
        uid = who or me.cred.uid
        return [t for t in K.tasks.values() if not t.exit_state and not t.flags & PF_KTHREAD
                and t.cred.uid == uid]
    raise Errno(EINVAL)


@syscall("getpriority")
def sys_getpriority(which: c_int, who: c_int) -> int:
    """20 - nice of the highest-priority thread named (glibc makes it a
    nice value again); ESRCH if none."""
    targets = prio_targets(which, who)
    if not targets:
        raise Errno(ESRCH)
    return max(20 - task_params(t).nice for t in targets)


@syscall("setpriority")
def sys_setpriority(which: c_int, who: c_int, niceval: c_int) -> int:
    targets = prio_targets(which, who)
    if not targets:
        raise Errno(ESRCH)
    nice = min(max(niceval, MIN_NICE), MAX_NICE)
    err = 0
    for p in targets:
        sp = task_params(p)
        me = current().cred
        if p.cred.euid not in (me.uid, me.euid) and not capable_sys_nice():
            err = EPERM               # set_one_prio
            continue
        if nice < sp.nice and not can_nice(p, nice):
            err = EACCES
            continue
        new = replace(sp, nice=nice)
        p.sched_params = None if new == DEFAULT_PARAMS else new
    if err:
        raise Errno(err)
    return 0

