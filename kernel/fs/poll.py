"""The poll protocol between waiters and files (include/linux/poll.h).

A file's `f_op.poll(f, pt)` returns the events true now (POLLIN, POLLOUT,
POLLHUP, ...) and, when pt is given, hands every wait queue a change of
those events would be woken on to poll_wait(f, wq, pt).  What the table
does with a queue is the waiter's business (its qproc): poll and select
collect the queues and sleep on all of them; epoll hangs a callback entry
on each (ep_poll_callback).  Wakers pass the events that became true as
the key of wake_up, so a callback can ignore what it does not watch.

A file whose f_op cannot poll (regular files, /dev/null, directories) is
always ready for reading and writing (DEFAULT_POLLMASK), and epoll refuses
it (EPERM), as Linux does for a file without f_op->poll.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

from ..uapi import POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM

if TYPE_CHECKING:
    from ..sched.wait import wait_queue_head
    from .file import file

DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM


class poll_table:
    """What poll_wait does with each queue: qproc(f, wq, pt), or by
    default collect the queues once each in `queues` (poll/select)."""
    __slots__ = ("qproc", "queues", "key")

    def __init__(self, qproc: Optional[Callable[["file", "wait_queue_head", "poll_table"], None]] = None,
                 key: int = ~0) -> None:
        self.qproc = qproc
        self.queues: list = []
        self.key = key          # the events the poller wants (poll_requested_events)

    def add(self, f: "file", wq: "wait_queue_head") -> None:
        if self.qproc is not None:
            self.qproc(f, wq, self)
        elif not any(q is wq for q in self.queues):
            self.queues.append(wq)


def poll_wait(f: "file", wq: "wait_queue_head", pt: Optional[poll_table]) -> None:
    """Register wq for f with the poller (nothing when pt is None: a
    re-check that must not register again)."""
    if pt is not None:
        pt.add(f, wq)


def file_can_poll(f: "file") -> bool:
    return f.f_op.can_poll(f)


def vfs_poll(f: "file", pt: Optional[poll_table]) -> int:
    """The events true for f now (registering with pt if given)."""
    if not f.f_op.can_poll(f):
        return DEFAULT_POLLMASK
    return f.f_op.poll(f, pt)
