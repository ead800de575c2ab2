"""Pipes: a 64 KiB buffer between a read end and a write end.  read blocks
while the pipe is empty and a writer exists (EOF once the last writer is
gone); write blocks while it is full, and writes of at most PIPE_BUF bytes
are atomic.  Writing with no reader raises SIGPIPE and fails with EPIPE."""
from __future__ import annotations

import struct
from typing import Optional

from ..mm.uaccess import copy_to_user
from ..panic import Errno
from ..percpu import current
from ..sched.wait import BlockOn, wait_queue_head, wake_up
from ..syscalls import syscall
from ..types import UPtr, c_int
from ..uapi import (
    EAGAIN, EINVAL, EPIPE, ERESTARTSYS, O_CLOEXEC, O_DIRECT, O_NONBLOCK, O_RDONLY, O_WRONLY, POLLERR, POLLHUP,
    POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, S_IFIFO, SIGPIPE,
)
from .file import FileOps, fd_install_new, file
from .poll import poll_table, poll_wait

PIPE_SIZE = 65536
PIPE_BUF = 4096


class pipe_inode_info:
    _next_ino = 1

    def __init__(self) -> None:
        self.buf = bytearray()
        self.readers = 0
        self.writers = 0
        self.rd_wait = wait_queue_head()
        self.wr_wait = wait_queue_head()
        pipe_inode_info._next_ino += 1
        self.ino = pipe_inode_info._next_ino


class PipeReadOps(FileOps):
    def read(self, f: file, n: int) -> bytes:
        p: pipe_inode_info = f.private
        if n == 0:
            return b""
        if p.buf:
            data = bytes(p.buf[:n])
            del p.buf[:n]
            wake_up(p.wr_wait, key=POLLOUT | POLLWRNORM)
            return data
        if p.writers == 0:
            return b""
        if f.f_flags & O_NONBLOCK:
            raise Errno(EAGAIN)
        raise BlockOn([p.rd_wait], lambda: self.read(f, n))

    def stat(self, f: file) -> dict:
        return pipe_stat(f.private)

    def can_poll(self, f: file) -> bool:
        return True

    def poll(self, f: file, pt: Optional[poll_table]) -> int:
        """pipe_poll, read side: data is POLLIN, no writer left is POLLHUP."""
        p: pipe_inode_info = f.private
        poll_wait(f, p.rd_wait, pt)
        mask = POLLIN | POLLRDNORM if p.buf else 0
        if p.writers == 0:
            mask |= POLLHUP
        return mask

    def release(self, f: file) -> None:
        p: pipe_inode_info = f.private
        p.readers -= 1
        if p.readers == 0:
            wake_up(p.wr_wait)


class PipeWriteOps(FileOps):
    def write(self, f: file, data: bytes) -> int:
        return pipe_write(f, data, 0)

    def stat(self, f: file) -> dict:
        return pipe_stat(f.private)

    def can_poll(self, f: file) -> bool:
        return True

    def poll(self, f: file, pt: Optional[poll_table]) -> int:
        """pipe_poll, write side: room is POLLOUT, no reader left POLLERR."""
        p: pipe_inode_info = f.private
        poll_wait(f, p.wr_wait, pt)
        mask = POLLOUT | POLLWRNORM if len(p.buf) < PIPE_SIZE else 0
        if p.readers == 0:
            mask |= POLLERR
        return mask

    def release(self, f: file) -> None:
        p: pipe_inode_info = f.private
        p.writers -= 1
        if p.writers == 0:
            wake_up(p.rd_wait)


def pipe_write(f: file, data: bytes, done: int) -> int:
    """Write data[done:]; returns the total written when all of it is in
    (or what was written before a would-block on O_NONBLOCK)."""
    from ..signal import send_signal
    p: pipe_inode_info = f.private
    if p.readers == 0:
        send_signal(SIGPIPE, current(), group=True)   # send_sig: SI_USER, from us
        if done:
            return done
        raise Errno(EPIPE)
    total = len(data)
    room = PIPE_SIZE - len(p.buf)
    need = total - done
    if room > 0 and (need > PIPE_BUF or room >= need):
        k = min(room, need)
        p.buf += data[done:done + k]
        done += k
        wake_up(p.rd_wait, key=POLLIN | POLLRDNORM)
    if done == total:
        return total
    if f.f_flags & O_NONBLOCK:
        if done:
            return done
        raise Errno(EAGAIN)
    # A signal ends the wait with what was written so far (pipe_write:
    # -ERESTARTSYS only if nothing was).
    raise BlockOn([p.wr_wait], lambda: pipe_write(f, data, done),
                  interrupted=lambda: done or -ERESTARTSYS)


def pipe_stat(p: pipe_inode_info) -> dict:
    return {"mode": S_IFIFO | 0o600, "ino": p.ino, "dev": 0xC, "blksize": 4096, "size": 0,
            "nlink": 1}


def do_pipe2(fildes: int, flags: int) -> int:
    if flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT):
        raise Errno(EINVAL)
    p = pipe_inode_info()
    p.readers = p.writers = 1
    r = file(PipeReadOps(), O_RDONLY | (flags & O_NONBLOCK), p)
    w = file(PipeWriteOps(), O_WRONLY | (flags & O_NONBLOCK), p)
    cloexec = bool(flags & O_CLOEXEC)
    tsk = current()
    files = tsk.files
    try:
        rfd = fd_install_new(r, cloexec)
    except Errno:
        w.put()
        raise
    try:
        wfd = fd_install_new(w, cloexec)
    except Errno:
        files.close_fd(rfd)
        raise
    try:
        copy_to_user(fildes, struct.pack("<ii", rfd, wfd))
    except Errno:
        files.close_fd(rfd)
        files.close_fd(wfd)
        raise
    return 0


@syscall("pipe")
def sys_pipe(fildes: UPtr) -> int:
    return do_pipe2(fildes, 0)


@syscall("pipe2")
def sys_pipe2(fildes: UPtr, flags: c_int) -> int:
    return do_pipe2(fildes, flags)
