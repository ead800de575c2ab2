"""siginfo: what the kernel records about each queued signal, and the
128-byte siginfo_t the guest sees (include/uapi/asm-generic/siginfo.h,
kernel/signal.c siginfo_layout, copy_siginfo_to_user).

The union of siginfo_t is laid out by (si_signo, si_code), as
siginfo_layout decides; a siginfo the guest queued itself
(rt_sigqueueinfo) is kept as the 128 bytes it gave and delivered as is.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Optional

from .uapi import (
    SI_KERNEL, SI_SIGIO, SI_TIMER, SI_USER, SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGPOLL, SIGSEGV,
    SIGSYS, SIGTRAP,
)

SI_MAX_SIZE = 128

# siginfo_layout's answers.
SIL_KILL, SIL_TIMER, SIL_POLL, SIL_FAULT, SIL_CHLD, SIL_RT, SIL_SYS = range(7)

# (limit of the signal's own si_codes, layout) for codes in (SI_USER, SI_KERNEL).
_SPECIFIC = {SIGILL: (11, SIL_FAULT), SIGFPE: (15, SIL_FAULT), SIGSEGV: (10, SIL_FAULT),
             SIGBUS: (5, SIL_FAULT), SIGTRAP: (6, SIL_FAULT), SIGCHLD: (6, SIL_CHLD),
             SIGPOLL: (6, SIL_POLL), SIGSYS: (2, SIL_SYS)}
NSIGPOLL = 6

_HEAD = struct.Struct("<iii4x")
_PACK = {
    SIL_KILL: struct.Struct("<iii4xiI"),          # pid, uid
    SIL_RT: struct.Struct("<iii4xiIQ"),           # pid, uid, value
    SIL_TIMER: struct.Struct("<iii4xiiQ"),        # tid, overrun, value
    SIL_CHLD: struct.Struct("<iii4xiIi4xqq"),     # pid, uid, status, utime, stime
    SIL_FAULT: struct.Struct("<iii4xQ"),          # addr
    SIL_POLL: struct.Struct("<iii4xqi"),          # band, fd
    SIL_SYS: struct.Struct("<iii4xQiI"),          # call_addr, syscall, arch
}


def siginfo_layout(sig: int, code: int) -> int:
    """Which member of the union a (signal, si_code) pair uses."""
    if SI_USER < code < SI_KERNEL:
        spec = _SPECIFIC.get(sig)
        if spec is not None and code <= spec[0]:
            return spec[1]
        return SIL_POLL if code <= NSIGPOLL else SIL_KILL
    if code == SI_TIMER:
        return SIL_TIMER
    if code == SI_SIGIO:
        return SIL_POLL
    return SIL_RT if code < 0 else SIL_KILL


SI_DETHREAD, SI_ASYNCNL = -7, -60


def known_siginfo_layout(sig: int, code: int) -> bool:
    """Does the kernel know this si_code (so 48 bytes say all of it)?"""
    if code == SI_KERNEL:
        return True
    if SI_USER < code < SI_KERNEL:
        spec = _SPECIFIC.get(sig)
        return code <= (spec[0] if spec is not None else NSIGPOLL)
    return code >= SI_DETHREAD or code == SI_ASYNCNL


@dataclass(eq=False, slots=True)
class kernel_siginfo:
    """One queued signal's information.  `raw` is a siginfo_t the guest
    supplied (rt_sigqueueinfo), delivered byte for byte."""
    signo: int
    code: int = SI_USER
    errno: int = 0
    pid: int = 0
    uid: int = 0
    status: int = 0         # SIGCHLD: exit code or signal
    utime: int = 0
    stime: int = 0
    addr: int = 0           # faults: the address
    value: int = 0          # sigval (rt, timers)
    tid: int = 0            # timers: the timer id
    overrun: int = 0
    band: int = 0           # SIGPOLL
    fd: int = 0
    raw: Optional[bytes] = None
    sys_private: Any = None  # a timer's siginfo: (k_itimer, it_signal_seq) when it fired

    def pack(self) -> bytes:
        """The siginfo_t copy_siginfo_to_user writes."""
        if self.raw is not None:
            return self.raw
        lay = siginfo_layout(self.signo, self.code)
        head = (self.signo, self.errno, self.code)
        if lay == SIL_KILL:
            b = _PACK[lay].pack(*head, self.pid, self.uid)
        elif lay == SIL_RT:
            b = _PACK[lay].pack(*head, self.pid, self.uid, self.value)
        elif lay == SIL_TIMER:
            b = _PACK[lay].pack(*head, self.tid, self.overrun, self.value)
        elif lay == SIL_CHLD:
            b = _PACK[lay].pack(*head, self.pid, self.uid, self.status, self.utime, self.stime)
        elif lay == SIL_FAULT:
            b = _PACK[lay].pack(*head, self.addr)
        elif lay == SIL_POLL:
            b = _PACK[lay].pack(*head, self.band, self.fd)
        else:
            b = _PACK[lay].pack(*head, self.addr, 0, 0)
        return b + bytes(SI_MAX_SIZE - len(b))

    def fields(self) -> dict:
        """The members the layout uses, by their si_ names without the
        prefix (for the trace and --events): signo, code, errno and the
        union's members; a guest-supplied siginfo is decoded the same way."""
        info = self if self.raw is None else siginfo_from_bytes(self.raw)
        f = {"signo": info.signo, "code": info.code}
        if info.errno:
            f["errno"] = info.errno
        lay = siginfo_layout(info.signo, info.code)
        names = {SIL_KILL: ("pid", "uid"), SIL_RT: ("pid", "uid", "value"),
                 SIL_TIMER: ("tid", "overrun", "value"),
                 SIL_CHLD: ("pid", "uid", "status", "utime", "stime"),
                 SIL_FAULT: ("addr",), SIL_POLL: ("band", "fd"), SIL_SYS: ("addr",)}[lay]
        for n in names:
            f[n] = getattr(info, n)
        return f


def siginfo_from_bytes(b: bytes) -> kernel_siginfo:
    """Decode a siginfo_t (as the guest laid it out) into its fields."""
    signo, errno, code = _HEAD.unpack_from(b)
    info = kernel_siginfo(signo, code, errno)
    lay = siginfo_layout(signo, code)
    if lay in (SIL_KILL, SIL_RT, SIL_CHLD):
        info.pid, info.uid = struct.unpack_from("<iI", b, 16)
        if lay == SIL_RT:
            info.value = struct.unpack_from("<Q", b, 24)[0]
        elif lay == SIL_CHLD:
            info.status, info.utime, info.stime = struct.unpack_from("<i4xqq", b, 24)
    elif lay == SIL_TIMER:
        info.tid, info.overrun, info.value = struct.unpack_from("<iiQ", b, 16)
    elif lay == SIL_POLL:
        info.band, info.fd = struct.unpack_from("<qi", b, 16)
    else:
        info.addr = struct.unpack_from("<Q", b, 16)[0]
    return info
