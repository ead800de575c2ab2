"""statfs, fstatfs (fs/statfs.c) and the sync family (fs/sync.c).

The guest's files live in one file system as far as statfs tells: the
overlay, sized like its tmpfs bound (half of guest RAM, see
overlay_room); /proc is procfs.  Nothing is ever written back, so the
sync calls only check their fd."""
from __future__ import annotations

import struct

from .. import state
from ..mm.uaccess import copy_to_user, strncpy_from_user
from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..types import UPtr, c_int, c_uint
from ..uapi import EINVAL, ENOENT, S_IFMT, S_IFREG
from .file import file
from .namei import guest_abspath, lookup_stat
from .overlay import overlay_room

OVERLAYFS_SUPER_MAGIC, PROC_SUPER_MAGIC, TMPFS_MAGIC = 0x794C7630, 0x9FA0, 0x01021994
PIPEFS_MAGIC = 0x50495045
ST_NOSUID, ST_NODEV, ST_NOEXEC, ST_RELATIME = 2, 4, 8, 1024
_STATFS = struct.Struct("<qqqqqqqiiqqq32x")     # struct statfs, 120 bytes


def statfs_for(g: str) -> bytes:
    if g == "/proc" or g.startswith("/proc/"):
        magic, blocks, free, flags = PROC_SUPER_MAGIC, 0, 0, ST_NOSUID | ST_NODEV | ST_NOEXEC
    else:
        magic = TMPFS_MAGIC if g == "/dev/shm" or g.startswith("/dev/shm/") else OVERLAYFS_SUPER_MAGIC
        blocks = state.K.opts.memory // 2 // 4096
        free = max(0, overlay_room()) // 4096
        flags = ST_RELATIME
    return _STATFS.pack(magic, 4096, blocks, free, free, blocks, blocks, 0, 0, 255, 4096,
                        flags)


def _file_fs_path(f: file) -> str:
    return f.path if f.path.startswith("/") else "pipe:"


@syscall("statfs")
def sys_statfs(pathname: UPtr, buf: UPtr) -> int:
    path = strncpy_from_user(pathname).decode("utf-8", "surrogateescape")
    if not path:
        raise Errno(ENOENT)
    lookup_stat(-100, path)                   # ENOENT, ENOTDIR, ELOOP as for stat
    copy_to_user(buf, statfs_for(guest_abspath(-100, path)))
    return 0


@syscall("fstatfs")
def sys_fstatfs(fd: c_uint, buf: UPtr) -> int:
    f = current().files.fget(fd)
    g = _file_fs_path(f)
    if g == "pipe:":
        copy_to_user(buf, _STATFS.pack(PIPEFS_MAGIC, 4096, 0, 0, 0, 0, 0, 0, 0, 255, 4096, 0))
        return 0
    copy_to_user(buf, statfs_for(g))
    return 0


@syscall("sync")
def sys_sync() -> int:
    return 0


@syscall("syncfs")
def sys_syncfs(fd: c_int) -> int:
    current().files.fget(fd)
    return 0


def do_fsync(fd: int) -> int:
    """vfs_fsync: EINVAL for files with no fsync (pipes, the console)."""
    from .dir import DirOps
    from .open import HostRegOps, OverlayOps
    from .console import HostFdOps
    f = current().files.fget(fd)
    if isinstance(f.f_op, (OverlayOps, HostRegOps, DirOps)):
        return 0
    if isinstance(f.f_op, HostFdOps) and f.f_op.stat(f)["mode"] & S_IFMT == S_IFREG:
        return 0                             # the console redirected to a host file
    raise Errno(EINVAL)


@syscall("fsync")
def sys_fsync(fd: c_uint) -> int:
    return do_fsync(fd)


@syscall("fdatasync")
def sys_fdatasync(fd: c_uint) -> int:
    return do_fsync(fd)
