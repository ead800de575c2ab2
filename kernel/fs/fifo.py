"""Named pipes (fs/pipe.c: fifo_open).  A FIFO node of the overlay gets a
pipe when its first end opens and loses it (and any unread bytes) when
the last end closes.  Opening for reading waits for a writer and opening
for writing waits for a reader -- each waits for the other side's open
counter to move, so an open-and-close on the other side still wakes it;
O_NONBLOCK never waits (a lone writer gets ENXIO); O_RDWR never waits."""
from __future__ import annotations

from ..panic import Errno
from ..sched.wait import BlockOn, wait_queue_head, wake_up
from ..uapi import (
    ENXIO, ERESTARTSYS, O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, POLLERR, POLLHUP,
    POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM,
)
from .file import file
from .overlay import OverlayNode, node_stat
from .pipe import PIPE_SIZE, PipeReadOps, PipeWriteOps, pipe_inode_info, pipe_write


class fifo_pipe(pipe_inode_info):
    def __init__(self) -> None:
        super().__init__()
        self.r_counter = 0
        self.w_counter = 0
        self.open_wait = wait_queue_head()


class FifoOps(PipeReadOps, PipeWriteOps):
    """Either end of a FIFO (both for O_RDWR); private = (node, pipe)."""

    def read(self, f: file, n: int) -> bytes:
        return PipeReadOps().read(_as_pipe(f), n)   # its retry after a sleep reads the pipe

    def write(self, f: file, data: bytes) -> int:
        return pipe_write(_as_pipe(f), data, 0)

    def stat(self, f: file) -> dict:
        return node_stat(f.private[0])

    def can_poll(self, f: file) -> bool:
        return True

    def poll(self, f: file, pt) -> int:   # type: ignore[no-untyped-def]
        """pipe_poll for the ends f has open."""
        from .poll import poll_wait
        _node, p = f.private
        acc = f.f_flags & O_ACCMODE
        mask = 0
        if acc in (O_RDONLY, O_RDWR):
            poll_wait(f, p.rd_wait, pt)
            mask |= POLLIN | POLLRDNORM if p.buf else 0
            mask |= POLLHUP if p.writers == 0 else 0
        if acc in (O_WRONLY, O_RDWR):
            poll_wait(f, p.wr_wait, pt)
            mask |= POLLOUT | POLLWRNORM if len(p.buf) < PIPE_SIZE else 0
            mask |= POLLERR if p.readers == 0 else 0
        return mask

    def release(self, f: file) -> None:
        node, p = f.private
        acc = f.f_flags & O_ACCMODE
        if acc in (O_RDONLY, O_RDWR):
            p.readers -= 1
            if p.readers == 0:
                wake_up(p.wr_wait)
        if acc in (O_WRONLY, O_RDWR):
            p.writers -= 1
            if p.writers == 0:
                wake_up(p.rd_wait)
        if p.readers == 0 and p.writers == 0 and node.fifo is p:
            node.fifo = None           # free_pipe_info: unread bytes go


def _as_pipe(f: file) -> file:
    """A view of f whose private is the pipe, for pipe.py's read/write
    (the offset and flags are f's)."""
    view = file(f.f_op, f.f_flags, f.private[1], f_count=0, path=f.path)
    return view


def fifo_open(node: OverlayNode, flags: int, g: str) -> file:
    """Open one end of FIFO `node`; may sleep (raises BlockOn) until the
    other side opens."""
    p = node.fifo
    if p is None:
        p = node.fifo = fifo_pipe()
    acc = flags & O_ACCMODE
    f = file(FifoOps(), flags, (node, p), path=g)
    if acc == O_RDONLY:
        p.readers += 1
        p.r_counter += 1
        wake_up(p.open_wait)
        if p.writers == 0 and not flags & O_NONBLOCK:
            return _wait_for(f, p, "w_counter", p.w_counter)
        return f
    if acc == O_WRONLY:
        if flags & O_NONBLOCK and p.readers == 0:
            if p.writers == 0:
                node.fifo = None
            raise Errno(ENXIO)
        p.writers += 1
        p.w_counter += 1
        wake_up(p.open_wait)
        if p.readers == 0:
            return _wait_for(f, p, "r_counter", p.r_counter)
        return f
    p.readers += 1
    p.writers += 1
    p.r_counter += 1
    p.w_counter += 1
    wake_up(p.open_wait)
    return f


def _wait_for(f: file, p: fifo_pipe, counter: str, seen: int) -> file:
    def cont() -> file:
        if getattr(p, counter) != seen:
            return f
        raise BlockOn([p.open_wait], cont, interrupted=undo)   # type: ignore[arg-type]

    def undo() -> int:
        f.put()                        # drops this end's count again
        return -ERESTARTSYS
    raise BlockOn([p.open_wait], cont, interrupted=undo)   # type: ignore[arg-type]
