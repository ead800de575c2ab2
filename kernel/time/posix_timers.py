"""POSIX clocks and timers (kernel/time/posix-timers.c): clock_gettime,
clock_getres, clock_nanosleep, timer_create, timer_settime,
timer_gettime, timer_getoverrun, timer_delete.

A k_itimer belongs to its process (signal.posix_timers, by id) and runs
on an hrtimer (wall clocks) or a cpu_timer (CPU clocks).  When it fires
it queues its own siginfo (SI_TIMER, si_timerid, si_value) to the
process or, with SIGEV_THREAD_ID, to one thread.  A periodic timer is
not re-armed when it fires but when its signal is dequeued
(posixtimer_deliver_signal): the intervals that passed meanwhile are its
overrun, reported in si_overrun and by timer_getoverrun.  Setting or
deleting a timer bumps it_signal_seq, so a signal it queued before is
dropped instead of delivered, as Linux 6.13 and later do.

Not modelled: a timer signal that is ignored when it fires is lost (Linux
keeps it aside and requeues it when the signal is no longer ignored), the
alarm clocks wake nothing up (there is no suspend), and RLIMIT_SIGPENDING
does not limit the number of timers.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Optional

from .. import state
from ..mm.uaccess import copy_from_user, copy_to_user, put_user_s32
from ..panic import Errno
from ..percpu import current
from ..sched.wait import BlockOn
from ..siginfo import kernel_siginfo
from ..syscalls import syscall
from ..task import task_struct
from ..types import UPtr, c_int
from ..uapi import (
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME,
    CLOCK_THREAD_CPUTIME_ID, EINVAL, EOPNOTSUPP, ERESTART_RESTARTBLOCK, ERESTARTNOHAND,
    SI_TIMER, SIGALRM, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID, TIMER_ABSTIME,
)
from .hrtimer import (
    HRTIMER_NORESTART, do_nanosleep, hrtimer, hrtimer_cancel, hrtimer_start,
)
from .posix_cpu_timers import (
    arm_cpu_timer, cpu_clock_now, cpu_clock_sample, cpu_timer, cpu_timer_owner,
    disarm_cpu_timer, is_cpu_clock,
)
from .timekeeping import (
    CLOCK_BOOTTIME_ALARM, CLOCK_REALTIME_ALARM, CLOCK_TAI, WALL_CLOCKS, get_itimerspec,
    get_timespec_ns, ktime_get_ns, ns_to_timespec, put_itimerspec, put_timespec64, to_monotonic,
    wall_clock_ns,
)

_SIGRTMAX = 64
INT_MAX = (1 << 31) - 1
# it_status
POSIX_TIMER_DISARMED, POSIX_TIMER_ARMED, POSIX_TIMER_REQUEUE_PENDING = 0, 1, 2
# Clocks clock_nanosleep and timer_create take (those with nsleep/timer_create).
_SLEEP_CLOCKS = frozenset({CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI,
                           CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM})


# --- clocks ------------------------------------------------------------------

def clock_now(which_clock: int) -> int:
    """Now on any clock (EINVAL for an unknown one)."""
    if which_clock in WALL_CLOCKS:
        return wall_clock_ns(which_clock)
    if is_cpu_clock(which_clock):
        return cpu_clock_now(which_clock)
    raise Errno(EINVAL)


@syscall("clock_gettime")
def sys_clock_gettime(which_clock: c_int, tp: UPtr) -> int:
    put_timespec64(tp, clock_now(which_clock))
    return 0


@syscall("clock_getres")
def sys_clock_getres(which_clock: c_int, tp: UPtr) -> int:
    clock_now(which_clock)
    if tp:
        copy_to_user(tp, ns_to_timespec(1))     # high resolution: 1 ns
    return 0


@syscall("clock_nanosleep")
def sys_clock_nanosleep(which_clock: c_int, flags: c_int, rqtp: UPtr, rmtp: UPtr) -> int:
    if which_clock in _SLEEP_CLOCKS:
        t = get_timespec_ns(rqtp)
        if flags & TIMER_ABSTIME:
            return do_nanosleep(to_monotonic(which_clock, t), 0, True)
        return do_nanosleep(ktime_get_ns() + t, rmtp, False)
    if which_clock in WALL_CLOCKS:
        raise Errno(EOPNOTSUPP)                 # MONOTONIC_RAW, the coarse clocks
    if which_clock == CLOCK_THREAD_CPUTIME_ID:
        raise Errno(EOPNOTSUPP)                 # clock_thread has no nsleep
    if not is_cpu_clock(which_clock):
        raise Errno(EINVAL)
    owner, which = cpu_timer_owner(which_clock)
    if owner is current():
        raise Errno(EINVAL)                     # one's own thread clock never advances asleep
    t = get_timespec_ns(rqtp)
    now = cpu_clock_sample(which, owner)
    return do_cpu_nanosleep(owner, which, t if flags & TIMER_ABSTIME else now + t,
                            rmtp, bool(flags & TIMER_ABSTIME))


def do_cpu_nanosleep(owner: Any, which: int, expires: int, rmtp: int, absolute: bool) -> int:
    """Sleep until a CPU clock (another thread's or a process's) reaches
    `expires`: a cpu_timer wakes the sleeper.  Signals as do_nanosleep."""
    from ..sched.core import wake_up_process
    tsk = current()
    if cpu_clock_sample(which, owner) >= expires:
        return 0

    def wake(t: cpu_timer, _now: int) -> None:
        wake_up_process(tsk)
    timer = cpu_timer(which, owner, wake)
    arm_cpu_timer(timer, expires)

    def interrupted() -> int:
        disarm_cpu_timer(timer)
        if absolute:
            raise Errno(ERESTARTNOHAND)
        left = expires - cpu_clock_sample(which, owner)
        if left <= 0:
            return 0
        if rmtp:
            put_timespec64(rmtp, left)
        tsk.restart_block = lambda: do_cpu_nanosleep(owner, which, expires, rmtp, False)
        raise Errno(ERESTART_RESTARTBLOCK)

    def sleep() -> int:
        gone = owner.exit_state if isinstance(owner, task_struct) else not owner.nr_threads
        if gone or cpu_clock_sample(which, owner) >= expires:
            disarm_cpu_timer(timer)
            return 0
        raise BlockOn([], sleep, interrupted=interrupted)
    return sleep()


# --- timers ------------------------------------------------------------------

@dataclass(eq=False)
class k_itimer:
    it_id: int
    it_clock: int
    it_sigev_notify: int
    it_signal: Any                      # the owning signal_struct
    it_pid: task_struct                 # the thread (SIGEV_THREAD_ID) or the leader
    sigq: kernel_siginfo                # the siginfo it queues, always the same object
    it_interval: int = 0
    it_overrun: int = -1
    it_overrun_last: int = 0
    it_signal_seq: int = 0
    it_status: int = POSIX_TIMER_DISARMED
    expires: int = 0                    # on its clock (monotonic ns for the wall clocks)
    hrt: Optional[hrtimer] = None
    cput: Optional[cpu_timer] = None
    deleted: bool = False


def timer_now(timr: k_itimer) -> int:
    if timr.cput is not None:
        return cpu_clock_sample(timr.cput.which, timr.cput.owner)
    return ktime_get_ns()


def timer_arm(timr: k_itimer, expires: int) -> None:
    timr.expires = expires
    if timr.cput is not None:
        arm_cpu_timer(timr.cput, max(1, expires))
    else:
        hrtimer_start(timr.hrt, expires)


def timer_cancel(timr: k_itimer) -> None:
    if timr.cput is not None:
        disarm_cpu_timer(timr.cput)
    else:
        hrtimer_cancel(timr.hrt)


def timer_forward(timr: k_itimer, now: int) -> int:
    """Move the expiry past `now` by whole intervals; how many."""
    delta = now - timr.expires
    if delta < 0 or not timr.it_interval:
        return 0
    n = delta // timr.it_interval + 1
    timr.expires += n * timr.it_interval
    return n


def posix_timer_fn(timr: k_itimer) -> None:
    """The timer expired: queue its signal; a periodic one waits for the
    signal's dequeue to be re-armed (REQUEUE_PENDING)."""
    timr.it_status = POSIX_TIMER_REQUEUE_PENDING if timr.it_interval else POSIX_TIMER_DISARMED
    posix_timer_queue_signal(timr)


def _hrtimer_fn(t: hrtimer) -> int:
    posix_timer_fn(t.data)
    return HRTIMER_NORESTART


def _cpu_timer_fn(t: cpu_timer, now: int) -> None:
    posix_timer_fn(t.data)


def posix_timer_queue_signal(timr: k_itimer) -> None:
    """send_sigqueue: queue the timer's own siginfo to its target, once:
    while it is still queued, a new expiry only counts an overrun."""
    from ..signal import complete_signal, prepare_signal, sigmask, sigqueue_alloc
    si = timr.sigq
    si.sys_private = (timr, timr.it_signal_seq)
    group = not timr.it_sigev_notify & SIGEV_THREAD_ID
    t = timr.it_pid
    if group and t.exit_state:
        t = next((x for x in timr.it_signal.threads if not x.exit_state), t)
    if t.exit_state or not prepare_signal(si.signo, t):
        return                       # a dead target or an ignored signal: lost
    owner = t.signal if group else t
    queue = owner.shared_sigqueue if group else owner.sigqueue
    if any(x is si for x in queue):
        si.overrun += 1
        return
    m = sigmask(si.signo)
    pend = owner.shared_pending if group else owner.pending
    if si.signo < 32 and pend & m:
        return                       # a standard signal is queued once (legacy_queue)
    sigqueue_alloc(t, True)
    si.overrun = 0
    queue.append(si)
    if group:
        owner.shared_pending |= m
    else:
        owner.pending |= m
    complete_signal(si.signo, t, group)


def posixtimer_deliver_signal(info: kernel_siginfo) -> bool:
    """A timer's signal is being dequeued: False to drop it (its timer was
    set again or deleted since); re-arm a periodic timer past now and
    set si_overrun to the intervals missed."""
    timr, seq = info.sys_private
    if timr.deleted or timr.it_signal_seq != seq:
        return False
    if timr.it_status == POSIX_TIMER_REQUEUE_PENDING:
        timr.it_overrun += timer_forward(timr, timer_now(timr))
        timer_arm(timr, timr.expires)
        timr.it_status = POSIX_TIMER_ARMED
        timr.it_overrun_last = timr.it_overrun
        timr.it_overrun = -1
        info.overrun = min(INT_MAX, timr.it_overrun_last + info.overrun)
    return True


def _sigqueue_unqueue(timr: k_itimer) -> None:
    """Take a deleted timer's queued siginfo off its queue."""
    from ..signal import sigmask, sigqueue_free
    si = timr.sigq
    for owner, qattr, pattr in [(timr.it_signal, "shared_sigqueue", "shared_pending")] + \
            [(t, "sigqueue", "pending") for t in timr.it_signal.threads]:
        q = getattr(owner, qattr)
        for i, x in enumerate(q):
            if x is si:
                del q[i]
                sigqueue_free()
                if not any(y.signo == si.signo for y in q):
                    setattr(owner, pattr, getattr(owner, pattr) & ~sigmask(si.signo))
                return


_SIGEVENT = struct.Struct("<Qiii")   # sigev_value, sigev_signo, sigev_notify, _tid


def good_sigevent(notify: int, signo: int, tid: int) -> task_struct:
    """The task a timer signals (good_sigevent), or EINVAL."""
    tsk = current()
    if notify == SIGEV_SIGNAL | SIGEV_THREAD_ID:
        t = state.K.tasks.get(tid)
        if t is None or tid <= 0 or t.exit_state or t.signal is not tsk.signal:
            raise Errno(EINVAL)
    elif notify not in (SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_NONE):
        raise Errno(EINVAL)
    else:
        t = tsk.group_leader
    if notify != SIGEV_NONE and not 0 < signo <= _SIGRTMAX:
        raise Errno(EINVAL)
    return t


@syscall("timer_create")
def sys_timer_create(which_clock: c_int, timer_event_spec: UPtr, created_timer_id: UPtr) -> int:
    tsk = current()
    if which_clock in WALL_CLOCKS and which_clock not in _SLEEP_CLOCKS:
        raise Errno(EOPNOTSUPP)                 # MONOTONIC_RAW, the coarse clocks
    if which_clock not in _SLEEP_CLOCKS and not is_cpu_clock(which_clock):
        raise Errno(EINVAL)
    cput_owner = cput_which = None
    if is_cpu_clock(which_clock):
        cput_owner, cput_which = cpu_timer_owner(which_clock)
    sig = tsk.signal
    timer_id = sig.next_posix_timer_id
    while timer_id in sig.posix_timers:
        timer_id = (timer_id + 1) & INT_MAX
    if timer_event_spec:
        value, signo, notify, tid = _SIGEVENT.unpack(copy_from_user(timer_event_spec, 20))
        target = good_sigevent(notify, signo, tid)
    else:
        value, signo, notify = timer_id, SIGALRM, SIGEV_SIGNAL
        target = tsk.group_leader
    timr = k_itimer(timer_id, which_clock, notify, sig, target,
                    kernel_siginfo(signo, SI_TIMER, tid=timer_id, value=value))
    if cput_owner is not None:
        timr.cput = cpu_timer(cput_which, cput_owner, _cpu_timer_fn, timr)
    else:
        timr.hrt = hrtimer(_hrtimer_fn, timr)
    put_user_s32(created_timer_id, timer_id)   # EFAULT: no timer made
    sig.posix_timers[timer_id] = timr
    sig.next_posix_timer_id = (timer_id + 1) & INT_MAX
    return 0


def lock_timer(timer_id: int) -> k_itimer:
    timr = current().signal.posix_timers.get(timer_id)
    if timr is None:
        raise Errno(EINVAL)
    return timr


def common_timer_get(timr: k_itimer) -> tuple[int, int]:
    """(time to the next expiry, interval) as timer_gettime reports them."""
    sig_none = timr.it_sigev_notify == SIGEV_NONE
    iv = timr.it_interval
    if not iv and timr.it_status == POSIX_TIMER_DISARMED and not sig_none:
        return 0, 0
    if not iv and sig_none and not timr.expires:
        return 0, 0
    now = timer_now(timr)
    if iv and timr.it_status != POSIX_TIMER_ARMED:
        timr.it_overrun += timer_forward(timr, now)
    remaining = timr.expires - now
    if remaining <= 0:
        return (0 if sig_none else 1), iv
    return remaining, iv


@syscall("timer_gettime")
def sys_timer_gettime(timer_id: c_int, setting: UPtr) -> int:
    value, interval = common_timer_get(lock_timer(timer_id))
    put_itimerspec(setting, value, interval)
    return 0


@syscall("timer_getoverrun")
def sys_timer_getoverrun(timer_id: c_int) -> int:
    return min(INT_MAX, lock_timer(timer_id).it_overrun_last)


@syscall("timer_settime")
def sys_timer_settime(timer_id: c_int, flags: c_int, new_setting: UPtr, old_setting: UPtr) -> int:
    if not new_setting:
        raise Errno(EINVAL)
    value, interval = get_itimerspec(new_setting)
    timr = lock_timer(timer_id)
    if old_setting:
        old = common_timer_get(timr)
    common_timer_set(timr, flags, value, interval)
    if old_setting:
        put_itimerspec(old_setting, *old)
    return 0


def common_timer_set(timr: k_itimer, flags: int, value: int, interval: int) -> None:
    """Disarm, forget any queued expiry (it_signal_seq), then arm for
    `value` (relative, or absolute on the timer's clock with
    TIMER_ABSTIME) and `interval`.  A SIGEV_NONE timer is never queued:
    timer_gettime computes its expiries."""
    timer_cancel(timr)
    timr.it_interval = 0
    timr.it_signal_seq += 1
    timr.it_status = POSIX_TIMER_DISARMED
    timr.it_overrun_last = 0
    timr.it_overrun = -1
    timr.expires = 0
    if not value:
        return
    timr.it_interval = interval
    if flags & TIMER_ABSTIME:
        expires = value if timr.cput is not None else to_monotonic(timr.it_clock, value)
    else:
        expires = timer_now(timr) + value
    if timr.it_sigev_notify == SIGEV_NONE:
        timr.expires = expires
        return
    timer_arm(timr, expires)
    timr.it_status = POSIX_TIMER_ARMED


def itimer_delete(timr: k_itimer) -> None:
    timer_cancel(timr)
    timr.deleted = True
    timr.it_signal_seq += 1
    _sigqueue_unqueue(timr)
    timr.it_signal.posix_timers.pop(timr.it_id, None)


@syscall("timer_delete")
def sys_timer_delete(timer_id: c_int) -> int:
    itimer_delete(lock_timer(timer_id))
    return 0


def exit_itimers(sig: Any) -> None:
    """exec and the end of a process delete its POSIX timers."""
    for timr in list(sig.posix_timers.values()):
        itimer_delete(timr)

