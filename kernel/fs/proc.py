"""The guest's /proc, as far as it goes yet (fs/proc/base.c, fs/proc/fd.c):
/proc/self, /proc/thread-self and /proc/<pid> of guest tasks, each with
its `exe` and `fd/N` links.  The host's own /proc/<pid> entries never show
through: they are host processes, the emulator among them (its
/proc/self/mem would be a window on the emulator).  Other /proc files
(cpuinfo, meminfo) are the host's, read-only.

Opening /proc/<pid>/fd/N opens the file anew, as Linux does: a new open
file description of the same file, pipe or terminal, with its own offset
and the flags of this open -- which is why `open("/dev/stdout")` with
stdout redirected to a file writes from offset 0.
"""
from __future__ import annotations

import os
import re
from typing import Optional

from .. import state
from ..panic import Errno
from ..percpu import current
from ..task import task_struct
from ..uapi import (
    EACCES, ENOENT, ENOTDIR, ENXIO, O_ACCMODE, O_APPEND, O_RDONLY, O_RDWR, O_WRONLY, S_IFDIR,
    S_IFLNK,
)
from .file import file

_PID_PATH = re.compile(r"^/proc/(\d+)(?:/(exe|fd)(?:/(\d+))?)?$")
PROC_DIR_ENTRIES = ("exe", "fd")


def proc_pid_component(name: str) -> Optional[str]:
    """path_walk's step into /proc/<name>: the guest pid directory it
    names ("self" -> the caller's tgid, "thread-self" -> its tid), None
    for a /proc entry that is not a process (left to the host).  A
    number that is not a live guest task is ENOENT."""
    tsk = current()
    if name == "self":
        return str(tsk.tgid)
    if name == "thread-self":
        return str(tsk.pid)
    if not name.isdigit():
        return None
    if find_proc_task(int(name)) is None:
        raise Errno(ENOENT)
    return name


def find_proc_task(pid: int) -> Optional[task_struct]:
    t = state.K.tasks.get(pid)
    if t is None or t.mm is None or t.exit_state:
        return None      # kernel threads and zombies have no fd table to show
    return t


def proc_child(pid_dir: list[str], name: str) -> list[str]:
    """The next component below a /proc/<pid> directory: only the entries
    we serve exist."""
    depth = len(pid_dir)
    if depth == 2 and name in PROC_DIR_ENTRIES:
        return pid_dir + [name]
    if depth == 3 and pid_dir[2] == "fd" and name.isdigit():
        return pid_dir + [name]
    if depth >= 4 or pid_dir[-1] == "exe":
        raise Errno(ENOTDIR)            # below a link target or an fd
    raise Errno(ENOENT)


def parse(g: str) -> Optional[tuple[task_struct, Optional[str], Optional[int]]]:
    """(task, entry, fd) for a guest /proc/<pid>[/exe|/fd[/N]] path, None
    for any other path."""
    m = _PID_PATH.match(g)
    if m is None:
        return None
    tsk = find_proc_task(int(m.group(1)))
    if tsk is None:
        raise Errno(ENOENT)
    return tsk, m.group(2), int(m.group(3)) if m.group(3) is not None else None


def fd_target(tsk: task_struct, fd: int) -> file:
    try:
        return tsk.files.fget(fd)
    except Errno:
        raise Errno(ENOENT) from None


def proc_readlink(g: str) -> Optional[bytes]:
    """readlink of a /proc link, None if g is not one of ours."""
    p = parse(g)
    if p is None:
        return None
    tsk, entry, fd = p
    if entry == "exe":
        return tsk.mm.exe_path.encode("utf-8", "surrogateescape")
    if fd is None:
        from ..uapi import EINVAL
        raise Errno(EINVAL)    # a directory is not a link
    return file_name(fd_target(tsk, fd)).encode("utf-8", "surrogateescape")


def file_name(f: file) -> str:
    """What /proc/<pid>/fd/N reads as (d_path): the path, or pipe:[ino]."""
    from .console import HostFdOps
    from .pipe import pipe_inode_info
    if isinstance(f.private, pipe_inode_info):
        return f"pipe:[{f.private.ino}]"
    if isinstance(f.f_op, HostFdOps):
        try:
            return os.readlink(f"/proc/self/fd/{f.private}")
        except OSError:
            return f.path
    return f.path


def proc_stat(g: str, follow: bool) -> Optional[dict]:
    """stat of a /proc path of ours (following the fd/exe link if
    `follow`), None if g is not one of ours."""
    p = parse(g)
    if p is None:
        return None
    tsk, entry, fd = p
    if entry is None or (entry == "fd" and fd is None):
        return {"mode": S_IFDIR | 0o555, "ino": 0x1000 + tsk.pid, "nlink": 2, "dev": 0x16}
    if not follow:
        return {"mode": S_IFLNK | 0o777, "ino": 0x2000 + (fd or 0), "nlink": 1, "dev": 0x16}
    if entry == "exe":
        from .namei import lookup_stat
        return lookup_stat(-100, tsk.mm.exe_path)
    f = fd_target(tsk, fd)
    return f.f_op.stat(f)


def proc_open(g: str, flags: int) -> Optional[file]:
    """open of a /proc path of ours, None if g is not one of ours."""
    p = parse(g)
    if p is None:
        return None
    tsk, entry, fd = p
    if entry == "exe":
        from .open import do_filp_open
        return do_filp_open(-100, tsk.mm.exe_path, flags, 0)
    if fd is None:
        raise Errno(EACCES)     # directories of ours cannot be listed yet
    return reopen(fd_target(tsk, fd), flags)


def reopen(f: file, flags: int) -> file:
    from .console import HostFdOps, HostReopenOps
    from .open import do_filp_open
    from .pipe import PipeReadOps, PipeWriteOps, pipe_inode_info
    acc = flags & O_ACCMODE
    if isinstance(f.private, pipe_inode_info):
        # fifo_open: each end opened adds a reader or a writer.
        pipe = f.private
        if acc == O_RDONLY:
            pipe.readers += 1
            return file(PipeReadOps(), flags, pipe, path=f.path)
        if acc == O_WRONLY:
            pipe.writers += 1
            return file(PipeWriteOps(), flags, pipe, path=f.path)
        raise Errno(ENXIO)   # O_RDWR on one end object is not modelled
    if isinstance(f.f_op, HostFdOps):
        host_acc = {O_RDONLY: os.O_RDONLY, O_WRONLY: os.O_WRONLY, O_RDWR: os.O_RDWR}.get(acc)
        if host_acc is None:
            from ..uapi import EINVAL
            raise Errno(EINVAL)
        extra = os.O_APPEND if flags & O_APPEND else 0
        try:
            hfd = os.open(f"/proc/self/fd/{f.private}", host_acc | extra | os.O_CLOEXEC)
        except OSError as e:
            from .hosterr import host_errno
            raise host_errno(e) from None
        return file(HostReopenOps(), flags, hfd, path=f.path)
    if f.path.startswith("/"):
        return do_filp_open(-100, f.path, flags, 0)
    raise Errno(ENXIO)
