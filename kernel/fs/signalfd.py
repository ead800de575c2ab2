"""signalfd, signalfd4 (fs/signalfd.c): pending signals read as a file.

Reading takes signals of the fd's mask from the reader's own queues (its
thread's first, then the process's) and returns one 128-byte
signalfd_siginfo per signal, at most as many as fit; it blocks while none
is pending (ERESTARTSYS on another signal), EAGAIN with SFD_NONBLOCK.
The signals are usually blocked, so they wait to be read instead of
being delivered.  A sent signal wakes the sighand's signalfd_wqh
(signalfd_notify in send_signal), where readers and pollers wait."""
from __future__ import annotations

import struct
from typing import Optional

from ..mm.uaccess import copy_from_user
from ..panic import Errno
from ..percpu import current
from ..sched.wait import BlockOn, wait_queue_head, wake_up
from ..siginfo import (
    SIL_CHLD, SIL_FAULT, SIL_KILL, SIL_POLL, SIL_RT, SIL_SYS, SIL_TIMER, kernel_siginfo,
    siginfo_from_bytes, siginfo_layout,
)
from ..signal import dequeue_signal, next_signal, sigmask
from ..syscalls import syscall
from ..types import UPtr, c_int, size_t
from ..uapi import EAGAIN, EINVAL, O_CLOEXEC, O_NONBLOCK, O_RDWR, POLLIN, POLLRDNORM, SFD_CLOEXEC, SFD_NONBLOCK, SIGKILL, SIGSTOP
from .file import FileOps, fd_install_new, file
from .poll import poll_table, poll_wait

# ssi_signo errno code pid uid fd tid band overrun trapno status int ptr
# utime stime addr addr_lsb pad2 syscall call_addr arch, then 28 bytes.
_SSI = struct.Struct("<IiiIIiIIIIiiQQQQHHiQI28x")
_ALL = (1 << 64) - 1


class signalfd_ctx:
    __slots__ = ("sigmask",)

    def __init__(self, skip: int) -> None:
        self.sigmask = skip           # the signals NOT read (Linux keeps the complement)


def signalfd_wqh(tsk) -> wait_queue_head:
    sh = tsk.sighand
    if sh.signalfd_wqh is None:
        sh.signalfd_wqh = wait_queue_head()
    return sh.signalfd_wqh


def signalfd_copyinfo(info: kernel_siginfo) -> bytes:
    """The signalfd_siginfo of one dequeued signal (signalfd_copyinfo)."""
    if info.raw is not None:
        info = siginfo_from_bytes(info.raw)
    v = dict(signo=info.signo, errno=info.errno, code=info.code, pid=0, uid=0, fd=0, tid=0, band=0,
             overrun=0, status=0, int=0, ptr=0, utime=0, stime=0, addr=0, syscall=0, arch=0)
    lay = siginfo_layout(info.signo, info.code)
    sival_int = info.value & 0xFFFFFFFF
    sival_int -= (sival_int & 0x80000000) << 1
    if lay == SIL_KILL:
        v.update(pid=info.pid, uid=info.uid)
    elif lay == SIL_TIMER:
        v.update(tid=info.tid, overrun=info.overrun, ptr=info.value, int=sival_int)
    elif lay == SIL_POLL:
        v.update(band=info.band, fd=info.fd)
    elif lay == SIL_FAULT:
        v.update(addr=info.addr)
    elif lay == SIL_CHLD:
        v.update(pid=info.pid, uid=info.uid, status=info.status, utime=info.utime, stime=info.stime)
    elif lay == SIL_RT:
        v.update(pid=info.pid, uid=info.uid, ptr=info.value, int=sival_int)
    elif lay == SIL_SYS:
        v.update(addr=info.addr)      # si_call_addr; syscall and arch are not kept
    m = 0xFFFFFFFF
    return _SSI.pack(v["signo"], v["errno"], v["code"], v["pid"] & m, v["uid"] & m, v["fd"], v["tid"] & m,
                     v["band"] & m, v["overrun"] & m, 0, v["status"], v["int"], v["ptr"] & _ALL,
                     v["utime"] & _ALL, v["stime"] & _ALL, v["addr"] & _ALL, 0, 0, v["syscall"], 0,
                     v["arch"])


class SignalfdOps(FileOps):
    def read(self, f: file, n: int) -> bytes:
        ctx: signalfd_ctx = f.private
        count = n // _SSI.size
        if not count:
            raise Errno(EINVAL)
        tsk = current()
        out = bytearray()
        while len(out) < count * _SSI.size:
            info = dequeue_signal(tsk, ctx.sigmask)
            if info is None:
                break
            out += signalfd_copyinfo(info)
        if out:
            return bytes(out)
        if f.f_flags & O_NONBLOCK:
            raise Errno(EAGAIN)
        raise BlockOn([signalfd_wqh(tsk)], lambda: self.read(f, n))

    def can_poll(self, f: file) -> bool:
        return True

    def poll(self, f: file, pt: Optional[poll_table]) -> int:
        """Readable while the poller (not the fd's creator) has one of the
        signals pending."""
        ctx: signalfd_ctx = f.private
        tsk = current()
        poll_wait(f, signalfd_wqh(tsk), pt)
        if next_signal(tsk.pending, ctx.sigmask) or next_signal(tsk.signal.shared_pending, ctx.sigmask):
            return POLLIN | POLLRDNORM
        return 0

    def stat(self, f: file) -> dict:
        return {"mode": 0o600, "ino": 1, "dev": 0xE, "blksize": 4096}


def do_signalfd4(ufd: int, umask: int, sizemask: int, flags: int) -> int:
    if flags & ~(SFD_CLOEXEC | SFD_NONBLOCK):
        raise Errno(EINVAL)
    if sizemask != 8:
        raise Errno(EINVAL)
    mask = struct.unpack("<Q", copy_from_user(umask, 8))[0]
    mask &= ~(sigmask(SIGKILL) | sigmask(SIGSTOP))
    skip = ~mask & _ALL
    if ufd == -1:
        f = file(SignalfdOps(), O_RDWR | (flags & O_NONBLOCK), signalfd_ctx(skip),
                 path="anon_inode:[signalfd]")
        return fd_install_new(f, bool(flags & O_CLOEXEC))
    tsk = current()
    f = tsk.files.fget(ufd)
    if not isinstance(f.f_op, SignalfdOps):
        raise Errno(EINVAL)
    f.private.sigmask = skip
    wake_up(signalfd_wqh(tsk))
    return ufd


@syscall("signalfd4")
def sys_signalfd4(ufd: c_int, user_mask: UPtr, sizemask: size_t, flags: c_int) -> int:
    return do_signalfd4(ufd, user_mask, sizemask, flags)


@syscall("signalfd")
def sys_signalfd(ufd: c_int, user_mask: UPtr, sizemask: size_t) -> int:
    return do_signalfd4(ufd, user_mask, sizemask, 0)
