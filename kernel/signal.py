"""Signals (kernel/signal.c): generation, the pending queues, and
get_signal, which acts on them on the way back to user mode.

Each task has a private queue (tsk.pending, tsk.sigqueue: signals sent
to that thread: tkill, tgkill, faults) and its thread group a shared one
(signal.shared_pending, signal.shared_sigqueue: kill, sigqueue).  The
bitmasks say what is pending; the lists hold the siginfo of each queued
instance in arrival order.  A standard signal is queued at most once
(coalesced); a real-time one once per send, counted against the user's
RLIMIT_SIGPENDING (K.sigpending_queued).  Dequeueing takes the
synchronous fault signals first, then the lowest number, from the
private queue before the shared one.

Delivery: kernel/signal_64.py (the frame, the restart rules); the
syscalls that change or wait on signal state: kernel/signal_sys.py.
"""
from __future__ import annotations

import copy
from typing import Optional, Union

from . import state
from .cred import kill_ok_by_cred
from .panic import Errno
from .percpu import current
from .pid_namespace import (
    find_task_by_vpid, task_active_pid_ns, task_pid_nr_ns, task_tgid_nr_ns, task_tgid_vnr,
)
from .sched.core import wake_up_state
from .sched.wait import wake_up
from .siginfo import kernel_siginfo
from .syscall_table import SYSCALL_NR
from .syscalls import syscall
from .task import (
    PF_EXITING, PF_KTHREAD, SIGNAL_GROUP_EXIT, SIGNAL_UNKILLABLE, TASK_INTERRUPTIBLE, TASK_WAKEKILL, k_sigaction,
    task_struct,
)
from .jobctl import (
    JOBCTL_PENDING_MASK, JOBCTL_STOP_DEQUEUED, JOBCTL_STOP_PENDING, SIGNAL_CLD_MASK,
    do_jobctl_notify, do_signal_stop, is_current_pgrp_orphaned, prepare_stop_cont,
)
from .types import pid_t, c_int
from .uapi import (
    EAGAIN, EINTR, EINVAL, EPERM, ESRCH, RLIMIT_CORE, RLIMIT_SIGPENDING, SA_RESETHAND, SI_KERNEL,
    SI_TKILL, SI_USER, SIG_DFL, SIG_IGN, SIGABRT, SIGBUS, SIGCHLD, SIGCONT, SIGFPE, SIGILL,
    SIGKILL, SIGQUIT, SIGRTMIN, SIGSEGV, SIGSTOP, SIGSYS, SIGTRAP, SIGTSTP, SIGTTIN, SIGTTOU,
    SIGURG, SIGWINCH, SIGXCPU, SIGXFSZ,
)

_NSIG = 64
NR_restart_syscall = SYSCALL_NR["restart_syscall"]


def sigmask(sig: int) -> int:
    return 1 << (sig - 1)


def _mask(*sigs: int) -> int:
    m = 0
    for s in sigs:
        m |= sigmask(s)
    return m


SIG_KERNEL_ONLY = _mask(SIGKILL, SIGSTOP)
SIG_KERNEL_IGNORE = _mask(SIGCHLD, SIGCONT, SIGURG, SIGWINCH)
SIG_KERNEL_STOP = _mask(SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU)
SIG_KERNEL_COREDUMP = _mask(SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV,
                            SIGXCPU, SIGXFSZ, SIGSYS)
SYNCHRONOUS_MASK = _mask(SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS)
_UNBLOCKABLE = SIG_KERNEL_ONLY
_SIGKILL_MASK = sigmask(SIGKILL)
_ALL = (1 << _NSIG) - 1
_RT_MASK = _ALL & ~((1 << (SIGRTMIN - 1)) - 1)

# The info argument of send_signal: a kernel_siginfo, or one of these.
SEND_SIG_NOINFO = None            # from user space, kill()-like: SI_USER from current
SEND_SIG_PRIV = "SEND_SIG_PRIV"   # from the kernel: SI_KERNEL
SigInfo = Union[kernel_siginfo, dict, str, None]


def valid_signal(sig: int) -> bool:
    return 0 <= sig <= _NSIG


def current_uid() -> int:
    return current().cred.uid


def si_fromuser(info: SigInfo) -> bool:
    """Was the signal sent by a user call (kill, tkill, sigqueue)?"""
    if info is SEND_SIG_NOINFO:
        return True
    return isinstance(info, kernel_siginfo) and info.code <= 0


def check_kill_permission(sig: int, info: SigInfo, t: task_struct) -> None:
    """EPERM unless the sender may signal t (kill_ok_by_cred), is in t's
    thread group, or sends SIGCONT within t's session."""
    if not valid_signal(sig):
        raise Errno(EINVAL)
    if not si_fromuser(info):
        return
    me = current()
    if me.signal is t.signal or kill_ok_by_cred(me.cred, t.cred):
        return
    if sig == SIGCONT and t.signal.session == me.signal.session:
        return
    raise Errno(EPERM)


# --- what a signal would do ---------------------------------------------------

def sig_handler(tsk: task_struct, sig: int) -> int:
    return tsk.sighand.action[sig].handler


def sig_handler_ignored(handler: int, sig: int) -> bool:
    return handler == SIG_IGN or (handler == SIG_DFL and bool(sigmask(sig) & SIG_KERNEL_IGNORE))


def sig_task_ignored(tsk: task_struct, sig: int, force: bool = False) -> bool:
    if tsk.flags & PF_KTHREAD:
        return True                  # kernel threads (init, kthreadd) take no signals
    handler = sig_handler(tsk, sig)
    # A pid namespace's init takes only the signals it handles, but for
    # SIGKILL/SIGSTOP from an ancestor namespace (or the kernel): `force`.
    if tsk.signal.flags & SIGNAL_UNKILLABLE and handler == SIG_DFL \
            and not (force and sigmask(sig) & SIG_KERNEL_ONLY):
        return True
    return sig_handler_ignored(handler, sig)


def sig_ignored(tsk: task_struct, sig: int, force: bool = False) -> bool:
    """Would `sig` be dropped at once?  Not while blocked (or waited for in
    sigtimedwait): the handler may change before it is unblocked (but a
    namespace init's unwanted signal is dropped even then)."""
    if (tsk.blocked | tsk.real_blocked) & sigmask(sig):
        if not (tsk.signal.flags & SIGNAL_UNKILLABLE and sig_handler(tsk, sig) == SIG_DFL
                and not (force and sigmask(sig) & SIG_KERNEL_ONLY)):
            return False
    return sig_task_ignored(tsk, sig, force)


def sig_fatal(tsk: task_struct, sig: int) -> bool:
    """Would delivering `sig` end the process (default action terminate)?"""
    if sig == SIGKILL:
        return True
    h = sig_handler(tsk, sig)
    return h == SIG_DFL and not sigmask(sig) & (SIG_KERNEL_IGNORE | SIG_KERNEL_STOP)


def signal_pending(tsk: task_struct) -> bool:
    """A signal tsk does not block is pending, or it is to join a group
    stop (TIF_SIGPENDING, as recalc_sigpending sets it)."""
    return bool((tsk.pending | tsk.signal.shared_pending) & ~tsk.blocked
                or tsk.jobctl & JOBCTL_PENDING_MASK)


def fatal_signal_pending(tsk: task_struct) -> bool:
    return bool(tsk.pending & _SIGKILL_MASK)


def signal_wake_up(tsk: task_struct, fatal: bool = False) -> None:
    """Make `tsk` notice a signal: interrupt an interruptible sleep (a
    killable one too when the signal is fatal).  A runnable task notices
    when it next returns to user mode; the running one (a signal it sent
    itself, or a fault) at the end of its syscall (the entry checks) or
    of its trap (the trap path stops the CPU).  A stopped task wakes
    only for a fatal signal (TASK_STOPPED has TASK_WAKEKILL)."""
    wake_up_state(tsk, TASK_INTERRUPTIBLE | (TASK_WAKEKILL if fatal else 0))


# --- generation ------------------------------------------------------------------

def _as_siginfo(sig: int, info: SigInfo) -> kernel_siginfo:
    if isinstance(info, kernel_siginfo):
        return info
    if info is SEND_SIG_NOINFO:
        tsk = current()
        return kernel_siginfo(sig, SI_USER, pid=task_tgid_vnr(tsk) if tsk is not None else 0,
                              uid=current_uid())
    if info is SEND_SIG_PRIV:
        return kernel_siginfo(sig, SI_KERNEL)
    return kernel_siginfo(**info)   # type: ignore[arg-type]  (the older dict form)


def sigqueue_alloc(tsk: task_struct, override_rlimit: bool) -> bool:
    """Count one more queued siginfo against the user's RLIMIT_SIGPENDING
    (the target's limit, as __sigqueue_alloc); False if it is reached."""
    K = state.K
    if not override_rlimit and K.sigpending_queued + 1 > tsk.signal.rlim[RLIMIT_SIGPENDING][0]:
        return False
    K.sigpending_queued += 1
    return True


def sigqueue_free(n: int = 1) -> None:
    state.K.sigpending_queued -= n


def send_signal(sig: int, tsk: task_struct, info: SigInfo = SEND_SIG_NOINFO,
                group: bool = False) -> None:
    """send_signal_locked: queue `sig` for `tsk` (the whole thread group if
    `group`), unless it is ignored or the group is dying, and wake whoever
    must handle it.  Raises Errno(EAGAIN) when a real-time signal sent
    with its own siginfo (sigqueue) would pass RLIMIT_SIGPENDING."""
    force = send_forced(info, tsk)
    if tsk.exit_state or not prepare_signal(sig, tsk, force):
        K = state.K
        if K.listeners and not tsk.exit_state and not tsk.flags & PF_KTHREAD \
                and not tsk.signal.flags & SIGNAL_GROUP_EXIT:
            # Dropped as ignored; a tracer still shows it (under ptrace
            # Linux queues it and strace reports it on its way out).
            K.emit("signal_ignored", task=tsk, **_as_siginfo(sig, info).fields())
        return
    if group:
        owner, pend = tsk.signal, tsk.signal.shared_pending
    else:
        owner, pend = tsk, tsk.pending
    m = sigmask(sig)
    wqh = tsk.sighand.signalfd_wqh
    if wqh is not None and wqh.waiters:
        wake_up(wqh)                 # signalfd_notify: readers of a signalfd see it
    if sig < SIGRTMIN and pend & m:
        return                       # legacy_queue: a standard signal is queued once
    if sig != SIGKILL and not tsk.flags & PF_KTHREAD:
        si = _as_siginfo(sig, info)
        if si.pid and si.code in (SI_USER, SI_TKILL) and current() is not None:
            # si_pid as the receiver's namespace sees the sender (0 from
            # outside it).
            si = copy.copy(si)
            si.pid = task_tgid_nr_ns(current(), task_active_pid_ns(tsk))
        override = sig < SIGRTMIN and (info is SEND_SIG_PRIV or info is SEND_SIG_NOINFO
                                       or si.code >= 0)
        if sigqueue_alloc(tsk, override):
            queue = owner.shared_sigqueue if group else owner.sigqueue
            queue.append(si)
        elif sig >= SIGRTMIN and info is not SEND_SIG_NOINFO and si.code != SI_USER:
            raise Errno(EAGAIN)      # queue overflow: sigqueue fails
        # else: kill() of an RT signal over the limit: sent without its info
    if group:
        tsk.signal.shared_pending |= m
    else:
        tsk.pending |= m
    complete_signal(sig, tsk, group)


def send_forced(info: SigInfo, tsk: task_struct) -> bool:
    """send_signal_locked's `force`: a signal from the kernel, or from a
    task the receiver's pid namespace cannot see (an ancestor's)."""
    if info is SEND_SIG_PRIV:
        return True
    if isinstance(info, kernel_siginfo) and info.code == SI_KERNEL:
        return True
    cur = current()
    return cur is not None and not task_pid_nr_ns(cur, task_active_pid_ns(tsk))


def prepare_signal(sig: int, tsk: task_struct, force: bool = False) -> bool:
    """Is the signal to be queued at all?  Not while the group dies (only
    SIGKILL matters then, and it is already there); not if ignored.  Job
    control acts here, at generation: a stop signal flushes pending
    SIGCONTs, SIGCONT flushes stop signals and resumes the group."""
    if tsk.signal.flags & SIGNAL_GROUP_EXIT:
        return False
    if sig == SIGCONT or sigmask(sig) & SIG_KERNEL_STOP:
        prepare_stop_cont(sig, tsk)
    return not sig_ignored(tsk, sig, force)


def wants_signal(sig: int, tsk: task_struct) -> bool:
    """Can tsk take sig now: it does not block it, and it is running or
    not already told of another signal (Linux's TIF_SIGPENDING)."""
    m = sigmask(sig)
    if tsk.blocked & m or tsk.flags & PF_EXITING:
        return False
    if sig == SIGKILL:
        return True
    return (state.K.cpus[tsk.cpu].curr is tsk
            or not (tsk.pending | tsk.signal.shared_pending) & ~tsk.blocked & ~m)


def complete_signal(sig: int, p: task_struct, group: bool) -> None:
    """Pick the thread that will dequeue the signal and wake it; a fatal
    signal takes the whole group down at once."""
    sig_struct = p.signal
    if wants_signal(sig, p):
        t = p
    elif not group or len(sig_struct.threads) == 1:
        return                       # it dequeues unblocked signals before it runs again
    else:
        threads = sig_struct.threads
        start = sig_struct.curr_target if sig_struct.curr_target in threads else p
        i0 = threads.index(start)
        for k in range(len(threads)):
            t = threads[(i0 + k) % len(threads)]
            if wants_signal(sig, t):
                break
        else:
            return                   # nobody now: an eligible thread will see it
        sig_struct.curr_target = t
    if sig_fatal(p, sig) and not sig_struct.flags & SIGNAL_GROUP_EXIT \
            and not t.real_blocked & sigmask(sig) and not sigmask(sig) & SIG_KERNEL_COREDUMP:
        # Fatal to the whole group: start the group exit and wake everybody.
        sig_struct.flags |= SIGNAL_GROUP_EXIT
        sig_struct.group_exit_code = sig
        sig_struct.group_stop_count = 0
        for t in sig_struct.threads:
            t.jobctl &= ~JOBCTL_PENDING_MASK
            t.pending |= _SIGKILL_MASK
            signal_wake_up(t, True)
        return
    signal_wake_up(t, sig == SIGKILL)


def force_sig_info_to_task(info: kernel_siginfo, tsk: task_struct, sig_dfl: bool = False) -> None:
    """A signal the task cannot refuse (a fault, a bad frame): if it is
    blocked or ignored (or `sig_dfl`), the default action is restored and
    it is unblocked, so it kills."""
    sig = info.signo
    ka = tsk.sighand.action[sig]
    blocked = bool(tsk.blocked & sigmask(sig))
    if blocked or ka.handler == SIG_IGN or sig_dfl:
        tsk.sighand.action[sig] = ka._replace(handler=SIG_DFL)
        if blocked:
            tsk.blocked &= ~sigmask(sig)
    send_signal(sig, tsk, info, False)


def force_sig_fault(tsk: task_struct, sig: int, code: int, addr: int) -> None:
    """A synchronous fault (traps.py): si_code and si_addr as Linux's."""
    force_sig_info_to_task(kernel_siginfo(sig, code, addr=addr), tsk)


def force_sig(sig: int, tsk: task_struct) -> None:
    force_sig_info_to_task(kernel_siginfo(sig, SI_KERNEL), tsk)


def force_sigsegv(sig: int, tsk: task_struct) -> None:
    """A handler's frame could not be set up: SIGSEGV, with the default
    action if it was SIGSEGV's own frame that failed."""
    force_sig_info_to_task(kernel_siginfo(SIGSEGV, SI_KERNEL), tsk, sig_dfl=sig == SIGSEGV)


def flush_sigqueue_mask(tsk: task_struct, mask: int) -> None:
    """Drop the signals in `mask` from tsk's queues and its group's."""
    for owner, attr, qattr in ((tsk.signal, "shared_pending", "shared_sigqueue"),
                               *((t, "pending", "sigqueue") for t in tsk.signal.threads)):
        if getattr(owner, attr) & mask:
            setattr(owner, attr, getattr(owner, attr) & ~mask)
            q = getattr(owner, qattr)
            keep = [i for i in q if not sigmask(i.signo) & mask]
            sigqueue_free(len(q) - len(keep))
            q[:] = keep


def flush_sigqueue(owner) -> None:
    """A dead task's (or group's) queued siginfo goes (__exit_signal)."""
    if isinstance(owner, task_struct):
        q, owner.pending = owner.sigqueue, 0
    else:
        q, owner.shared_pending = owner.shared_sigqueue, 0
    sigqueue_free(len(q))
    q.clear()


def retarget_shared_pending(tsk: task_struct, blocked_now: int) -> None:
    """tsk now blocks `blocked_now`: wake another thread for the shared
    signals it would have taken."""
    pend = tsk.signal.shared_pending & blocked_now
    for t in tsk.signal.threads:
        if not pend:
            return
        if t is tsk or t.flags & PF_EXITING:
            continue
        take = pend & ~t.blocked
        if take:
            pend &= ~take
            signal_wake_up(t)


def set_current_blocked(tsk: task_struct, newset: int) -> None:
    newset &= ~_UNBLOCKABLE & _ALL
    if signal_pending(tsk):
        retarget_shared_pending(tsk, newset & ~tsk.blocked)
    tsk.blocked = newset


# --- dequeueing ------------------------------------------------------------------

def next_signal(pend: int, mask: int) -> int:
    x = pend & ~mask
    if not x:
        return 0
    if x & SYNCHRONOUS_MASK:
        x &= SYNCHRONOUS_MASK
    return (x & -x).bit_length()


def collect_signal(sig: int, owner, queue: list) -> kernel_siginfo:
    """Take sig's first queued siginfo; the pending bit stays while more
    instances are queued."""
    first = None
    more = False
    for i, si in enumerate(queue):
        if si.signo == sig:
            if first is None:
                first = i
            else:
                more = True
                break
    m = sigmask(sig)
    if not more:
        if isinstance(owner, task_struct):
            owner.pending &= ~m
        else:
            owner.shared_pending &= ~m
    if first is None:
        # Sent without a siginfo (SIGKILL, or past RLIMIT_SIGPENDING).
        return kernel_siginfo(sig, SI_USER)
    sigqueue_free()
    return queue.pop(first)


def dequeue_signal(tsk: task_struct, mask: int) -> Optional[kernel_siginfo]:
    """The next signal not in `mask`: tsk's own queue before the group's.
    A POSIX timer's signal is re-armed here, or dropped when its timer
    was set again or deleted since it fired (posixtimer_deliver_signal)."""
    while True:
        info = _dequeue_signal(tsk, mask)
        if info is None or info.sys_private is None:
            return info
        from .time.posix_timers import posixtimer_deliver_signal
        if posixtimer_deliver_signal(info):
            return info


def _dequeue_signal(tsk: task_struct, mask: int) -> Optional[kernel_siginfo]:
    sig = next_signal(tsk.pending, mask)
    if sig:
        info = collect_signal(sig, tsk, tsk.sigqueue)
    else:
        sig = next_signal(tsk.signal.shared_pending, mask)
        if not sig:
            return None
        info = collect_signal(sig, tsk.signal, tsk.signal.shared_sigqueue)
    if sigmask(sig) & SIG_KERNEL_STOP:
        tsk.jobctl |= JOBCTL_STOP_DEQUEUED     # a group stop may start (do_signal_stop)
    return info


def dequeue_synchronous_signal(tsk: task_struct) -> Optional[kernel_siginfo]:
    """A fault signal the task caused itself comes first, so the frame's
    rip is the faulting instruction."""
    sig = next_signal(tsk.pending & SYNCHRONOUS_MASK, tsk.blocked)
    if not sig:
        return None
    for si in tsk.sigqueue:
        if si.signo == sig and si.code > SI_USER and si.code != SI_KERNEL:
            return collect_signal(sig, tsk, tsk.sigqueue)
    return None


def emit_signal(tsk: task_struct, info: kernel_siginfo, ka: k_sigaction) -> None:
    """trace_signal_deliver: the event the tracer shows as --- SIG... ---."""
    K = state.K
    if K.listeners:
        K.emit("signal", task=tsk, handler=ka.handler, **info.fields())


def get_signal(tsk: task_struct) -> Optional[tuple[kernel_siginfo, k_sigaction]]:
    """Dequeue pending signals and take their default actions until one
    has a handler to run: that one's (info, action), or None.  May not
    return to the guest: a fatal signal ends the group here, and a stop
    leaves tsk in TASK_STOPPED (None; the caller keeps its registers and
    calls again when it is woken)."""
    do_group_exit = exit.do_group_exit
    sighand = tsk.sighand
    if tsk.signal.flags & SIGNAL_CLD_MASK:
        do_jobctl_notify(tsk)
    while True:
        if tsk.signal.flags & SIGNAL_GROUP_EXIT:
            tsk.pending &= ~_SIGKILL_MASK
            do_group_exit(tsk.signal.group_exit_code)
            return None
        if tsk.jobctl & JOBCTL_STOP_PENDING and do_signal_stop(tsk, 0):
            return None
        info = dequeue_synchronous_signal(tsk) or dequeue_signal(tsk, tsk.blocked)
        if info is None:
            return None
        sig = info.signo
        ka = sighand.action[sig]
        emit_signal(tsk, info, ka)
        if ka.handler == SIG_IGN:
            continue
        if ka.handler != SIG_DFL:
            if ka.flags & SA_RESETHAND:
                sighand.action[sig] = ka._replace(handler=SIG_DFL)
            return info, ka
        m = sigmask(sig)
        if m & SIG_KERNEL_IGNORE:
            continue
        if tsk.flags & PF_KTHREAD:
            continue
        if tsk.signal.flags & SIGNAL_UNKILLABLE and not m & SIG_KERNEL_ONLY:
            continue                 # a namespace init: no default action
        if m & SIG_KERNEL_STOP:
            # Stop the group.  The terminal's stop signals do nothing in
            # an orphaned process group; SIGSTOP always stops.
            if sig != SIGSTOP and is_current_pgrp_orphaned(tsk):
                continue
            if do_signal_stop(tsk, sig):
                return None
            continue
        code = sig
        if m & SIG_KERNEL_COREDUMP and core_dump_wanted(tsk):
            code |= 0x80             # do_coredump dumped: WCOREDUMP
        do_group_exit(code)
        return None


def core_dump_wanted(tsk: task_struct) -> bool:
    """Would do_coredump write a core (and set the 0x80 flag)?  With the
    file core_pattern, when RLIMIT_CORE allows at least a page.  No core
    file is written here."""
    return tsk.signal.rlim[RLIMIT_CORE][0] >= 4096


# --- kill, tkill, tgkill ------------------------------------------------------------

def find_task(pid: int) -> Optional[task_struct]:
    """find_task_by_vpid: a task with this pid in the caller's pid
    namespace, zombies included."""
    t = find_task_by_vpid(pid)
    return t if t is not None and pid > 0 else None


def group_send_sig_info(sig: int, info: SigInfo, p: task_struct) -> None:
    """kill(2)'s delivery to one process: check, then send to the group.
    Signal 0 only checks."""
    check_kill_permission(sig, info, p)
    if sig and not p.exit_state:
        send_signal(sig, p.group_leader, info, True)


def kill_pgrp_info(sig: int, info: SigInfo, pgrp: int) -> None:
    found, err = False, ESRCH
    for p in list(state.K.tasks.values()):
        if p.thread_group_leader and p.signal.pgrp == pgrp and not p.flags & PF_KTHREAD:
            try:
                group_send_sig_info(sig, info, p)
                found = True
            except Errno as e:
                err = e.errno
    if not found:
        raise Errno(err)


def kill_pgrp(pgrp: int, sig: int, info: SigInfo = SEND_SIG_PRIV) -> None:
    """sig to every process of group pgrp (ESRCH if there is none)."""
    kill_pgrp_info(sig, info, pgrp)


def kill_something_info(sig: int, info: SigInfo, pid: int) -> None:
    tsk = current()
    if pid > 0:
        p = find_task(pid)
        if p is None:
            raise Errno(ESRCH)
        group_send_sig_info(sig, info, p)
    elif pid == 0:
        kill_pgrp_info(sig, info, tsk.signal.pgrp)
    elif pid == -1:
        count, err = 0, 0
        ns = task_active_pid_ns(tsk)
        for nr, p in list(ns.tasks.items()):
            if nr > 1 and p.thread_group_leader and p.signal is not tsk.signal:
                count += 1
                try:
                    group_send_sig_info(sig, info, p)
                except Errno as e:
                    if e.errno != EPERM:
                        err = e.errno
        if not count:
            raise Errno(ESRCH)
        if err:
            raise Errno(err)
    else:
        if pid == -(1 << 31):
            raise Errno(ESRCH)
        kill_pgrp_info(sig, info, -pid)


@syscall("kill")
def sys_kill(pid: pid_t, sig: c_int) -> int:
    kill_something_info(sig, SEND_SIG_NOINFO, pid)
    return 0


def do_send_specific(tgid: int, pid: int, sig: int, info: SigInfo) -> int:
    """tgkill/tkill/rt_tgsigqueueinfo: one thread, by tid (and tgid)."""
    p = find_task(pid)
    if p is None or (tgid > 0 and task_tgid_vnr(p) != tgid):
        raise Errno(ESRCH)
    check_kill_permission(sig, info, p)
    if sig and not p.exit_state:
        send_signal(sig, p, info, False)
    return 0


def do_tkill(tgid: int, pid: int, sig: int) -> int:
    info = kernel_siginfo(sig, SI_TKILL, pid=task_tgid_vnr(current()), uid=current_uid())
    return do_send_specific(tgid, pid, sig, info)


@syscall("tgkill")
def sys_tgkill(tgid: pid_t, pid: pid_t, sig: c_int) -> int:
    if pid <= 0 or tgid <= 0:
        raise Errno(EINVAL)
    return do_tkill(tgid, pid, sig)


@syscall("tkill")
def sys_tkill(pid: pid_t, sig: c_int) -> int:
    if pid <= 0:
        raise Errno(EINVAL)
    return do_tkill(0, pid, sig)


def do_no_restart_syscall() -> int:
    """The restart_block of a task with nothing to restart."""
    raise Errno(EINTR)


@syscall("restart_syscall")
def sys_restart_syscall() -> int:
    """Resume a call interrupted with -ERESTART_RESTARTBLOCK (nanosleep,
    a futex wait with a timeout, ...) through the task's restart_block."""
    tsk = current()
    fn = tsk.restart_block or do_no_restart_syscall
    tsk.restart_block = None
    return fn()


# Last: kernel/exit.py imports this module; get_signal calls exit.do_group_exit.
from . import exit  # noqa: E402
