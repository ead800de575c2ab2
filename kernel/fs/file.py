"""Open files: struct file (an open file description, shared by dup and
fork, with its offset) and files_struct (the fd table, shared by
CLONE_FILES).  f_count and files_struct.count are explicit refcounts."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from .. import state
from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..task import task_struct
from ..types import c_int, c_uint, c_ulong
from ..uapi import (
    EBADF, EINVAL, EMFILE, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETLK, F_GETOWN,
    F_GETPIPE_SZ, F_GETSIG, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETFD, F_SETFL, F_SETLK,
    F_SETLKW, F_SETOWN, F_SETPIPE_SZ, F_SETSIG, FASYNC, FD_CLOEXEC, O_APPEND, O_CLOEXEC,
    O_DIRECT, O_NOATIME, O_NONBLOCK, RLIMIT_NOFILE,
)


class FileOps:
    """What a kind of file can do; methods raise Errno.  read/write may
    raise BlockOn to sleep (the caller's syscall then finishes later)."""

    # /dev/null: a write succeeds without reading the user's buffer
    # (write_null returns the count), so a bad pointer is no EFAULT.
    discards_writes = False

    def read(self, f: "file", n: int) -> bytes:
        raise Errno(EINVAL)

    def write(self, f: "file", data: bytes) -> int:
        raise Errno(EINVAL)

    def stat(self, f: "file") -> dict:
        raise Errno(EINVAL)

    def lseek(self, f: "file", off: int, whence: int) -> int:
        from ..uapi import ESPIPE
        raise Errno(ESPIPE)

    def readdir(self, f: "file") -> list:
        """A directory's entries, (name, ino, d_type) each, "." and ".."
        first; getdents returns them from index f.f_pos on."""
        from ..uapi import ENOTDIR
        raise Errno(ENOTDIR)

    def ioctl(self, f: "file", cmd: int, arg: int) -> int:
        from ..uapi import ENOTTY
        raise Errno(ENOTTY)

    def release(self, f: "file") -> None:
        pass

    # Waiting on files (kernel/fs/poll.py): a kind of file that can say
    # when it is ready overrides both.
    def can_poll(self, f: "file") -> bool:
        return False

    def poll(self, f: "file", pt) -> int:
        from .poll import DEFAULT_POLLMASK
        return DEFAULT_POLLMASK


@dataclass(eq=False, slots=True)
class file:
    f_op: FileOps
    f_flags: int
    private: Any = None
    f_pos: int = 0
    f_count: int = 1
    path: str = ""
    f_ep: Optional[list] = None     # epitems watching this file (eventpoll.py)

    def get(self) -> "file":
        self.f_count += 1
        return self

    def put(self) -> None:
        """fput: the last reference releases the file."""
        self.f_count -= 1
        if self.f_count == 0:
            if self.f_ep:
                from .eventpoll import eventpoll_release
                eventpoll_release(self)     # __fput: epoll lets go first
            if _has_locks():
                from .locks import locks_remove_file
                locks_remove_file(self)
            self.f_op.release(self)


@dataclass(eq=False, slots=True)
class files_struct:
    fd: list = field(default_factory=list)           # index -> file | None
    cloexec: set = field(default_factory=set)
    count: int = 1

    def fget(self, fd: int) -> file:
        if 0 <= fd < len(self.fd):
            f = self.fd[fd]
            if f is not None:
                return f
        raise Errno(EBADF)

    def alloc_fd(self, start: int, f: file, cloexec: bool, limit: int) -> int:
        """Install f at the lowest free fd >= start (takes over the reference)."""
        fd = start
        while fd < len(self.fd) and self.fd[fd] is not None:
            fd += 1
        if fd >= limit:
            raise Errno(EMFILE)
        while len(self.fd) <= fd:
            self.fd.append(None)
        self.fd[fd] = f
        if cloexec:
            self.cloexec.add(fd)
        else:
            self.cloexec.discard(fd)
        return fd

    def install(self, fd: int, f: file, cloexec: bool) -> None:
        """Put f at fd, closing what was there (dup2)."""
        while len(self.fd) <= fd:
            self.fd.append(None)
        old = self.fd[fd]
        self.fd[fd] = f
        if cloexec:
            self.cloexec.add(fd)
        else:
            self.cloexec.discard(fd)
        if old is not None:
            filp_close(old, self)

    def close_fd(self, fd: int) -> None:
        f = self.fget(fd)
        self.fd[fd] = None
        self.cloexec.discard(fd)
        filp_close(f, self)

    def dup_fd(self) -> "files_struct":
        """fork without CLONE_FILES: a copy of the table; the files are shared."""
        new = files_struct(list(self.fd), set(self.cloexec))
        for f in new.fd:
            if f is not None:
                f.get()
        return new

    def close_all(self) -> None:
        for i, f in enumerate(self.fd):
            if f is not None:
                self.fd[i] = None
                filp_close(f, self)
        self.cloexec.clear()

    def close_on_exec(self) -> None:
        for fd in sorted(self.cloexec):
            if fd < len(self.fd) and self.fd[fd] is not None:
                f = self.fd[fd]
                self.fd[fd] = None
                filp_close(f, self)
        self.cloexec.clear()


def _has_locks() -> bool:
    K = state.K
    return K is not None and K.overlay is not None and bool(K.overlay.host_locks)


def filp_close(f: file, files: files_struct) -> None:
    """An fd of `files` on f goes: its POSIX locks on the file go too
    (fs/locks.c), then the reference."""
    if _has_locks():
        from .locks import locks_remove_posix
        locks_remove_posix(f, files)
    f.put()


def nofile_limit(tsk: task_struct) -> int:
    return min(tsk.signal.rlim[RLIMIT_NOFILE][0], 1 << 20)


def fd_install_new(f: file, cloexec: bool = False) -> int:
    tsk = current()
    try:
        return tsk.files.alloc_fd(0, f, cloexec, nofile_limit(tsk))
    except Errno:
        f.put()
        raise


def copy_files(clone_flags: int, tsk: task_struct, parent: task_struct) -> None:
    from ..uapi import CLONE_FILES
    if clone_flags & CLONE_FILES:
        parent.files.count += 1          # dropped by exit_files
        tsk.files = parent.files
    else:
        tsk.files = parent.files.dup_fd()


def exit_files(tsk: task_struct) -> None:
    files = tsk.files
    if files is None:
        return
    tsk.files = None
    files.count -= 1
    if files.count == 0:
        files.close_all()


@syscall("close")
def sys_close(fd: c_uint) -> int:
    current().files.close_fd(fd)
    return 0


@syscall("dup")
def sys_dup(fildes: c_uint) -> int:
    f = current().files.fget(fildes)
    return fd_install_new(f.get())


def do_dup3(oldfd: int, newfd: int, flags: int) -> int:
    if flags & ~O_CLOEXEC:
        raise Errno(EINVAL)
    tsk = current()
    f = tsk.files.fget(oldfd)
    if newfd < 0 or newfd >= nofile_limit(tsk):
        raise Errno(EBADF)
    tsk.files.install(newfd, f.get(), bool(flags & O_CLOEXEC))
    return newfd


@syscall("dup2")
def sys_dup2(oldfd: c_uint, newfd: c_uint) -> int:
    if oldfd == newfd:
        current().files.fget(oldfd)
        return newfd
    return do_dup3(oldfd, newfd, 0)


@syscall("dup3")
def sys_dup3(oldfd: c_uint, newfd: c_uint, flags: c_int) -> int:
    if oldfd == newfd:
        raise Errno(EINVAL)
    return do_dup3(oldfd, newfd, flags)


# F_SETFL changes only these (SETFL_MASK); O_LARGEFILE is forced on 64-bit.
SETFL_MASK = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | FASYNC


@syscall("fcntl")
def sys_fcntl(fd: c_uint, cmd: c_uint, arg: c_ulong) -> int:
    tsk = current()
    files = tsk.files
    f = files.fget(fd)
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        if arg >= nofile_limit(tsk):
            raise Errno(EINVAL)
        return files.alloc_fd(arg, f.get(), cmd == F_DUPFD_CLOEXEC, nofile_limit(tsk))
    if cmd == F_GETFD:
        return FD_CLOEXEC if fd in files.cloexec else 0
    if cmd == F_SETFD:
        if arg & FD_CLOEXEC:
            files.cloexec.add(fd)
        else:
            files.cloexec.discard(fd)
        return 0
    if cmd == F_GETFL:
        return f.f_flags
    if cmd == F_SETFL:
        f.f_flags = (f.f_flags & ~SETFL_MASK) | (arg & SETFL_MASK)
        return 0
    if cmd in (F_GETLK, F_OFD_GETLK):
        from .locks import fcntl_getlk
        return fcntl_getlk(f, cmd, arg)
    if cmd in (F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW):
        from .locks import fcntl_setlk
        return fcntl_setlk(f, cmd, arg)
    if cmd in (F_GETOWN, F_GETSIG):
        return 0
    if cmd in (F_SETOWN, F_SETSIG):
        return 0                 # no SIGIO is ever sent
    if cmd in (F_GETPIPE_SZ, F_SETPIPE_SZ):
        from .pipe import PIPE_SIZE, pipe_inode_info
        if not isinstance(f.private, pipe_inode_info):
            raise Errno(EBADF)
        return PIPE_SIZE
    raise Errno(EINVAL)          # leases, seals, notify: not modelled
