"""Files backed by the host's open fds: the guest's stdin, stdout and
stderr.  fstat shows the host file's real type (a pipe stays a pipe, so
stdio buffers as it would natively)."""
from __future__ import annotations

import fcntl as host_fcntl
import os
import select
import stat
import time
from dataclasses import dataclass, field
from typing import Optional

from .. import state
from ..panic import Errno
from ..sched.core import wake_up_process
from ..sched.wait import BlockOn, wait_queue_entry, wait_queue_head
from ..uapi import (
    EAGAIN, ENOTTY, O_NONBLOCK, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDBAND, POLLRDHUP,
    POLLRDNORM, POLLWRBAND, POLLWRNORM,
)
from .file import FileOps, file
from .poll import poll_table, poll_wait
from .hosterr import host_errno

TCGETS, TIOCGWINSZ, TIOCGPGRP = 0x5401, 0x5413, 0x540F


class HostFdOps(FileOps):
    def read(self, f: file, n: int) -> bytes:
        """Read what the host fd has.  When it has nothing yet (a pipe or
        terminal), only this task waits, on the fd's host input queue:
        the run loop wakes it when the host says there is input."""
        fd = f.private
        if n and self.can_poll(f) and not host_poll(fd, HOST_INPUT):
            if f.f_flags & O_NONBLOCK:
                raise Errno(EAGAIN)
            raise BlockOn([host_input_queue(fd).wq], lambda: self.read(f, n))
        try:
            data = os.read(fd, min(n, 1 << 20))
        except OSError as e:
            raise host_errno(e) from None
        q = state.K.host_input.get(fd)
        if q is not None:
            q.revents = 0
        return data

    def can_poll(self, f: file) -> bool:
        """Pipes, terminals and sockets can say when they are ready; a
        host regular file or directory is always ready (and refused by
        epoll), as natively."""
        try:
            mode = os.fstat(f.private).st_mode
        except OSError:
            return False
        return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))

    def poll(self, f: file, pt: Optional[poll_table]) -> int:
        """What the host's poll says now, without waiting (the host's
        POLL* bits are Linux's).  A change of the input side is seen by
        the run loop (wake_host_input); output is never waited for."""
        fd = f.private
        poll_wait(f, host_input_queue(fd).wq, pt)
        return host_poll(fd, HOST_INPUT | POLLOUT | POLLWRNORM | POLLWRBAND)

    def write(self, f: file, data: bytes) -> int:
        try:
            return os.write(f.private, data)
        except BrokenPipeError:
            from ..percpu import current
            from ..signal import send_signal
            from ..uapi import EPIPE, SIGPIPE
            send_signal(SIGPIPE, current(), {"signo": SIGPIPE, "code": 0}, False)
            raise Errno(EPIPE) from None
        except OSError as e:
            raise host_errno(e) from None

    def stat(self, f: file) -> dict:
        try:
            st = os.fstat(f.private)
        except OSError as e:
            raise host_errno(e) from None
        return stat_from_host(st)

    def lseek(self, f: file, off: int, whence: int) -> int:
        try:
            return os.lseek(f.private, off, whence)
        except OSError as e:
            raise host_errno(e) from None

    def ioctl(self, f: file, cmd: int, arg: int) -> int:
        from ..mm.uaccess import copy_to_user
        sizes = {TCGETS: 36, TIOCGWINSZ: 8, TIOCGPGRP: 4}
        if cmd not in sizes or not os.isatty(f.private):
            raise Errno(ENOTTY)
        try:
            out = host_fcntl.ioctl(f.private, cmd, bytes(sizes[cmd]))
        except OSError as e:
            raise host_errno(e) from None
        copy_to_user(arg, out)
        return 0


class HostReopenOps(HostFdOps):
    """A host fd of our own, opened anew from the guest's console through
    /proc/<pid>/fd/N: closed with the last reference."""

    def release(self, f: file) -> None:
        os.close(f.private)


def stat_from_host(st: os.stat_result) -> dict:
    return {"dev": st.st_dev, "ino": st.st_ino, "nlink": st.st_nlink, "mode": st.st_mode,
            "uid": st.st_uid, "gid": st.st_gid, "rdev": st.st_rdev, "size": st.st_size,
            "blksize": st.st_blksize, "blocks": st.st_blocks,
            "atime": st.st_atime_ns, "mtime": st.st_mtime_ns, "ctime": st.st_ctime_ns}


def console_file(host_fd: int, flags: int) -> file:
    return file(HostFdOps(), flags, host_fd, path=f"host fd {host_fd}")


# --- waiting for host input ---------------------------------------------------------
#
# A guest task never blocks the emulator on a host fd: it sleeps on the
# fd's host_input_queue, and the run loop looks at the host fds somebody
# waits on (wake_host_input): with a zero timeout between time slices,
# and, when no task can run, blocking in the host's poll (in short steps,
# so --timeout is still seen).  Input that is already there (a file, or a
# pipe whose writer has written) never waits, so such runs stay the same
# run after run; only input that arrives later makes timing matter.

HOST_INPUT = POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND | POLLRDHUP | POLLERR | POLLHUP
HOST_WAIT_STEP = 0.2        # wall seconds per blocking host poll


@dataclass(eq=False, slots=True)
class host_input_queue_t:
    wq: wait_queue_head = field(default_factory=wait_queue_head)
    # The input events seen at the last look: callbacks run when new ones
    # appear.  A guest read clears them, so input still (or again) there
    # after a read is a new edge, as a pipe's next write would be.
    revents: int = 0


def host_input_queue(fd: int) -> host_input_queue_t:
    q = state.K.host_input.get(fd)
    if q is None:
        q = state.K.host_input[fd] = host_input_queue_t()
    return q


def host_poll(fd: int, events: int, timeout_ms: int = 0) -> int:
    """The host's revents for fd (0 if nothing within timeout_ms)."""
    p = select.poll()
    p.register(fd, events)
    try:
        r = p.poll(timeout_ms)
    except InterruptedError:
        return 0
    return r[0][1] if r else 0


def _waited_on(q: host_input_queue_t) -> bool:
    """A task sleeps on q, or on an epoll that watches it."""
    return any(not isinstance(w, wait_queue_entry) or w.waiting is None or w.waiting()
               for w in q.wq.waiters)


def host_input_waiting() -> bool:
    return any(_waited_on(q) for q in state.K.host_input.values())


def wake_host_input(timeout_s: float = 0.0) -> tuple[bool, int]:
    """Wake what waits on host fds whose input events changed, after
    waiting up to timeout_s wall seconds for one to have some.  Only new
    events wake (as keyed wake-ups would): a fd that stays ready for
    what nobody waits for (POLLIN to a poller of POLLHUP) wakes nobody
    again and again.  Returns (some fd had input, how many waiters were
    woken)."""
    waiting = [(fd, q) for fd, q in state.K.host_input.items() if q.wq.waiters]
    if not waiting:
        return False, 0
    p = select.poll()
    for fd, _q in waiting:
        p.register(fd, HOST_INPUT)
    try:
        ready = dict(p.poll(int(timeout_s * 1000)))
    except InterruptedError:
        ready = {}
    woken = 0
    for fd, q in waiting:
        ev = ready.get(fd, 0) & HOST_INPUT
        edge = ev & ~q.revents
        q.revents = ev
        if not edge:
            continue
        for w in list(q.wq.waiters):
            if not isinstance(w, wait_queue_entry):
                woken += wake_up_process(w)
            else:
                woken += w.func(w, edge)
    return bool(ready), woken


def idle_on_host_input(timer_ns: int) -> bool:
    """No task can run and some wait on host input: wait for it in wall
    time, at most until the next timer (timer_ns of virtual time away, -1
    for none), and let the virtual clock follow the wall clock meanwhile.
    False when input is there but wakes nobody (an edge-triggered epoll
    already told): waiting on the host would not help."""
    step = HOST_WAIT_STEP if timer_ns < 0 else min(HOST_WAIT_STEP, timer_ns / 1e9)
    t0 = time.monotonic()
    ready, woken = wake_host_input(step)
    if ready and not woken:
        return False
    elapsed = int((time.monotonic() - t0) * 1e9)
    state.K.idle_ns += elapsed if timer_ns < 0 else min(elapsed, timer_ns)
    return True
