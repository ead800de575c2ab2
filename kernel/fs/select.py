"""poll, ppoll, select, pselect6 (fs/select.c).

Each call scans its fds with vfs_poll, registering on every file's wait
queues the first time round (poll_table); with nothing ready it sleeps on
all of them at once until a wake-up, its timeout on the virtual clock, or
a signal, and scans again.  A signal that ends the wait gives
-ERESTARTNOHAND: EINTR after a handler, a restart with the time left
otherwise (poll through restart_syscall, select and pselect6 by re-reading
the timeout they wrote back, as Linux).  ppoll and pselect6 swap in their
signal mask for the call, as sigsuspend does.
"""
from __future__ import annotations

import struct
from typing import Callable, Optional

from ..mm.uaccess import copy_from_user, copy_to_user
from ..panic import Errno
from ..percpu import current
from ..time.timekeeping import ktime_get_ns
from ..sched.wait import BlockOn
from ..signal import signal_pending
from ..signal_sys import restore_saved_sigmask_unless, set_user_sigmask
from ..syscalls import syscall
from ..types import UPtr, c_int, c_uint, size_t
from ..uapi import (
    EBADF, EFAULT, EINTR, EINVAL, ERESTART_RESTARTBLOCK, ERESTARTNOHAND, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT,
    POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM, RLIMIT_NOFILE,
)
from .poll import poll_table, vfs_poll

NSEC_PER_SEC = 1_000_000_000
KTIME_MAX = (1 << 63) - 1
_POLLFD = struct.Struct("<ihh")          # fd, events, revents
_TIMESPEC = struct.Struct("<qq")

POLLIN_SET = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR
POLLOUT_SET = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR
POLLEX_SET = POLLPRI


# --- timeouts and the wait ----------------------------------------------------------

def poll_select_set_timeout(sec: int, nsec: int) -> int:
    """The absolute deadline (virtual ns) of a relative timeout; 0 for a
    zero timeout (never wait, never write the time back)."""
    if sec < 0 or not 0 <= nsec < NSEC_PER_SEC:
        raise Errno(EINVAL)
    if not sec and not nsec:
        return 0
    return min(KTIME_MAX, ktime_get_ns() + sec * NSEC_PER_SEC + nsec)


def get_timespec(uts: int) -> tuple[int, int]:
    return _TIMESPEC.unpack(copy_from_user(uts, 16))


def poll_select_finish(deadline: int, p: int, timeval: bool, ret: int) -> int:
    """The end of ppoll/select/pselect6: the caller's mask back (unless a
    signal interrupted the call), and the time left written to *p
    (nothing for no or a zero timeout).  If that write fails, an
    interrupted call is EINTR rather than restarted with a stale time."""
    restore_saved_sigmask_unless(ret == -ERESTARTNOHAND)
    if not p or deadline <= 0:
        return ret
    left = max(0, deadline - ktime_get_ns())
    sec, nsec = divmod(left, NSEC_PER_SEC)
    try:
        copy_to_user(p, _TIMESPEC.pack(sec, nsec // 1000 if timeval else nsec))
    except Errno:
        if ret == -ERESTARTNOHAND:
            ret = -EINTR
    return ret


def poll_wait_loop(scan: Callable[[Optional[poll_table]], int], deadline: int,
                   interrupted: Callable[[], int]) -> int:
    """do_poll/do_select's loop: scan(pt) counts what is ready (registering
    on the files' queues when pt is given).  Returns the count, 0 once
    `deadline` passed (-1: none; 0: do not wait), or interrupted() when a
    signal is pending with nothing ready.  May sleep."""
    tsk = current()

    def step() -> int:
        timed_out = deadline >= 0 and ktime_get_ns() >= deadline
        pt = None if timed_out else poll_table()
        count = scan(pt)
        if count:
            return count
        if signal_pending(tsk):
            return interrupted()
        if timed_out or pt is None:
            return 0
        raise BlockOn(pt.queues, step, deadline, restart=ERESTARTNOHAND, interrupted=interrupted)
    return step()


def then(fn: Callable[[], int], after: Callable[[int], int]) -> int:
    """fn(), which may sleep, then after(its result or -errno): the tail a
    call runs however the wait ended.  A negative result is raised."""
    try:
        ret = fn()
    except BlockOn as e:
        b = e              # `e` is unbound after the handler; the closures keep b
        raise b.chain(lambda: then(b.cont, after),
                      lambda: _raised(after(b.interrupted_result()))) from None
    except Errno as e:
        ret = -e.errno
    return _raised(after(ret))


def _raised(ret: int) -> int:
    if ret < 0:
        raise Errno(-ret)
    return ret


def _restart_nohand() -> int:
    raise Errno(ERESTARTNOHAND)


# --- poll, ppoll --------------------------------------------------------------------

def do_sys_poll(ufds: int, nfds: int, deadline: int) -> int:
    """Poll nfds pollfds at ufds until one is ready; revents are written
    back however the wait ends (zeros when interrupted)."""
    tsk = current()
    if nfds > tsk.signal.rlim[RLIMIT_NOFILE][0]:
        raise Errno(EINVAL)
    raw = bytearray(copy_from_user(ufds, nfds * _POLLFD.size)) if nfds else bytearray()
    fds = [_POLLFD.unpack_from(raw, i * _POLLFD.size)[:2] for i in range(nfds)]
    revents = [0] * nfds

    def scan(pt: Optional[poll_table]) -> int:
        table = tsk.files.fd
        count = 0
        for i, (fd, events) in enumerate(fds):
            rev = 0
            if fd >= 0:
                f = table[fd] if fd < len(table) else None
                if f is None:
                    rev = POLLNVAL
                else:
                    want = (events & 0xFFFF) | POLLERR | POLLHUP
                    if pt is not None:
                        pt.key = want
                    rev = vfs_poll(f, pt) & want
            revents[i] = rev
            if rev:
                count += 1
                pt = None          # one is ready: no need to register further
        return count

    def write_back(ret: int) -> int:
        for i, rev in enumerate(revents):
            struct.pack_into("<h", raw, i * _POLLFD.size + 6, rev - 0x10000 if rev & 0x8000 else rev)
        if nfds:
            try:
                copy_to_user(ufds, raw)
            except Errno:
                return -EFAULT
        return ret
    return then(lambda: poll_wait_loop(scan, deadline, _restart_nohand), write_back)


def do_restart_poll(ufds: int, nfds: int, deadline: int) -> int:
    """poll interrupted by a signal restarts through restart_syscall with
    the same deadline (do_restart_poll); a handler makes it EINTR."""
    def after(ret: int) -> int:
        if ret == -ERESTARTNOHAND:
            current().restart_block = lambda: do_restart_poll(ufds, nfds, deadline)
            return -ERESTART_RESTARTBLOCK
        return ret
    return then(lambda: do_sys_poll(ufds, nfds, deadline), after)


@syscall("poll")
def sys_poll(ufds: UPtr, nfds: c_uint, timeout_msecs: c_int) -> int:
    deadline = -1
    if timeout_msecs >= 0:
        deadline = poll_select_set_timeout(timeout_msecs // 1000, timeout_msecs % 1000 * 1_000_000)
    return do_restart_poll(ufds, nfds, deadline)


@syscall("ppoll")
def sys_ppoll(ufds: UPtr, nfds: c_uint, tsp: UPtr, sigmask: UPtr, sigsetsize: size_t) -> int:
    deadline = -1
    if tsp:
        deadline = poll_select_set_timeout(*get_timespec(tsp))
    set_user_sigmask(sigmask, sigsetsize)
    return then(lambda: do_sys_poll(ufds, nfds, deadline),
                lambda ret: poll_select_finish(deadline, tsp, False, ret))


# --- select, pselect6 ---------------------------------------------------------------

def max_fds(table: list) -> int:
    """The size of the fd table as Linux grows it (fdtable max_fds): 64,
    then 128 times a power of two; select looks no further."""
    if len(table) <= 64:
        return 64
    n = 1
    while 128 * n < len(table):
        n *= 2
    return 128 * n


def get_fd_set(n: int, ufdset: int) -> int:
    if not ufdset:
        return 0
    return int.from_bytes(copy_from_user(ufdset, (n + 63) // 64 * 8), "little")


def set_fd_set(n: int, ufdset: int, bits: int) -> None:
    if ufdset:
        copy_to_user(ufdset, bits.to_bytes((n + 63) // 64 * 8, "little"))


def core_sys_select(n: int, inp: int, outp: int, exp: int, deadline: int) -> int:
    """select's work on the fd_sets at inp/outp/exp (bits below n); they
    are rewritten with what is ready unless a signal ended the wait."""
    if n < 0:
        raise Errno(EINVAL)
    tsk = current()
    n = min(n, max_fds(tsk.files.fd))
    below_n = (1 << n) - 1
    fin, fout, fex = (get_fd_set(n, p) & below_n for p in (inp, outp, exp))
    wanted = fin | fout | fex
    table = tsk.files.fd
    fds = [i for i in range(wanted.bit_length()) if wanted >> i & 1]
    for fd in fds:                      # max_select_fd: every fd asked about is open
        if fd >= len(table) or table[fd] is None:
            raise Errno(EBADF)
    res = [0, 0, 0]

    def scan(pt: Optional[poll_table]) -> int:
        table = tsk.files.fd
        rin = rout = rex = count = 0
        for fd in fds:
            bit = 1 << fd
            f = table[fd] if fd < len(table) else None
            if f is None:
                continue
            if pt is not None:
                pt.key = ((POLLIN_SET if fin & bit else 0) | (POLLOUT_SET if fout & bit else 0)
                          | (POLLEX_SET if fex & bit else 0))
            mask = vfs_poll(f, pt)
            if mask & POLLIN_SET and fin & bit:
                rin |= bit
                count += 1
                pt = None
            if mask & POLLOUT_SET and fout & bit:
                rout |= bit
                count += 1
                pt = None
            if mask & POLLEX_SET and fex & bit:
                rex |= bit
                count += 1
                pt = None
        res[:] = rin, rout, rex
        return count

    def copy_out(ret: int) -> int:
        if ret < 0:
            return ret
        if not ret and signal_pending(tsk):
            return -ERESTARTNOHAND
        try:
            set_fd_set(n, inp, res[0])
            set_fd_set(n, outp, res[1])
            set_fd_set(n, exp, res[2])
        except Errno:
            return -EFAULT
        return ret
    return then(lambda: poll_wait_loop(scan, deadline, _restart_nohand), copy_out)


@syscall("select")
def sys_select(n: c_int, inp: UPtr, outp: UPtr, exp: UPtr, tvp: UPtr) -> int:
    deadline = -1
    if tvp:
        sec, usec = _TIMESPEC.unpack(copy_from_user(tvp, 16))
        q = abs(usec) // 1_000_000 * (1 if usec >= 0 else -1)   # C division: towards zero
        deadline = poll_select_set_timeout(sec + q, (usec - q * 1_000_000) * 1000)
    return then(lambda: core_sys_select(n, inp, outp, exp, deadline),
                lambda ret: poll_select_finish(deadline, tvp, True, ret))


@syscall("pselect6")
def sys_pselect6(n: c_int, inp: UPtr, outp: UPtr, exp: UPtr, tsp: UPtr, sig: UPtr) -> int:
    umask, sigsetsize = _TIMESPEC.unpack(copy_from_user(sig, 16)) if sig else (0, 0)
    deadline = -1
    if tsp:
        deadline = poll_select_set_timeout(*get_timespec(tsp))
    set_user_sigmask(umask, sigsetsize)
    return then(lambda: core_sys_select(n, inp, outp, exp, deadline),
                lambda ret: poll_select_finish(deadline, tsp, False, ret))
