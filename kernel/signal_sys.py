"""The signal system calls that change or wait on a task's signal state
(kernel/signal.c): rt_sigaction, rt_sigprocmask, rt_sigpending,
rt_sigsuspend, pause, rt_sigtimedwait, rt_sigqueueinfo,
rt_tgsigqueueinfo, sigaltstack.  kill, tkill, tgkill and restart_syscall
are in signal.py, rt_sigreturn in signal_64.py."""
from __future__ import annotations

import struct
from typing import Callable

from unicorn import x86_const as X

from .pid_namespace import task_pid_vnr
from . import state
from .mm.uaccess import copy_from_user, copy_to_user
from .panic import Errno
from .percpu import current
from .sched.core import ktime_get_ns
from .sched.wait import BlockOn
from .siginfo import SI_MAX_SIZE, kernel_siginfo, known_siginfo_layout, siginfo_from_bytes
from .signal import (
    _ALL, _UNBLOCKABLE, dequeue_signal, do_send_specific, flush_sigqueue_mask,
    kill_something_info, set_current_blocked, sig_handler_ignored, sigmask,
)
from .signal_64 import do_sigaltstack, restore_saved_sigmask
from .syscalls import syscall
from .task import k_sigaction
from .types import UPtr, c_int, pid_t, size_t
from .uapi import (
    E2BIG, EAGAIN, EINTR, EINVAL, EPERM, ERESTARTNOHAND, ESRCH, SA_NOCLDSTOP, SA_NOCLDWAIT, SA_NODEFER,
    SA_ONSTACK, SA_RESETHAND, SA_RESTART, SA_RESTORER, SA_SIGINFO, SI_TKILL, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGKILL, SIGSTOP,
)

_NSIG = 64
_SIGACTION = struct.Struct("<QQQQ")    # sa_handler, sa_flags, sa_restorer, sa_mask
_STACK_T = struct.Struct("<QI4xQ")     # ss_sp, ss_flags (unsigned: SS_AUTODISARM), ss_size
_SIGSET = struct.Struct("<Q")
SA_EXPOSE_TAGBITS = 0x800
# The flags sigaction keeps (UAPI_SA_FLAGS); unknown bits read back as 0.
UAPI_SA_FLAGS = (SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER
                 | SA_RESETHAND | SA_EXPOSE_TAGBITS | SA_RESTORER)
KERNEL_SIGINFO_SIZE = 48               # what the kernel keeps of a guest's siginfo


def _sigset_arg(sigsetsize: int) -> None:
    if sigsetsize != 8:
        raise Errno(EINVAL)


# --- dispositions and masks ------------------------------------------------------

def do_sigaction(sig: int, act: k_sigaction | None) -> k_sigaction:
    """Install act (if given) as sig's action; returns the old one.
    SIGKILL and SIGSTOP keep theirs (EINVAL).  A signal made ignored is
    discarded from every queue of the group, blocked or not (POSIX)."""
    if not 1 <= sig <= _NSIG or (act is not None and sig in (SIGKILL, SIGSTOP)):
        raise Errno(EINVAL)
    tsk = current()
    old = tsk.sighand.action[sig]
    if act is not None:
        tsk.sighand.action[sig] = act._replace(flags=act.flags & UAPI_SA_FLAGS,
                                               mask=act.mask & ~_UNBLOCKABLE)
        if sig_handler_ignored(act.handler, sig):
            flush_sigqueue_mask(tsk, sigmask(sig))
    return old._replace(flags=old.flags & UAPI_SA_FLAGS)


@syscall("rt_sigaction")
def sys_rt_sigaction(sig: c_int, act: UPtr, oact: UPtr, sigsetsize: size_t) -> int:
    _sigset_arg(sigsetsize)
    new = k_sigaction(*_SIGACTION.unpack(copy_from_user(act, 32))) if act else None
    old = do_sigaction(sig, new)
    if oact:
        copy_to_user(oact, _SIGACTION.pack(*old))
    return 0


@syscall("rt_sigprocmask")
def sys_rt_sigprocmask(how: c_int, nset: UPtr, oset: UPtr, sigsetsize: size_t) -> int:
    _sigset_arg(sigsetsize)
    tsk = current()
    old = tsk.blocked
    if nset:
        new = _SIGSET.unpack(copy_from_user(nset, 8))[0]
        if how == SIG_BLOCK:
            blocked = old | new
        elif how == SIG_UNBLOCK:
            blocked = old & ~new
        elif how == SIG_SETMASK:
            blocked = new
        else:
            raise Errno(EINVAL)
        set_current_blocked(tsk, blocked)
    if oset:
        copy_to_user(oset, _SIGSET.pack(old))
    return 0


@syscall("rt_sigpending")
def sys_rt_sigpending(uset: UPtr, sigsetsize: size_t) -> int:
    if sigsetsize > 8:
        raise Errno(EINVAL)
    tsk = current()
    pend = (tsk.pending | tsk.signal.shared_pending) & tsk.blocked
    copy_to_user(uset, _SIGSET.pack(pend)[:sigsetsize])
    return 0


# --- waiting for signals -------------------------------------------------------------

def _wait_for_a_signal() -> int:
    """Sleep until a signal: the syscall then ends with -ERESTARTNOHAND
    (EINTR after a handler, a restart if none ran)."""
    raise BlockOn([], _wait_for_a_signal, restart=ERESTARTNOHAND)


@syscall("pause")
def sys_pause() -> int:
    return _wait_for_a_signal()


@syscall("rt_sigsuspend")
def sys_rt_sigsuspend(unewset: UPtr, sigsetsize: size_t) -> int:
    """Wait for a signal with the mask replaced; the old mask is restored
    after the handler (it is the one the frame saves) or, with no handler,
    on the way back to user mode (saved_sigmask)."""
    _sigset_arg(sigsetsize)
    newset = _SIGSET.unpack(copy_from_user(unewset, 8))[0]
    tsk = current()
    tsk.saved_sigmask = tsk.blocked
    set_current_blocked(tsk, newset)
    return _wait_for_a_signal()


def set_user_sigmask(umask: int, sigsetsize: int) -> None:
    """The temporary mask of ppoll, pselect6 and epoll_pwait: like
    sigsuspend's, it stays in force until the call returns, or, when a
    signal interrupts it, until that signal's handler frame saved the
    old one (restore_saved_sigmask_unless)."""
    if not umask:
        return
    _sigset_arg(sigsetsize)
    newset = _SIGSET.unpack(copy_from_user(umask, 8))[0]
    tsk = current()
    tsk.saved_sigmask = tsk.blocked
    set_current_blocked(tsk, newset)


def restore_saved_sigmask_unless(interrupted: bool) -> None:
    """The call returns: put the caller's mask back now, unless a signal
    interrupted it (then the way back to user mode does, after the frame)."""
    if not interrupted:
        restore_saved_sigmask(current())


def _get_timespec_ns(uts: int) -> int:
    sec, nsec = struct.unpack("<qq", copy_from_user(uts, 16))
    if sec < 0 or not 0 <= nsec < 1_000_000_000:
        raise Errno(EINVAL)
    return sec * 1_000_000_000 + nsec


def do_sigtimedwait(which: int, timeout: int | None,
                    done: Callable[[kernel_siginfo], int]) -> int:
    """Take a pending signal of `which` (done(info) is the result),
    waiting for one up to `timeout` ns (None: forever) on the virtual
    clock.  While waiting the set is unblocked (the old mask kept in
    real_blocked), so any unblocked signal wakes the task: EINTR unless it
    is one of the set; EAGAIN on timeout.  Never restarted."""
    tsk = current()
    mask = ~(which & ~_UNBLOCKABLE) & _ALL
    info = dequeue_signal(tsk, mask)
    if info is not None:
        return done(info)
    if timeout == 0:
        raise Errno(EAGAIN)
    tsk.real_blocked = tsk.blocked
    tsk.blocked &= mask

    def after() -> int:
        set_current_blocked(tsk, tsk.real_blocked)
        tsk.real_blocked = 0
        got = dequeue_signal(tsk, mask)
        if got is not None:
            return done(got)
        if tsk.timed_out:
            tsk.timed_out = False
            raise Errno(EAGAIN)
        raise Errno(EINTR)
    deadline = -1 if timeout is None else ktime_get_ns() + timeout
    raise BlockOn([], after, deadline, interrupted=after)


@syscall("rt_sigtimedwait")
def sys_rt_sigtimedwait(uthese: UPtr, uinfo: UPtr, uts: UPtr, sigsetsize: size_t) -> int:
    _sigset_arg(sigsetsize)
    which = _SIGSET.unpack(copy_from_user(uthese, 8))[0]
    timeout = _get_timespec_ns(uts) if uts else None

    def done(info: kernel_siginfo) -> int:
        # The siginfo copied out if asked: EFAULT then, the signal taken.
        if uinfo:
            copy_to_user(uinfo, info.pack())
        return info.signo
    return do_sigtimedwait(which, timeout, done)


# --- sending with a siginfo -------------------------------------------------------------

def copy_siginfo_from_user(sig: int, uinfo: int) -> kernel_siginfo:
    """A guest's siginfo_t, kept as the kernel keeps it: its first 48
    bytes with si_signo = sig (the rest must be zero for an si_code the
    kernel does not know: E2BIG)."""
    raw = bytearray(copy_from_user(uinfo, KERNEL_SIGINFO_SIZE))
    struct.pack_into("<i", raw, 0, sig)
    code = struct.unpack_from("<i", raw, 8)[0]
    if not known_siginfo_layout(sig, code):
        if any(copy_from_user(uinfo + KERNEL_SIGINFO_SIZE, SI_MAX_SIZE - KERNEL_SIGINFO_SIZE)):
            raise Errno(E2BIG)
    raw += bytes(SI_MAX_SIZE - KERNEL_SIGINFO_SIZE)
    info = siginfo_from_bytes(bytes(raw))
    info.raw = bytes(raw)
    return info


def _may_forge(info: kernel_siginfo, pid: int) -> None:
    """Nobody may pretend to be the kernel, kill() or tgkill() (si_code
    >= 0 or SI_TKILL) towards another task: EPERM."""
    if (info.code >= 0 or info.code == SI_TKILL) and task_pid_vnr(current()) != pid:
        raise Errno(EPERM)


@syscall("rt_sigqueueinfo")
def sys_rt_sigqueueinfo(pid: pid_t, sig: c_int, uinfo: UPtr) -> int:
    info = copy_siginfo_from_user(sig, uinfo)
    _may_forge(info, pid)
    if pid <= 0:
        raise Errno(ESRCH)               # POSIX.1b has no process groups
    kill_something_info(sig, info, pid)
    return 0


@syscall("rt_tgsigqueueinfo")
def sys_rt_tgsigqueueinfo(tgid: pid_t, pid: pid_t, sig: c_int, uinfo: UPtr) -> int:
    info = copy_siginfo_from_user(sig, uinfo)
    if pid <= 0 or tgid <= 0:
        raise Errno(EINVAL)
    _may_forge(info, pid)
    return do_send_specific(tgid, pid, sig, info)


# --- sigaltstack ---------------------------------------------------------------------

_RSP = (X.UC_X86_REG_RSP,)


@syscall("sigaltstack")
def sys_sigaltstack(uss: UPtr, uoss: UPtr) -> int:
    tsk = current()
    new = _STACK_T.unpack(copy_from_user(uss, 24)) if uss else None
    sp = state.K.cpus[tsk.cpu].hw.glue.reg_read_batch(_RSP)[0]
    old = do_sigaltstack(tsk, new, sp)
    if uoss:
        copy_to_user(uoss, _STACK_T.pack(*old))
    return 0
