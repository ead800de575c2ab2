"""eventfd, eventfd2 (fs/eventfd.c): a 64-bit counter as a file.

write adds to the counter (blocking, or EAGAIN, while the sum would
reach 2^64-1); read takes all of it, or 1 with EFD_SEMAPHORE (blocking,
or EAGAIN, while it is 0).  Readiness: POLLIN while the counter is not 0,
POLLOUT while another 1 fits, POLLERR if it ever holds 2^64-1."""
from __future__ import annotations

import struct
from typing import Optional

from ..panic import Errno
from ..sched.wait import BlockOn, wait_queue_head, wake_up
from ..syscalls import syscall
from ..types import c_int, c_uint
from ..uapi import (
    EAGAIN, EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, EINVAL, O_CLOEXEC, O_NONBLOCK, O_RDWR, POLLERR, POLLIN,
    POLLOUT, POLLRDNORM, POLLWRNORM,
)
from .file import FileOps, fd_install_new, file
from .poll import poll_table, poll_wait

ULLONG_MAX = (1 << 64) - 1
_U64 = struct.Struct("<Q")


class eventfd_ctx:
    __slots__ = ("count", "flags", "wqh")

    def __init__(self, count: int, flags: int) -> None:
        self.count = count
        self.flags = flags
        self.wqh = wait_queue_head()


class EventfdOps(FileOps):
    def read(self, f: file, n: int) -> bytes:
        ctx: eventfd_ctx = f.private
        if n < 8:
            raise Errno(EINVAL)
        if not ctx.count:
            if f.f_flags & O_NONBLOCK:
                raise Errno(EAGAIN)
            raise BlockOn([ctx.wqh], lambda: self.read(f, n))
        ucnt = 1 if ctx.flags & EFD_SEMAPHORE else ctx.count
        ctx.count -= ucnt
        if ctx.wqh.waiters:
            wake_up(ctx.wqh, key=POLLOUT)
        return _U64.pack(ucnt)

    def write(self, f: file, data: bytes) -> int:
        ctx: eventfd_ctx = f.private
        if len(data) < 8:
            raise Errno(EINVAL)
        ucnt = _U64.unpack_from(data)[0]
        if ucnt == ULLONG_MAX:
            raise Errno(EINVAL)
        if ULLONG_MAX - ctx.count <= ucnt:
            if f.f_flags & O_NONBLOCK:
                raise Errno(EAGAIN)
            raise BlockOn([ctx.wqh], lambda: self.write(f, data))
        ctx.count += ucnt
        if ucnt and ctx.wqh.waiters:
            wake_up(ctx.wqh, key=POLLIN)
        return 8

    def can_poll(self, f: file) -> bool:
        return True

    def poll(self, f: file, pt: Optional[poll_table]) -> int:
        ctx: eventfd_ctx = f.private
        poll_wait(f, ctx.wqh, pt)
        mask = 0
        if ctx.count > 0:
            mask |= POLLIN | POLLRDNORM
        if ctx.count == ULLONG_MAX:
            mask |= POLLERR
        if ULLONG_MAX - 1 > ctx.count:
            mask |= POLLOUT | POLLWRNORM
        return mask

    def stat(self, f: file) -> dict:
        return {"mode": 0o600, "ino": 1, "dev": 0xE, "blksize": 4096}


def do_eventfd(count: int, flags: int) -> int:
    if flags & ~(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK):
        raise Errno(EINVAL)
    ctx = eventfd_ctx(count, flags)
    f = file(EventfdOps(), O_RDWR | (flags & O_NONBLOCK), ctx, path="anon_inode:[eventfd]")
    return fd_install_new(f, bool(flags & O_CLOEXEC))


@syscall("eventfd2")
def sys_eventfd2(count: c_uint, flags: c_int) -> int:
    return do_eventfd(count, flags)


@syscall("eventfd")
def sys_eventfd(count: c_uint) -> int:
    return do_eventfd(count, 0)
