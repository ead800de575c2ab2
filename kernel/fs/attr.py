"""Changing what an inode says about itself: chmod, chown, utimes and
truncate families (fs/open.c, fs/utimes.c, fs/attr.c), fallocate.  The
change is made on the overlay's node: a host file is copied up first, and
an open host file is switched over to the copy (file_node) so its fd sees
the change as a Linux fd would."""
from __future__ import annotations

import os
import struct
from typing import Optional

from ..mm.uaccess import copy_from_user, strncpy_from_user
from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..types import UPtr, c_int, c_uint, c_long, off_t
from ..uapi import (
    AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, EBADF, EFBIG, EINVAL, EISDIR, ENODEV, ENOENT,
    EOPNOTSUPP, EPERM, ESPIPE, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, O_ACCMODE, O_RDONLY,
    S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, UTIME_NOW, UTIME_OMIT,
)
from ..cred import CAP_CHOWN, CAP_FOWNER, capable, current_cred, in_group_p
from ..mm.filemap import filemap_sync, filemap_update, truncate_pagecache
from .file import file
from .namei import guest_abspath
from .overlay import OverlayNode, copy_up, current_time, overlay_room

S_ISUID, S_ISGID, S_IXGRP = 0o4000, 0o2000, 0o010


def file_node(f: file) -> Optional[OverlayNode]:
    """The overlay node behind open file f (copied up, and f switched to
    it, for a host file); None for files with no node of ours (pipes,
    the console, devices)."""
    from .dir import DirOps
    from .fifo import FifoOps
    from .open import HostRegOps, OverlayOps
    if isinstance(f.f_op, OverlayOps):
        return f.private
    if isinstance(f.f_op, FifoOps):
        return f.private[0]
    if isinstance(f.f_op, DirOps):
        return copy_up(f.path)
    if isinstance(f.f_op, HostRegOps):
        node = copy_up(f.path)
        os.close(f.private)
        f.f_op, f.private = OverlayOps(), node
        return node
    return None


def path_node(dfd: int, filename: int, flags: int, allowed: int) -> Optional[OverlayNode]:
    """The node a *at call's (dfd, path, flags) names: AT_EMPTY_PATH with
    "" is dfd itself; AT_SYMLINK_NOFOLLOW acts on a final symlink."""
    if flags & ~allowed:
        raise Errno(EINVAL)
    path = strncpy_from_user(filename).decode("utf-8", "surrogateescape")
    if not path:
        if not flags & AT_EMPTY_PATH:
            raise Errno(ENOENT)
        if dfd == AT_FDCWD:
            return copy_up(current().fs.cwd)
        return file_node(current().files.fget(dfd))
    g = guest_abspath(dfd, path, follow=not flags & AT_SYMLINK_NOFOLLOW)
    return copy_up(g)


def _owner_or_root(node: OverlayNode) -> None:
    """inode_owner_or_capable: the owner, or CAP_FOWNER."""
    if current_cred().fsuid != node.uid and not capable(CAP_FOWNER):
        raise Errno(EPERM)


# --- chmod ------------------------------------------------------------------

def chmod_common(node: Optional[OverlayNode], mode: int) -> int:
    if node is None:
        return 0
    _owner_or_root(node)
    node.mode = node.mode & S_IFMT | mode & 0o7777
    node.ctime = current_time()
    return 0


@syscall("chmod")
def sys_chmod(filename: UPtr, mode: c_uint) -> int:
    return chmod_common(path_node(AT_FDCWD, filename, 0, 0), mode)


@syscall("fchmodat")
def sys_fchmodat(dfd: c_int, filename: UPtr, mode: c_uint) -> int:
    return chmod_common(path_node(dfd, filename, 0, 0), mode)


@syscall("fchmod")
def sys_fchmod(fd: c_uint, mode: c_uint) -> int:
    return chmod_common(file_node(current().files.fget(fd)), mode)


# --- chown ------------------------------------------------------------------

def chown_common(node: Optional[OverlayNode], user: int, group: int) -> int:
    if node is None:
        return 0
    c = current_cred()
    if not capable(CAP_CHOWN):
        # chown_ok / chgrp_ok: the owner may only give the file to a group
        # of its own; nobody else may change anything.
        if user != 0xFFFFFFFF and (user != node.uid or c.fsuid != node.uid):
            raise Errno(EPERM)
        if group != 0xFFFFFFFF and (c.fsuid != node.uid or
                                    group != node.gid and not in_group_p(group)):
            raise Errno(EPERM)
    if user != 0xFFFFFFFF:
        node.uid = user
    if group != 0xFFFFFFFF:
        node.gid = group
    if node.mode & S_IFMT != S_IFDIR:
        # ATTR_KILL_SUID / ATTR_KILL_SGID: a changed owner keeps no set-id power.
        node.mode &= ~S_ISUID
        if node.mode & S_IXGRP:
            node.mode &= ~S_ISGID
    node.ctime = current_time()
    return 0


@syscall("chown")
def sys_chown(filename: UPtr, user: c_uint, group: c_uint) -> int:
    return chown_common(path_node(AT_FDCWD, filename, 0, 0), user, group)


@syscall("lchown")
def sys_lchown(filename: UPtr, user: c_uint, group: c_uint) -> int:
    return chown_common(path_node(AT_FDCWD, filename, AT_SYMLINK_NOFOLLOW,
                                  AT_SYMLINK_NOFOLLOW), user, group)


@syscall("fchownat")
def sys_fchownat(dfd: c_int, filename: UPtr, user: c_uint, group: c_uint, flag: c_int) -> int:
    node = path_node(dfd, filename, flag, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
    return chown_common(node, user, group)


@syscall("fchown")
def sys_fchown(fd: c_uint, user: c_uint, group: c_uint) -> int:
    return chown_common(file_node(current().files.fget(fd)), user, group)


# --- utimes -----------------------------------------------------------------

def utimes_common(node: Optional[OverlayNode], atime: int, mtime: int) -> int:
    """Set the times (ns since the epoch, or UTIME_NOW / UTIME_OMIT in
    the ns field's place); ctime becomes now."""
    if node is None:
        return 0
    now = current_time()
    if atime != UTIME_OMIT:
        node.atime = now if atime == UTIME_NOW else atime
    if mtime != UTIME_OMIT:
        node.mtime = now if mtime == UTIME_NOW else mtime
    node.ctime = now
    return 0


def _timespec(raw: bytes, i: int) -> int:
    sec, nsec = struct.unpack_from("<qq", raw, 16 * i)
    if nsec in (UTIME_NOW, UTIME_OMIT):
        return nsec
    if not 0 <= nsec < 1_000_000_000:
        raise Errno(EINVAL)
    return sec * 1_000_000_000 + nsec


def _timeval(raw: bytes, i: int) -> int:
    sec, usec = struct.unpack_from("<qq", raw, 16 * i)
    if not 0 <= usec < 1_000_000:
        raise Errno(EINVAL)
    return sec * 1_000_000_000 + usec * 1000


@syscall("utimensat")
def sys_utimensat(dfd: c_int, filename: UPtr, utimes: UPtr, flags: c_int) -> int:
    if flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH):
        raise Errno(EINVAL)
    a = m = UTIME_NOW
    if utimes:
        raw = copy_from_user(utimes, 32)
        a, m = _timespec(raw, 0), _timespec(raw, 1)
        if a == UTIME_OMIT and m == UTIME_OMIT:
            return 0
    if not filename:                   # futimens: the fd itself
        if flags & AT_SYMLINK_NOFOLLOW:
            raise Errno(EINVAL)
        return utimes_common(file_node(current().files.fget(dfd)), a, m)
    return utimes_common(path_node(dfd, filename, flags, flags), a, m)


def do_futimesat(dfd: int, filename: int, utimes: int) -> int:
    a = m = UTIME_NOW
    if utimes:
        raw = copy_from_user(utimes, 32)
        a, m = _timeval(raw, 0), _timeval(raw, 1)
    if not filename:
        return utimes_common(file_node(current().files.fget(dfd)), a, m)
    return utimes_common(path_node(dfd, filename, 0, 0), a, m)


@syscall("futimesat")
def sys_futimesat(dfd: c_int, filename: UPtr, utimes: UPtr) -> int:
    return do_futimesat(dfd, filename, utimes)


@syscall("utimes")
def sys_utimes(filename: UPtr, utimes: UPtr) -> int:
    return do_futimesat(AT_FDCWD, filename, utimes)


@syscall("utime")
def sys_utime(filename: UPtr, times: UPtr) -> int:
    a = m = UTIME_NOW
    if times:
        at, mt = struct.unpack("<qq", copy_from_user(times, 16))
        a, m = at * 1_000_000_000, mt * 1_000_000_000
    return utimes_common(path_node(AT_FDCWD, filename, 0, 0), a, m)


# --- truncate, fallocate ----------------------------------------------------

def do_truncate(node: OverlayNode, length: int) -> int:
    if length < 0:
        raise Errno(EINVAL)
    kind = node.mode & S_IFMT
    if kind == S_IFDIR:
        raise Errno(EISDIR)
    if kind != S_IFREG:
        raise Errno(EINVAL)
    grow = length - len(node.data)
    if grow > overlay_room():
        raise Errno(EFBIG)
    filemap_sync(node)                 # what shared mappings stored comes first
    if grow > 0:
        node.data += bytes(grow)
    else:
        del node.data[length:]
        truncate_pagecache(node, length)
    node.mtime = node.ctime = current_time()
    return 0


@syscall("truncate")
def sys_truncate(path: UPtr, length: c_long) -> int:
    if length < 0:
        raise Errno(EINVAL)
    node = path_node(AT_FDCWD, path, 0, 0)
    if node is None:
        raise Errno(EINVAL)
    return do_truncate(node, length)


@syscall("ftruncate")
def sys_ftruncate(fd: c_uint, length: c_long) -> int:
    f = current().files.fget(fd)
    if length < 0:
        raise Errno(EINVAL)
    if f.f_flags & O_ACCMODE == O_RDONLY:
        raise Errno(EINVAL)
    node = file_node(f)
    if node is None or node.mode & S_IFMT != S_IFREG:
        raise Errno(EINVAL)
    return do_truncate(node, length)


@syscall("fallocate")
def sys_fallocate(fd: c_int, mode: c_int, offset: off_t, len_: off_t) -> int:
    f = current().files.fget(fd)
    if offset < 0 or len_ <= 0:
        raise Errno(EINVAL)
    if mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE):
        raise Errno(EOPNOTSUPP)
    if mode & FALLOC_FL_PUNCH_HOLE and not mode & FALLOC_FL_KEEP_SIZE:
        raise Errno(EOPNOTSUPP)
    if f.f_flags & O_ACCMODE == O_RDONLY:
        raise Errno(EBADF)
    from .dir import DirOps
    if isinstance(f.f_op, DirOps):
        raise Errno(EISDIR)
    node = file_node(f)
    kind = node.mode & S_IFMT if node is not None else 0
    if _is_pipe(f) or kind == S_IFIFO:
        raise Errno(ESPIPE)
    if node is None or kind != S_IFREG:
        raise Errno(ENODEV)
    end = offset + len_
    if mode & FALLOC_FL_PUNCH_HOLE:
        stop = min(end, len(node.data))
        if offset < stop:
            filemap_sync(node)
            node.data[offset:stop] = bytes(stop - offset)
            filemap_update(node, offset, stop)
    elif end > len(node.data) and not mode & FALLOC_FL_KEEP_SIZE:
        do_truncate(node, end)
    node.mtime = node.ctime = current_time()
    return 0


def _is_pipe(f: file) -> bool:
    from .pipe import pipe_inode_info
    return isinstance(f.private, pipe_inode_info)
