"""Job control (kernel/signal.c's group stop, exit.c's orphaned process
groups and the stopped/continued half of wait).

A stop signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) whose action is the
default stops every thread of the group: the thread that dequeues it
starts a group stop (do_signal_stop), marks every other thread
JOBCTL_STOP_PENDING and wakes it; each thread joins on its way back to
user mode (get_signal) and sleeps in TASK_STOPPED; the last one to stop
sets SIGNAL_STOP_STOPPED and tells the parent (CLD_STOPPED).  SIGCONT
(prepare_signal, at generation, whatever its disposition) drops pending
stop signals, wakes every stopped thread and leaves SIGNAL_CLD_CONTINUED
for the first thread that runs to report.  Generating a stop signal drops
a pending SIGCONT.

A stopped thread sleeps inside get_signal: its registers wait in
tsk.pending_regs, and when it runs again the way back to user mode starts
over (Linux's `goto relock`), so a syscall it was in restarts as if no
handler ran -- never EINTR -- and a signal that arrived meanwhile is
delivered then.  Only SIGCONT and SIGKILL (TASK_WAKEKILL: a fatal signal)
wake it.

A process group is orphaned when no member has a parent in another group
of the same session (will_become_orphaned_pgrp); SIGTSTP/SIGTTIN/SIGTTOU
do nothing there, and a group that becomes orphaned with a stopped member
gets SIGHUP then SIGCONT.
"""
from __future__ import annotations

from .pid_namespace import task_active_pid_ns, task_pid_nr_ns
from . import state
from .panic import Errno
from .sched.core import wake_up_state
from .sched.wait import wake_up
from .siginfo import kernel_siginfo
from .task import (
    PF_EXITING, PF_KTHREAD, SIGNAL_CLD_CONTINUED, SIGNAL_CLD_STOPPED, SIGNAL_GROUP_EXIT,
    SIGNAL_STOP_CONTINUED, SIGNAL_STOP_STOPPED, TASK_STOPPED, TASK_WAKEKILL, signal_struct,
    task_struct,
)
from .uapi import (
    CLD_CONTINUED, CLD_STOPPED, SA_NOCLDSTOP, SIG_IGN, SIGCHLD, SIGCONT, SIGHUP, WCONTINUED,
    WNOWAIT, WUNTRACED,
)

JOBCTL_STOP_SIGMASK = 0xFFFF          # the signal of the group stop in progress
JOBCTL_STOP_DEQUEUED = 1 << 16        # a stop signal was dequeued: a stop may start
JOBCTL_STOP_PENDING = 1 << 17         # this thread is to join the group stop
JOBCTL_STOP_CONSUME = 1 << 18         # ... and counts in group_stop_count
JOBCTL_STOPPED = 1 << 26              # stopped (until SIGCONT)
JOBCTL_PENDING_MASK = JOBCTL_STOP_PENDING

SIGNAL_CLD_MASK = SIGNAL_CLD_STOPPED | SIGNAL_CLD_CONTINUED
SIGNAL_STOP_MASK = SIGNAL_CLD_MASK | SIGNAL_STOP_STOPPED | SIGNAL_STOP_CONTINUED
__TASK_STOPPED = TASK_STOPPED & ~TASK_WAKEKILL


def signal_set_stop_flags(sig: signal_struct, flags: int) -> None:
    sig.flags = (sig.flags & ~SIGNAL_STOP_MASK) | flags


def task_set_jobctl_pending(t: task_struct, mask: int) -> bool:
    """Set jobctl bits on t (a new stop signal replaces the old); False
    for an exiting thread, which takes part in nothing any more."""
    if t.flags & PF_EXITING:
        return False
    if mask & JOBCTL_STOP_SIGMASK:
        t.jobctl &= ~JOBCTL_STOP_SIGMASK
    t.jobctl |= mask
    return True


def task_clear_jobctl_pending(t: task_struct, mask: int) -> None:
    if mask & JOBCTL_STOP_PENDING:
        mask |= JOBCTL_STOP_CONSUME | JOBCTL_STOP_DEQUEUED
    t.jobctl &= ~mask


def task_participate_group_stop(t: task_struct) -> bool:
    """t joins the group stop; True if it completes a new one (the parent
    is then to be told CLD_STOPPED)."""
    sig = t.signal
    consume = t.jobctl & JOBCTL_STOP_CONSUME
    task_clear_jobctl_pending(t, JOBCTL_STOP_PENDING)
    if not consume:
        return False
    if sig.group_stop_count:
        sig.group_stop_count -= 1
    if not sig.group_stop_count and not sig.flags & SIGNAL_STOP_STOPPED:
        signal_set_stop_flags(sig, SIGNAL_STOP_STOPPED)
        return True
    return False


# --- generation: prepare_signal's job-control half ------------------------------

def prepare_stop_cont(sig: int, p: task_struct) -> None:
    """Called for every signal generated for p's group that is not dying.
    A stop signal drops pending SIGCONTs; SIGCONT drops pending stop
    signals, ends a group stop (done or in progress) and wakes every
    stopped thread -- whether SIGCONT itself is ignored, blocked or caught."""
    from .signal import SIG_KERNEL_STOP, flush_sigqueue_mask, sigmask
    signal = p.signal
    if sigmask(sig) & SIG_KERNEL_STOP:
        flush_sigqueue_mask(p, sigmask(SIGCONT))
    elif sig == SIGCONT:
        flush_sigqueue_mask(p, SIG_KERNEL_STOP)
        for t in signal.threads:
            task_clear_jobctl_pending(t, JOBCTL_STOP_PENDING)
            t.jobctl &= ~JOBCTL_STOPPED
            wake_up_state(t, __TASK_STOPPED)
        why = 0
        if signal.flags & SIGNAL_STOP_STOPPED:
            why = SIGNAL_CLD_CONTINUED
        elif signal.group_stop_count:
            why = SIGNAL_CLD_STOPPED
        if why:
            # The first thread to run reports it (do_jobctl_notify).
            signal_set_stop_flags(signal, why | SIGNAL_STOP_CONTINUED)
            signal.group_stop_count = 0
            signal.group_exit_code = 0


# --- the stop itself (from get_signal) --------------------------------------------

def do_signal_stop(tsk: task_struct, signr: int) -> bool:
    """Stop tsk for a group stop: start one for the dequeued stop signal
    `signr`, or join the one in progress (signr 0).  True if tsk is now
    TASK_STOPPED (get_signal returns; the way back to user mode starts
    over when it is woken); False if no stop applies (a SIGCONT came in
    between, or the group is exiting)."""
    from .signal import signal_wake_up
    sig = tsk.signal
    if not tsk.jobctl & JOBCTL_STOP_PENDING:
        if not tsk.jobctl & JOBCTL_STOP_DEQUEUED or sig.flags & SIGNAL_GROUP_EXIT \
                or sig.group_exit_task is not None:
            return False
        gstop = JOBCTL_STOP_PENDING | JOBCTL_STOP_CONSUME
        if not sig.flags & SIGNAL_STOP_STOPPED:
            sig.group_exit_code = signr
        sig.group_stop_count = 0
        if task_set_jobctl_pending(tsk, signr | gstop):
            sig.group_stop_count += 1
        for t in sig.threads:
            if t is tsk or t.state == TASK_STOPPED:
                continue
            if task_set_jobctl_pending(t, signr | gstop):
                sig.group_stop_count += 1
                signal_wake_up(t)
    notify = task_participate_group_stop(tsk)
    tsk.jobctl |= JOBCTL_STOPPED
    tsk.state = TASK_STOPPED
    K = state.K
    K.cpus[tsk.cpu].need_resched = True
    if K.listeners:
        K.emit("stop", task=tsk, sig=sig.group_exit_code)
    if notify:
        do_notify_parent_cldstop(tsk, CLD_STOPPED)
    return True


def do_jobctl_notify(tsk: task_struct) -> None:
    """get_signal's first step: a SIGCONT (or a stop that SIGCONT cut
    short) is still to be reported to the parent."""
    sig = tsk.signal
    why = CLD_CONTINUED if sig.flags & SIGNAL_CLD_CONTINUED else CLD_STOPPED
    sig.flags &= ~SIGNAL_CLD_MASK
    do_notify_parent_cldstop(tsk, why)


def do_notify_parent_cldstop(tsk: task_struct, why: int) -> None:
    """Tell the group leader's real parent its child stopped or went on:
    SIGCHLD unless the parent ignores it or set SA_NOCLDSTOP; its waiters
    wake in any case."""
    from .signal import current_uid, send_signal
    leader = tsk.group_leader
    parent = leader.real_parent
    if parent is None:
        return
    status = SIGCONT if why == CLD_CONTINUED else tsk.signal.group_exit_code & 0x7F
    act = parent.sighand.action[SIGCHLD]
    if act.handler != SIG_IGN and not act.flags & SA_NOCLDSTOP and not parent.flags & PF_KTHREAD:
        info = kernel_siginfo(SIGCHLD, why, pid=task_pid_nr_ns(leader, task_active_pid_ns(parent)),
                              uid=current_uid(), status=status)
        send_signal(SIGCHLD, parent, info, True)
    wake_up(parent.signal.wait_chldexit)


# --- wait: the stopped and continued reports -------------------------------------

def wait_task_stopped(p: task_struct, options: int) -> int:
    """The wait status (sig << 8 | 0x7f) of a stopped group not yet
    reported to a WUNTRACED/WSTOPPED wait, else 0.  Consumed unless
    WNOWAIT."""
    if not options & WUNTRACED:
        return 0
    sig = p.signal
    if not sig.flags & SIGNAL_STOP_STOPPED or not sig.group_exit_code:
        return 0
    code = sig.group_exit_code
    if not options & WNOWAIT:
        sig.group_exit_code = 0
    return (code << 8) | 0x7F


def wait_task_continued(p: task_struct, options: int) -> int:
    """0xffff for a continued group not yet reported to WCONTINUED, else 0."""
    if not options & WCONTINUED or not p.signal.flags & SIGNAL_STOP_CONTINUED:
        return 0
    if not options & WNOWAIT:
        p.signal.flags &= ~SIGNAL_STOP_CONTINUED
    return 0xFFFF


# --- process groups ---------------------------------------------------------------

def pgrp_members(pgrp: int) -> list[task_struct]:
    return [p for p in state.K.tasks.values()
            if p.thread_group_leader and p.signal.pgrp == pgrp and not p.flags & PF_KTHREAD]


def will_become_orphaned_pgrp(pgrp: int, ignored: task_struct | None) -> bool:
    """Does no member of pgrp (but `ignored`) have a parent in another
    group of the same session?  Init's children do not count."""
    for p in pgrp_members(pgrp):
        if p is ignored or (p.exit_state and len(p.signal.threads) <= 1):
            continue
        parent = p.real_parent
        if parent is None or parent.flags & PF_KTHREAD or parent.tgid == 1:
            continue
        if parent.signal.pgrp != pgrp and parent.signal.session == p.signal.session:
            return False
    return True


def is_current_pgrp_orphaned(tsk: task_struct) -> bool:
    return will_become_orphaned_pgrp(tsk.signal.pgrp, None)


def has_stopped_jobs(pgrp: int) -> bool:
    return any(p.signal.flags & SIGNAL_STOP_STOPPED for p in pgrp_members(pgrp))


def kill_orphaned_pgrp(tsk: task_struct, parent: task_struct | None) -> None:
    """tsk exits (parent None) or its parent `parent` does (reparenting):
    if that orphans tsk's group while a member is stopped, SIGHUP and
    SIGCONT to the whole group, so it is not left stopped forever."""
    from .signal import SEND_SIG_PRIV, kill_pgrp_info
    ignored: task_struct | None = tsk
    if parent is None:
        parent = tsk.real_parent
    else:
        ignored = None
    if parent is None:
        return
    pgrp = tsk.signal.pgrp
    if parent.signal.pgrp != pgrp and parent.signal.session == tsk.signal.session \
            and will_become_orphaned_pgrp(pgrp, ignored) and has_stopped_jobs(pgrp):
        for sig in (SIGHUP, SIGCONT):
            try:
                kill_pgrp_info(sig, SEND_SIG_PRIV, pgrp)
            except Errno:            # ESRCH: nobody left to tell
                pass
