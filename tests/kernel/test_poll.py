"""The poll protocol's pieces without a machine: keyed wake-ups of
callback entries, pipe readiness, epoll items following their file
(ready on a keyed wake-up, gone with the file's last reference, disabled
by EPOLLONESHOT) and the loop check.  The guests poll_select, epoll_ops,
fd_events and poll_stdin check the calls natively and under tinyunix."""
from __future__ import annotations

from kernel.fs.eventpoll import EpollOps, ep_insert, ep_loop_check, eventpoll
from kernel.fs.file import file
from kernel.fs.mem import DevNullOps
from kernel.fs.pipe import PipeReadOps, PipeWriteOps, pipe_inode_info
from kernel.fs.poll import DEFAULT_POLLMASK, poll_table, vfs_poll
from kernel.sched.wait import add_wait_queue, wait_queue_entry, wait_queue_head, wake_up
from kernel.uapi import (
    EPOLLET, EPOLLONESHOT, O_RDONLY, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM,
    POLLWRNORM,
)


def _pipe() -> tuple[pipe_inode_info, file, file]:
    p = pipe_inode_info()
    p.readers = p.writers = 1
    return p, file(PipeReadOps(), O_RDONLY, p), file(PipeWriteOps(), O_WRONLY, p)


def test_keyed_wake_up_runs_callbacks_with_the_key() -> None:
    wq = wait_queue_head()
    seen: list[int] = []

    def func(entry: wait_queue_entry, key: int) -> bool:
        seen.append(key)
        return bool(key & POLLIN)
    add_wait_queue(wq, wait_queue_entry(func))
    assert wake_up(wq, key=POLLOUT) == 0
    assert wake_up(wq, key=POLLIN) == 1
    assert seen == [POLLOUT, POLLIN]


def test_pipe_poll_masks_and_registration() -> None:
    p, r, w = _pipe()
    pt = poll_table()
    assert vfs_poll(r, pt) == 0
    assert vfs_poll(w, pt) == POLLOUT | POLLWRNORM
    assert pt.queues == [p.rd_wait, p.wr_wait]
    p.buf += b"x"
    assert vfs_poll(r, None) == POLLIN | POLLRDNORM
    w.put()                                     # the last writer goes
    assert vfs_poll(r, None) == POLLIN | POLLRDNORM | POLLHUP
    p2, r2, w2 = _pipe()
    r2.put()
    assert vfs_poll(w2, None) == POLLOUT | POLLWRNORM | POLLERR


def test_files_without_poll_are_always_ready() -> None:
    f = file(DevNullOps(), O_RDONLY)
    assert not f.f_op.can_poll(f)
    assert vfs_poll(f, poll_table()) == DEFAULT_POLLMASK


def test_epoll_item_follows_its_file() -> None:
    p, r, w = _pipe()
    ep = eventpoll()
    ep.file = file(EpollOps(), 2, ep)
    ep_insert(ep, POLLIN | EPOLLET | POLLERR | POLLHUP, 7, r, 3)
    assert not ep.rdllist and len(p.rd_wait.waiters) == 1
    wake_up(p.rd_wait, key=POLLOUT)             # not an event it watches
    assert not ep.rdllist
    wake_up(p.rd_wait, key=POLLIN)
    assert [e.data for e in ep.rdllist] == [7]
    # The last reference to the file goes: the item and its entry go too.
    r.put()
    assert not ep.items and not ep.rdllist and not p.rd_wait.waiters and r.f_ep is None


def test_oneshot_item_ignores_wake_ups_once_fired() -> None:
    p, r, w = _pipe()
    ep = eventpoll()
    ep_insert(ep, POLLIN | EPOLLONESHOT | POLLERR | POLLHUP, 1, r, 3)
    epi = ep.items[(r, 3)]
    epi.events &= EPOLLONESHOT | EPOLLET      # what ep_send_events leaves after reporting
    wake_up(p.rd_wait, key=POLLIN)
    assert not ep.rdllist


def test_loop_check() -> None:
    eps = []
    for _ in range(6):
        ep = eventpoll()
        ep.file = file(EpollOps(), 2, ep)
        eps.append(ep)
    a, b = eps[0], eps[1]
    ep_insert(b, POLLIN, 0, a.file, 10)         # a inside b
    assert ep_loop_check(a, b)                  # b inside a would close a loop
    chain = eps[1:]
    for lower, upper in zip(chain, chain[1:]):
        if ep_loop_check(upper, lower):
            break
        ep_insert(upper, POLLIN, 0, lower.file, 10)
    else:
        raise AssertionError("a chain of six epolls was allowed")
