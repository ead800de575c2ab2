"""Signals: generation (kill, tkill, tgkill, faults), dispositions
(rt_sigaction, rt_sigprocmask) and delivery on the way back to user mode.

Delivery runs default actions: terminate, terminate with core (reported
as a kill by that signal; no core is written), ignore.  Delivery to a
guest handler on a real signal frame comes with the signals issue; until
then a caught signal takes its default action, and says so in the trace.
"""
from __future__ import annotations

import struct
from typing import Optional

from unicorn import x86_const as X

from . import state
from .panic import Errno
from .percpu import current
from .syscall_table import SYSCALL_NR
from .syscalls import syscall
from .task import (
    SIGNAL_GROUP_EXIT, TASK_INTERRUPTIBLE, TASK_WAKEKILL, k_sigaction, task_struct,
)
from .types import UPtr, c_int, pid_t, size_t
from .uapi import (
    EINTR, EINVAL, ERESTART_RESTARTBLOCK, ERESTARTNOHAND, ERESTARTSYS, ESRCH, SA_RESTART,
    SIG_DFL, SIG_IGN, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGABRT, SIGBUS,
    SIGCHLD, SIGCONT, SIGFPE, SIGILL, SIGKILL, SIGQUIT, SIGSEGV, SIGSTOP, SIGSYS, SIGTRAP,
    SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH, SIGXCPU, SIGXFSZ, SI_TKILL, SI_USER,
)
from .mm.uaccess import copy_from_user, copy_to_user

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
_UNBLOCKABLE = SIG_KERNEL_ONLY
_SIGKILL_MASK = sigmask(SIGKILL)
_ALL = (1 << _NSIG) - 1


def valid_signal(sig: int) -> bool:
    return 0 <= sig <= _NSIG


def sig_handler(tsk: task_struct, sig: int) -> int:
    return tsk.sighand.action[sig].handler


def sig_task_ignored(tsk: task_struct, sig: int) -> bool:
    h = sig_handler(tsk, sig)
    return h == SIG_IGN or (h == SIG_DFL and bool(sigmask(sig) & SIG_KERNEL_IGNORE))


def sig_fatal(tsk: task_struct, sig: int) -> bool:
    """Would delivering `sig` end the process (default action terminate)?"""
    if sig == SIGKILL:
        return True
    h = sig_handler(tsk, sig)
    return h == SIG_DFL and not sigmask(sig) & (SIG_KERNEL_IGNORE | SIG_KERNEL_STOP)


def signal_pending(tsk: task_struct) -> bool:
    return bool((tsk.pending | tsk.signal.shared_pending) & ~tsk.blocked)


def fatal_signal_pending(tsk: task_struct) -> bool:
    return bool(tsk.pending & _SIGKILL_MASK)


def signal_wake_up(tsk: task_struct) -> None:
    """Make `tsk` notice a signal: interrupt an interruptible sleep (a
    killable one too when SIGKILL is pending), or stop its CPU at the next
    syscall boundary."""
    from .sched.core import wake_up_process
    if tsk.state & TASK_INTERRUPTIBLE or (tsk.state & TASK_WAKEKILL
                                          and tsk.pending & _SIGKILL_MASK):
        wake_up_process(tsk)
    cpu = state.K.cpus[tsk.cpu]
    if cpu.curr is tsk:
        cpu.need_resched = True


def send_signal(sig: int, tsk: task_struct, info: dict, group: bool) -> None:
    """__send_signal + complete_signal: queue `sig` for `tsk` (or its whole
    thread group) and wake whoever must handle it."""
    if sig == 0 or tsk.exit_state:
        return
    if not (tsk.blocked & sigmask(sig)) and sig_task_ignored(tsk, sig):
        return
    sig_struct = tsk.signal
    if sig_struct.flags & SIGNAL_GROUP_EXIT and sig != SIGKILL:
        return
    if group:
        sig_struct.shared_pending |= sigmask(sig)
        sig_struct.shared_info.setdefault(sig, info)
    else:
        tsk.pending |= sigmask(sig)
        tsk.pending_info.setdefault(sig, info)
    # A fatal signal ends the whole group at once (complete_signal).
    if sig_fatal(tsk, sig) and (sig == SIGKILL or not tsk.blocked & sigmask(sig)) \
            and not sig_struct.flags & SIGNAL_GROUP_EXIT:
        sig_struct.flags |= SIGNAL_GROUP_EXIT
        sig_struct.group_exit_code = sig
        for t in sig_struct.threads:
            t.pending |= sigmask(SIGKILL)
            signal_wake_up(t)
        return
    target = tsk
    if group and tsk.blocked & sigmask(sig):
        for t in sig_struct.threads:
            if not t.blocked & sigmask(sig) and not t.exit_state:
                target = t
                break
    signal_wake_up(target)


def force_sig_fault(tsk: task_struct, sig: int, code: int, addr: int) -> None:
    """A synchronous fault: the signal cannot be blocked or ignored (as
    force_sig_info_to_task with the handler reset when blocked/ignored)."""
    ka = tsk.sighand.action[sig]
    if ka.handler == SIG_IGN or tsk.blocked & sigmask(sig):
        ka.handler = SIG_DFL
        tsk.blocked &= ~sigmask(sig)
    send_signal(sig, tsk, {"signo": sig, "code": code, "addr": addr}, False)


def dequeue_signal(tsk: task_struct) -> int:
    pend = tsk.pending & ~tsk.blocked
    if pend:
        sig = (pend & -pend).bit_length()
        tsk.pending &= ~sigmask(sig)
        tsk.pending_info.pop(sig, None)
        return sig
    pend = tsk.signal.shared_pending & ~tsk.blocked
    if pend:
        sig = (pend & -pend).bit_length()
        tsk.signal.shared_pending &= ~sigmask(sig)
        tsk.signal.shared_info.pop(sig, None)
        return sig
    return 0


def do_signal(tsk: task_struct) -> None:
    """arch_do_signal_or_restart: on the way back to user mode (tsk's
    context is loaded), act on pending signals and settle an interrupted
    syscall (tsk.orig_rax >= 0).  May not return to the guest (the task
    exits)."""
    get_signal(tsk)
    syscall_restart(tsk, None)


def get_signal(tsk: task_struct) -> None:
    """Act on pending signals.  May not return to the guest."""
    from .exit import do_group_exit
    K = state.K
    while True:
        if tsk.signal.flags & SIGNAL_GROUP_EXIT:
            do_group_exit(tsk.signal.group_exit_code)
            return
        sig = dequeue_signal(tsk)
        if not sig:
            return
        h = sig_handler(tsk, sig)
        if h == SIG_IGN:
            continue
        if h != SIG_DFL and sig != SIGKILL:
            if K.listeners:
                K.emit("note", task=tsk, text=f"signal {sig}: handler delivery not supported yet, "
                                             "default action taken")
        m = sigmask(sig)
        if m & SIG_KERNEL_IGNORE:
            continue
        if m & SIG_KERNEL_STOP:
            continue  # job control stop: not modelled yet, the signal is discarded
        do_group_exit(sig)
        return


_RAX_RIP = (X.UC_X86_REG_RAX, X.UC_X86_REG_RIP)
_MASK64 = (1 << 64) - 1


def syscall_restart(tsk: task_struct, ka: Optional[k_sigaction]) -> None:
    """The restart rules of handle_signal (ka: the handler about to run)
    and of arch_do_signal_or_restart (ka None: no handler runs), applied
    to tsk's live registers when it leaves a syscall with -ERESTART*.
    Restarting rewinds rip over the 2-byte syscall instruction and puts
    the syscall number back in rax, as Linux's arch code does."""
    nr = tsk.orig_rax
    if nr < 0:
        return
    tsk.orig_rax = -1
    glue = state.K.cpus[tsk.cpu].hw.glue
    rax, rip = glue.reg_read_batch(_RAX_RIP)
    err = (-rax) & _MASK64
    if not ERESTARTSYS <= err <= ERESTART_RESTARTBLOCK:
        return
    if ka is not None and (err in (ERESTARTNOHAND, ERESTART_RESTARTBLOCK)
                           or (err == ERESTARTSYS and not ka.flags & SA_RESTART)):
        glue.reg_write_batch(_RAX_RIP[:1], ((-EINTR) & _MASK64,))
        return
    if ka is None and err == ERESTART_RESTARTBLOCK:
        nr = NR_restart_syscall
    glue.reg_write_batch(_RAX_RIP, (nr, rip - 2))


# --- syscalls ----------------------------------------------------------------

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


def find_task(pid: int) -> task_struct | None:
    t = state.K.tasks.get(pid)
    return t if t is not None and not t.exit_state and t.mm is not None else None


def kill_pgrp(pgrp: int, sig: int, info: dict) -> None:
    found = False
    for t in list(state.K.tasks.values()):
        if t.thread_group_leader and t.mm is not None and t.signal.pgrp == pgrp and not t.exit_state:
            found = True
            send_signal(sig, t, info, True)
    if not found:
        raise Errno(ESRCH)


@syscall("kill")
def sys_kill(pid: pid_t, sig: c_int) -> int:
    if not valid_signal(sig):
        raise Errno(EINVAL)
    tsk = current()
    info = {"signo": sig, "code": SI_USER, "pid": tsk.tgid}
    if pid > 0:
        t = find_task(pid)
        if t is None:
            raise Errno(ESRCH)
        send_signal(sig, t.group_leader, info, True)
    elif pid == 0:
        kill_pgrp(tsk.signal.pgrp, sig, info)
    elif pid == -1:
        count = 0
        for t in list(state.K.tasks.values()):
            if t.pid > 1 and t.thread_group_leader and t.mm is not None and t.tgid != tsk.tgid \
                    and not t.exit_state:
                count += 1
                send_signal(sig, t, info, True)
        if not count:
            raise Errno(ESRCH)
    else:
        if pid == -(1 << 31):
            raise Errno(ESRCH)
        kill_pgrp(-pid, sig, info)
    return 0


def do_tkill(tgid: int, pid: int, sig: int) -> int:
    t = find_task(pid)
    if t is None or (tgid > 0 and t.tgid != tgid):
        raise Errno(ESRCH)
    send_signal(sig, t, {"signo": sig, "code": SI_TKILL, "pid": current().tgid}, False)
    return 0


@syscall("tgkill")
def sys_tgkill(tgid: pid_t, pid: pid_t, sig: c_int) -> int:
    if pid <= 0 or tgid <= 0 or not valid_signal(sig):
        raise Errno(EINVAL)
    return do_tkill(tgid, pid, sig)


@syscall("tkill")
def sys_tkill(pid: pid_t, sig: c_int) -> int:
    if pid <= 0 or not valid_signal(sig):
        raise Errno(EINVAL)
    return do_tkill(0, pid, sig)


_SIGACTION = struct.Struct("<QQQQ")   # handler, flags, restorer, mask


@syscall("rt_sigaction", note="handlers are recorded; delivery on real frames comes later")
def sys_rt_sigaction(sig: c_int, act: UPtr, oact: UPtr, sigsetsize: size_t) -> int:
    if sigsetsize != 8 or not 1 <= sig <= _NSIG:
        raise Errno(EINVAL)
    if act and sigmask(sig) & SIG_KERNEL_ONLY:
        raise Errno(EINVAL)
    tsk = current()
    ka = tsk.sighand.action[sig]
    new = _SIGACTION.unpack(copy_from_user(act, 32)) if act else None
    if oact:
        copy_to_user(oact, _SIGACTION.pack(ka.handler, ka.flags, ka.restorer, ka.mask))
    if new is not None:
        handler, flags, restorer, mask = new
        tsk.sighand.action[sig] = k_sigaction(handler, flags, restorer, mask & ~_UNBLOCKABLE)
        # Setting SIG_IGN (or SIG_DFL for a default-ignored signal) discards
        # what is pending (do_sigaction).
        if sig_task_ignored(tsk, sig):
            for t in tsk.signal.threads:
                t.pending &= ~sigmask(sig)
            tsk.signal.shared_pending &= ~sigmask(sig)
    return 0


@syscall("rt_sigprocmask")
def sys_rt_sigprocmask(how: c_int, nset: UPtr, oset: UPtr, sigsetsize: size_t) -> int:
    if sigsetsize != 8:
        raise Errno(EINVAL)
    tsk = current()
    old = tsk.blocked
    if nset:
        new = struct.unpack("<Q", copy_from_user(nset, 8))[0]
        if how == SIG_BLOCK:
            blocked = old | new
        elif how == SIG_UNBLOCK:
            blocked = old & ~new
        elif how == SIG_SETMASK:
            blocked = new
        else:
            raise Errno(EINVAL)
        tsk.blocked = blocked & ~_UNBLOCKABLE & _ALL
    if oset:
        copy_to_user(oset, struct.pack("<Q", old))
    return 0


@syscall("rt_sigpending")
def sys_rt_sigpending(uset: UPtr, sigsetsize: size_t) -> int:
    if sigsetsize > 8:
        raise Errno(EINVAL)
    tsk = current()
    pend = (tsk.pending | tsk.signal.shared_pending) & tsk.blocked
    copy_to_user(uset, struct.pack("<Q", pend)[:sigsetsize])
    return 0


@syscall("sigaltstack", note="recorded; used when handler delivery lands")
def sys_sigaltstack(uss: UPtr, uoss: UPtr) -> int:
    tsk = current()
    old = getattr(tsk.signal, "_altstack", None) or (0, 2, 0)   # sp, SS_DISABLE, size
    if uoss:
        copy_to_user(uoss, struct.pack("<QiiQ", old[0], old[1], 0, old[2]))
    if uss:
        sp, flags, _pad, size = struct.unpack("<QiiQ", copy_from_user(uss, 24))
        if flags not in (0, 2, 1 << 31):
            raise Errno(EINVAL)
    return 0

