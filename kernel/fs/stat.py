"""fstat, newfstatat, stat, lstat: struct stat as x86-64 Linux lays it out."""
from __future__ import annotations

import os
import struct

from ..mm.uaccess import copy_to_user, strncpy_from_user
from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..types import UPtr, c_int, c_uint
from ..uapi import AT_EMPTY_PATH, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW, EINVAL, ENOENT
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


# struct statx (include/uapi/linux/stat.h), 256 bytes.
_STATX = struct.Struct("<IIQIIIHxxQQQQ" + "qIxxxx" * 4 + "IIIIQ104x")
STATX_BASIC_STATS, STATX__RESERVED = 0x7FF, 0x80000000


def pack_statx(st: dict) -> bytes:
    def ts(key: str) -> tuple[int, int]:
        ns = st.get(key, 0)
        return ns // 1_000_000_000, ns % 1_000_000_000
    dev, rdev = st.get("dev", 0), st.get("rdev", 0)
    return _STATX.pack(STATX_BASIC_STATS, st.get("blksize", 4096), 0, st.get("nlink", 1),
                       st.get("uid", 0), st.get("gid", 0), st["mode"] & 0xFFFF, st.get("ino", 0),
                       st.get("size", 0), st.get("blocks", 0), 0,
                       *ts("atime"), 0, 0, *ts("ctime"), *ts("mtime"),
                       os.major(rdev), os.minor(rdev), os.major(dev), os.minor(dev), 0)


@syscall("statx")
def sys_statx(dfd: c_int, filename: UPtr, flags: c_uint, mask: c_uint, buffer: UPtr) -> int:
    if flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 | AT_STATX_SYNC_TYPE):
        raise Errno(EINVAL)
    if flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE or mask & STATX__RESERVED:
        raise Errno(EINVAL)
    path = strncpy_from_user(filename).decode("utf-8", "surrogateescape") if filename else ""
    if not path:
        if not flags & AT_EMPTY_PATH:
            raise Errno(ENOENT)
        st = vfs_fstat(dfd) if dfd != -100 else lookup_stat(-100, current().fs.cwd)
    else:
        st = lookup_stat(dfd, path, follow=not flags & AT_SYMLINK_NOFOLLOW)
    copy_to_user(buffer, pack_statx(st))
    return 0
