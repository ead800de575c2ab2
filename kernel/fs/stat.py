"""fstat, newfstatat, stat, lstat: struct stat as x86-64 Linux lays it out."""
from __future__ import annotations

import struct

from ..mm.uaccess import copy_to_user, strncpy_from_user
from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..types import UPtr, c_int, c_uint
from ..uapi import AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, EINVAL, ENOENT
from .namei import lookup_stat

_STAT = struct.Struct("<QQQIIIiQqqqQQQQQQ24x")   # 144 bytes


def pack_stat(st: dict) -> bytes:
    def ts(key: str) -> tuple[int, int]:
        ns = st.get(key, 0)
        return ns // 1_000_000_000, ns % 1_000_000_000
    a, m, c = ts("atime"), ts("mtime"), ts("ctime")
    return _STAT.pack(st.get("dev", 0), st.get("ino", 0), st.get("nlink", 1), st["mode"],
                      st.get("uid", 0), st.get("gid", 0), 0, st.get("rdev", 0),
                      st.get("size", 0), st.get("blksize", 4096), st.get("blocks", 0),
                      a[0], a[1], m[0], m[1], c[0], c[1])


def vfs_fstat(fd: int) -> dict:
    f = current().files.fget(fd)
    return f.f_op.stat(f)


@syscall("fstat")
def sys_fstat(fd: c_uint, statbuf: UPtr) -> int:
    copy_to_user(statbuf, pack_stat(vfs_fstat(fd)))
    return 0


def do_statat(dfd: int, filename: int, statbuf: int, flag: int) -> int:
    if flag & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800):
        raise Errno(EINVAL)
    path = strncpy_from_user(filename).decode("utf-8", "surrogateescape")
    if not path:
        if not flag & AT_EMPTY_PATH:
            raise Errno(ENOENT)
        st = vfs_fstat(dfd)
    else:
        st = lookup_stat(dfd, path, follow=not flag & AT_SYMLINK_NOFOLLOW)
    copy_to_user(statbuf, pack_stat(st))
    return 0


@syscall("newfstatat")
def sys_newfstatat(dfd: c_int, filename: UPtr, statbuf: UPtr, flag: c_int) -> int:
    return do_statat(dfd, filename, statbuf, flag)


@syscall("stat")
def sys_stat(filename: UPtr, statbuf: UPtr) -> int:
    return do_statat(-100, filename, statbuf, 0)


@syscall("lstat")
def sys_lstat(filename: UPtr, statbuf: UPtr) -> int:
    return do_statat(-100, filename, statbuf, AT_SYMLINK_NOFOLLOW)
