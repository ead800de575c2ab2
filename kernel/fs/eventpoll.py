"""epoll (fs/eventpoll.c): epoll_create, epoll_create1, epoll_ctl,
epoll_wait, epoll_pwait, epoll_pwait2.

An eventpoll holds one epitem per watched (file, fd).  Adding an item
polls its file once with a poll_table whose qproc hangs an
ep_poll_callback entry on each of the file's wait queues; from then on a
wake-up whose key meets the item's events puts it on the ready list
(rdllist) and wakes one task in epoll_wait.  epoll_wait re-polls each
ready item (ep_send_events): an item that is no longer ready drops out; a
level-triggered one goes back on the list after it is reported, an
edge-triggered one waits for the next wake-up, and an EPOLLONESHOT one is
disabled until EPOLL_CTL_MOD re-arms it.  Items hold no reference on
their file: when the file's last reference goes, eventpoll_release
removes them from every epoll (__fput), as in Linux.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Optional

from ..mm.uaccess import access_ok, copy_from_user, copy_to_user
from ..panic import Errno
from ..percpu import current
from ..time.timekeeping import ktime_get_ns
from ..sched.wait import BlockOn, add_wait_queue, remove_wait_queue, wait_queue_entry, wait_queue_head, wake_up
from ..signal import signal_pending
from ..signal_sys import restore_saved_sigmask_unless, set_user_sigmask
from ..syscalls import syscall
from ..types import UPtr, c_int, size_t
from ..uapi import (
    EEXIST, EFAULT, EINTR, EINVAL, ELOOP, ENOENT, EPERM, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL,
    EPOLL_CTL_MOD, EPOLLET, EPOLLEXCLUSIVE, EPOLLONESHOT, EPOLLWAKEUP, O_CLOEXEC, O_RDWR, POLLERR,
    POLLHUP, POLLIN, POLLOUT, POLLRDNORM,
)
from .file import FileOps, fd_install_new, file
from .poll import file_can_poll, poll_table, poll_wait, vfs_poll
from .select import get_timespec, poll_select_set_timeout, then

EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE
EPOLLEXCLUSIVE_OK_BITS = POLLIN | POLLOUT | POLLERR | POLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE
EP_MAX_NESTS = 4
_EVENT = struct.Struct("<IQ")           # struct epoll_event is packed on x86-64
EP_MAX_EVENTS = 0x7FFFFFFF // _EVENT.size


@dataclass(eq=False, slots=True)
class epitem:
    ep: "eventpoll"
    file: file
    fd: int
    events: int
    data: int
    pwqlist: list = field(default_factory=list)    # (wait_queue_head, wait_queue_entry)
    ready: bool = False                            # on ep.rdllist


@dataclass(eq=False, slots=True)
class eventpoll:
    items: dict = field(default_factory=dict)          # (file, fd) -> epitem
    rdllist: list = field(default_factory=list)        # ready epitems, oldest first
    wq: wait_queue_head = field(default_factory=wait_queue_head)         # tasks in epoll_wait
    poll_wait: wait_queue_head = field(default_factory=wait_queue_head)  # pollers of this epoll
    file: Optional[file] = None


class EpollOps(FileOps):
    def can_poll(self, f: file) -> bool:
        return True

    def poll(self, f: file, pt: Optional[poll_table]) -> int:
        return ep_eventpoll_poll(f, pt, 0)

    def stat(self, f: file) -> dict:
        return {"mode": 0o600, "ino": 1, "dev": 0xE, "blksize": 4096}

    def release(self, f: file) -> None:
        ep_free(f.private)


def is_file_epoll(f: file) -> bool:
    return isinstance(f.f_op, EpollOps)


# --- readiness ---------------------------------------------------------------------

def ep_eventpoll_poll(f: file, pt: Optional[poll_table], depth: int) -> int:
    """An epoll is readable while one of its ready items still is; items
    on the list that are not drop out (__ep_eventpoll_poll)."""
    ep: eventpoll = f.private
    poll_wait(f, ep.poll_wait, pt)
    for epi in list(ep.rdllist):
        if ep_item_poll(epi, None, depth + 1):
            return POLLIN | POLLRDNORM
        ep.rdllist.remove(epi)
        epi.ready = False
    return 0


def ep_item_poll(epi: epitem, pt: Optional[poll_table], depth: int) -> int:
    if pt is not None:
        pt.key = epi.events
    if is_file_epoll(epi.file):
        res = ep_eventpoll_poll(epi.file, pt, depth)
    else:
        res = vfs_poll(epi.file, pt)
    return res & epi.events


def ep_make_ready(ep: eventpoll, epi: epitem) -> None:
    """Put epi on the ready list (once) and tell the waiters."""
    if not epi.ready:
        epi.ready = True
        ep.rdllist.append(epi)
    if ep.wq.waiters:
        wake_up(ep.wq, nr=1)         # epoll_wait sleeps exclusively: one task per event
    if ep.poll_wait.waiters:
        wake_up(ep.poll_wait, key=POLLIN)


def ep_poll_callback(entry: wait_queue_entry, key: int) -> bool:
    """A watched file's queue was woken with `key` (0: anything may have
    changed): the item is ready unless disabled (EPOLLONESHOT fired) or
    the key says none of its events happened."""
    epi: epitem = entry.private      # type: ignore[assignment]
    if not epi.events & ~EP_PRIVATE_BITS:
        return False
    if key and not key & epi.events:
        return False
    ep_make_ready(epi.ep, epi)
    return True


def ep_ptable_queue_proc(epi: epitem):
    def qproc(f: file, wq: wait_queue_head, pt: poll_table) -> None:
        ep = epi.ep
        entry = wait_queue_entry(ep_poll_callback, epi,
                                 lambda: bool(ep.wq.waiters or ep.poll_wait.waiters))
        add_wait_queue(wq, entry)
        epi.pwqlist.append((wq, entry))
    return qproc


# --- the items ---------------------------------------------------------------------

def ep_insert(ep: eventpoll, events: int, data: int, tf: file, fd: int) -> None:
    epi = epitem(ep, tf, fd, events, data)
    ep.items[(tf, fd)] = epi
    if tf.f_ep is None:
        tf.f_ep = []
    tf.f_ep.append(epi)
    if ep_item_poll(epi, poll_table(ep_ptable_queue_proc(epi)), 1):
        ep_make_ready(ep, epi)


def ep_modify(ep: eventpoll, epi: epitem, events: int, data: int) -> None:
    """New events and data; ready at once if the file already is (this is
    how EPOLL_CTL_MOD re-arms an EPOLLONESHOT or edge-triggered item)."""
    epi.events = events
    epi.data = data
    if ep_item_poll(epi, None, 1):
        ep_make_ready(ep, epi)


def ep_remove(ep: eventpoll, epi: epitem) -> None:
    for wq, entry in epi.pwqlist:
        remove_wait_queue(wq, entry)
    epi.pwqlist.clear()
    if epi.file.f_ep is not None and epi in epi.file.f_ep:
        epi.file.f_ep.remove(epi)
    if epi.ready:
        ep.rdllist.remove(epi)
        epi.ready = False
    ep.items.pop((epi.file, epi.fd), None)


def ep_free(ep: eventpoll) -> None:
    """The epoll file's last reference went: drop every item."""
    for epi in list(ep.items.values()):
        ep_remove(ep, epi)


def eventpoll_release(f: file) -> None:
    """f's last reference goes: no epoll watches it any longer."""
    for epi in list(f.f_ep or ()):
        ep_remove(epi.ep, epi)
    f.f_ep = None


# --- loops of epolls ---------------------------------------------------------------

def ep_loop_check_proc(ep: eventpoll, inserting_into: eventpoll, depth: int) -> int:
    """How deep epolls nest below ep (a path back to inserting_into is
    infinitely deep)."""
    result = 0
    for epi in ep.items.values():
        if is_file_epoll(epi.file):
            to_visit: eventpoll = epi.file.private
            if to_visit is inserting_into or depth > EP_MAX_NESTS:
                return 1 << 31
            result = max(result, ep_loop_check_proc(to_visit, inserting_into, depth + 1) + 1)
            if result > EP_MAX_NESTS:
                break
    return result


def ep_get_upwards_depth(ep: eventpoll, depth: int) -> int:
    """How many epolls watch ep, one inside the other, at most."""
    result = 0
    if ep.file is not None and depth <= EP_MAX_NESTS:
        for epi in ep.file.f_ep or ():
            result = max(result, ep_get_upwards_depth(epi.ep, depth + 1) + 1)
    return result


def ep_loop_check(ep: eventpoll, to: eventpoll) -> bool:
    """Would watching `to` from ep close a loop or nest epolls deeper
    than EP_MAX_NESTS?"""
    depth = ep_loop_check_proc(to, ep, 0)
    if depth > EP_MAX_NESTS:
        return True
    return depth + 1 + ep_get_upwards_depth(ep, 0) > EP_MAX_NESTS


# --- the calls -----------------------------------------------------------------------

def do_epoll_create(flags: int) -> int:
    if flags & ~EPOLL_CLOEXEC:
        raise Errno(EINVAL)
    ep = eventpoll()
    f = file(EpollOps(), O_RDWR, ep, path="anon_inode:[eventpoll]")
    ep.file = f
    return fd_install_new(f, bool(flags & O_CLOEXEC))


@syscall("epoll_create1")
def sys_epoll_create1(flags: c_int) -> int:
    return do_epoll_create(flags)


@syscall("epoll_create")
def sys_epoll_create(size: c_int) -> int:
    if size <= 0:
        raise Errno(EINVAL)
    return do_epoll_create(0)


def do_epoll_ctl(epfd: int, op: int, fd: int, events: int, data: int) -> int:
    files = current().files
    f = files.fget(epfd)
    tf = files.fget(fd)
    if not file_can_poll(tf):
        raise Errno(EPERM)
    if f is tf or not is_file_epoll(f):
        raise Errno(EINVAL)
    if op != EPOLL_CTL_DEL and events & EPOLLEXCLUSIVE:
        if op == EPOLL_CTL_MOD:
            raise Errno(EINVAL)
        if op == EPOLL_CTL_ADD and (is_file_epoll(tf) or events & ~EPOLLEXCLUSIVE_OK_BITS):
            raise Errno(EINVAL)
    ep: eventpoll = f.private
    if op == EPOLL_CTL_ADD and is_file_epoll(tf) and ep_loop_check(ep, tf.private):
        raise Errno(ELOOP)
    epi = ep.items.get((tf, fd))
    if op == EPOLL_CTL_ADD:
        if epi is not None:
            raise Errno(EEXIST)
        ep_insert(ep, events | POLLERR | POLLHUP, data, tf, fd)
    elif op == EPOLL_CTL_DEL:
        if epi is None:
            raise Errno(ENOENT)
        ep_remove(ep, epi)
    elif op == EPOLL_CTL_MOD:
        if epi is None:
            raise Errno(ENOENT)
        if epi.events & EPOLLEXCLUSIVE:
            raise Errno(EINVAL)
        ep_modify(ep, epi, events | POLLERR | POLLHUP, data)
    else:
        raise Errno(EINVAL)
    return 0


@syscall("epoll_ctl")
def sys_epoll_ctl(epfd: c_int, op: c_int, fd: c_int, event: UPtr) -> int:
    events = data = 0
    if op != EPOLL_CTL_DEL:
        events, data = _EVENT.unpack(copy_from_user(event, _EVENT.size))
    return do_epoll_ctl(epfd, op, fd, events, data)


def ep_send_events(ep: eventpoll, uevents: int, maxevents: int) -> int:
    """Report up to maxevents ready items at uevents.  An item whose copy
    faults stays on the list (EFAULT if it was the first)."""
    txlist, ep.rdllist = ep.rdllist, []
    relist: list = []
    res = i = 0
    fault = False
    while i < len(txlist) and res < maxevents:
        epi = txlist[i]
        revents = ep_item_poll(epi, None, 1)
        if not revents:
            epi.ready = False
            i += 1
            continue
        try:
            copy_to_user(uevents + res * _EVENT.size, _EVENT.pack(revents, epi.data))
        except Errno:
            fault = True
            break
        i += 1
        res += 1
        if epi.events & EPOLLONESHOT:
            epi.events &= EP_PRIVATE_BITS
            epi.ready = False
        elif epi.events & EPOLLET:
            epi.ready = False
        else:
            relist.append(epi)        # level-triggered: still ready until polled otherwise
    ep.rdllist = txlist[i:] + relist
    if ep.rdllist and ep.wq.waiters:
        wake_up(ep.wq, nr=1)
    if fault and not res:
        raise Errno(EFAULT)
    return res


def ep_poll(ep: eventpoll, uevents: int, maxevents: int, deadline: int) -> int:
    """Wait for ready items until `deadline` (-1 none, 0 do not wait).  A
    signal ends the wait with EINTR, never a restart (ep_poll)."""
    tsk = current()

    def step() -> int:
        timed_out = deadline >= 0 and ktime_get_ns() >= deadline
        if ep.rdllist:
            n = ep_send_events(ep, uevents, maxevents)
            if n:
                return n
        if timed_out:
            return 0
        if signal_pending(tsk):
            raise Errno(EINTR)
        raise BlockOn([ep.wq], step, deadline, interrupted=_eintr)
    return step()


def _eintr() -> int:
    raise Errno(EINTR)


def do_epoll_wait(epfd: int, uevents: int, maxevents: int, deadline: int) -> int:
    if maxevents <= 0 or maxevents > EP_MAX_EVENTS:
        raise Errno(EINVAL)
    if not access_ok(uevents, maxevents * _EVENT.size):
        raise Errno(EFAULT)
    f = current().files.fget(epfd)
    if not is_file_epoll(f):
        raise Errno(EINVAL)
    return ep_poll(f.private, uevents, maxevents, deadline)


def ep_timeout_to_deadline(ms: int) -> int:
    if ms < 0:
        return -1
    return poll_select_set_timeout(ms // 1000, ms % 1000 * 1_000_000)


@syscall("epoll_wait")
def sys_epoll_wait(epfd: c_int, events: UPtr, maxevents: c_int, timeout: c_int) -> int:
    return do_epoll_wait(epfd, events, maxevents, ep_timeout_to_deadline(timeout))


def do_epoll_pwait(epfd: int, events: int, maxevents: int, deadline: int,
                   sigmask: int, sigsetsize: int) -> int:
    set_user_sigmask(sigmask, sigsetsize)

    def after(ret: int) -> int:
        restore_saved_sigmask_unless(ret == -EINTR)
        return ret
    return then(lambda: do_epoll_wait(epfd, events, maxevents, deadline), after)


@syscall("epoll_pwait")
def sys_epoll_pwait(epfd: c_int, events: UPtr, maxevents: c_int, timeout: c_int,
                    sigmask: UPtr, sigsetsize: size_t) -> int:
    return do_epoll_pwait(epfd, events, maxevents, ep_timeout_to_deadline(timeout),
                          sigmask, sigsetsize)


@syscall("epoll_pwait2")
def sys_epoll_pwait2(epfd: c_int, events: UPtr, maxevents: c_int, timeout: UPtr,
                     sigmask: UPtr, sigsetsize: size_t) -> int:
    deadline = -1
    if timeout:
        deadline = poll_select_set_timeout(*get_timespec(timeout))
    return do_epoll_pwait(epfd, events, maxevents, deadline, sigmask, sigsetsize)
