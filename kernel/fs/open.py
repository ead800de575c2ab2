"""open, openat, access, getcwd, chdir, readlink, unlink: host files
read-only, writes into the overlay (see namei)."""
from __future__ import annotations

import os
import stat as host_stat
from functools import partial
from typing import Callable

from ..mm.uaccess import copy_to_user, strncpy_from_user
from ..panic import Errno
from ..percpu import current
from ..sched.wait import BlockOn
from ..syscalls import syscall
from ..types import UPtr, c_int, c_uint, size_t
from ..uapi import (
    AT_EACCESS, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, EACCES, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOSPC, ENOTDIR, ENXIO, ERANGE, O_ACCMODE, O_APPEND,
    O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOCTTY, O_NOFOLLOW, O_RDONLY, O_TRUNC, S_IFCHR, S_IFDIR,
    S_IFIFO, S_IFLNK, S_IFMT, S_IFREG,
)
from .console import stat_from_host
from .dir import DirOps
from .fifo import fifo_open
from .file import FileOps, fd_install_new, file
from .hosterr import host_errno
from .mem import chrdev_open, devpath_open
from .namei import guest_abspath, host_path, lookup_stat
from .overlay import (
    OverlayNode, copy_up, current_time, host_lstat, install, is_special_host, new_node,
    node_stat, overlay, overlay_room, ovl_stat, parent_of,
)
from .proc import proc_open, proc_readlink
from ..mm.filemap import filemap_sync, filemap_update, truncate_pagecache

F_OK, X_OK, W_OK, R_OK = 0, 1, 2, 4


class HostRegOps(FileOps):
    """A host file or directory opened read-only; private = host fd."""

    def read(self, f: file, n: int) -> bytes:
        try:
            data = os.pread(f.private, min(n, 1 << 24), f.f_pos)
        except IsADirectoryError:
            raise Errno(EISDIR) from None
        except OSError as e:
            raise host_errno(e) from None
        f.f_pos += len(data)
        return data

    def pread(self, f: file, n: int, pos: int) -> bytes:
        try:
            return os.pread(f.private, min(n, 1 << 24), pos)   # a short read, as read()
        except OSError as e:
            raise host_errno(e) from None

    def stat(self, f: file) -> dict:
        return stat_from_host(os.fstat(f.private))

    def lseek(self, f: file, off: int, whence: int) -> int:
        size = os.fstat(f.private).st_size
        return _seek(f, off, whence, size)

    def release(self, f: file) -> None:
        os.close(f.private)


class OverlayOps(FileOps):
    """A file of the in-memory overlay; private = OverlayNode."""

    def read(self, f: file, n: int) -> bytes:
        node: OverlayNode = f.private
        filemap_sync(node)     # what MAP_SHARED mappings stored
        data = bytes(node.data[f.f_pos:f.f_pos + n])
        f.f_pos += len(data)
        return data

    def pread(self, f: file, n: int, pos: int) -> bytes:
        filemap_sync(f.private)
        return bytes(f.private.data[pos:pos + n])

    def write(self, f: file, data: bytes) -> int:
        node: OverlayNode = f.private
        node.mtime = node.ctime = current_time()
        if f.f_flags & O_APPEND:
            f.f_pos = len(node.data)
        room = len(node.data) + overlay_room() - f.f_pos   # shmem: ENOSPC when full
        if room <= 0:
            raise Errno(ENOSPC)
        data = data[:room]
        end = f.f_pos + len(data)
        filemap_sync(node)
        if len(node.data) < f.f_pos:
            node.data += bytes(f.f_pos - len(node.data))
        node.data[f.f_pos:end] = data
        filemap_update(node, f.f_pos, end)    # every mapping sees it at once
        f.f_pos = end
        return len(data)

    def stat(self, f: file) -> dict:
        return node_stat(f.private)

    def lseek(self, f: file, off: int, whence: int) -> int:
        return _seek(f, off, whence, len(f.private.data))


def _seek(f: file, off: int, whence: int, size: int) -> int:
    if whence == 0:
        pos = off
    elif whence == 1:
        pos = f.f_pos + off
    elif whence == 2:
        pos = size + off
    else:
        raise Errno(EINVAL)
    if pos < 0:
        raise Errno(EINVAL)
    f.f_pos = pos
    return pos


def may_open_dir(flags: int) -> None:
    if flags & O_ACCMODE != O_RDONLY or flags & (O_CREAT | O_TRUNC):
        raise Errno(EISDIR)


def do_filp_open(dfd: int, path: str, flags: int, mode: int) -> file:
    """Open `path` as openat would; may sleep (a FIFO waiting for its
    other side raises BlockOn).  Host files open read-only on the host;
    any write goes to the overlay's copy (copy_up)."""
    excl = flags & O_CREAT and flags & O_EXCL
    follow = not (flags & O_NOFOLLOW or excl)
    g = guest_abspath(dfd, path, follow)
    f = devpath_open(g, flags)
    if f is not None:
        return f
    f = proc_open(g, flags)
    if f is not None:
        return f
    if path.endswith("/") and flags & O_CREAT:
        raise Errno(EISDIR)
    acc = flags & O_ACCMODE
    writing = acc != O_RDONLY or flags & O_TRUNC
    ov = overlay()
    node = ov.files.get(g)
    if node is None:
        st = host_lstat(g)
        if st is None:
            if not flags & O_CREAT:
                raise Errno(ENOENT)
            _check_parent_dir(g)
            node = new_node(S_IFREG | (mode & 0o7777 & ~current().fs.umask))
            install(g, node)
            return file(OverlayOps(), flags, node, path=g)
        if excl:
            raise Errno(EEXIST)
        if host_stat.S_ISLNK(st.st_mode):
            raise Errno(ELOOP)            # O_NOFOLLOW on a link
        if host_stat.S_ISDIR(st.st_mode):
            may_open_dir(flags)
            return file(DirOps(), flags, None, path=g)
        if host_stat.S_ISCHR(st.st_mode):
            return chrdev_open(st.st_rdev, flags, g)
        if is_special_host(st):
            raise Errno(ENXIO)            # host FIFOs, sockets, block devices
        if path.endswith("/") or flags & O_DIRECTORY:
            raise Errno(ENOTDIR)
        if not writing:
            try:
                fd = os.open(host_path(g), os.O_RDONLY | os.O_CLOEXEC)
            except OSError as e:
                raise host_errno(e) from None
            return file(HostRegOps(), flags, fd, path=g)
        node = copy_up(g)
    elif excl:
        raise Errno(EEXIST)
    kind = node.kind()
    if kind == S_IFDIR:
        may_open_dir(flags)
        return file(DirOps(), flags, None, path=g)
    if kind == S_IFLNK:
        raise Errno(ELOOP)
    if path.endswith("/") or flags & O_DIRECTORY:
        raise Errno(ENOTDIR)
    if kind == S_IFIFO:
        return fifo_open(node, flags, g)
    if kind == S_IFCHR:
        return chrdev_open(node.rdev, flags, g)
    if kind != S_IFREG:
        raise Errno(ENXIO)
    if flags & O_TRUNC and node.data:
        filemap_sync(node)
        node.data.clear()
        truncate_pagecache(node, 0)
        node.mtime = node.ctime = current_time()
    return file(OverlayOps(), flags, node, path=g)


def _check_parent_dir(g: str) -> None:
    """The directory a new entry g goes in exists and is a directory."""
    st = ovl_stat(parent_of(g))
    if st["mode"] & S_IFMT != S_IFDIR:
        raise Errno(ENOTDIR)


def do_sys_open(dfd: int, filename: int, flags: int, mode: int) -> int:
    path = strncpy_from_user(filename).decode("utf-8", "surrogateescape")
    if not path:
        raise Errno(ENOENT)
    return _open_install(partial(do_filp_open, dfd, path, flags, mode),
                         bool(flags & O_CLOEXEC))


def _open_install(step: Callable[[], file], cloexec: bool) -> int:
    """Run an open step and install its file; an open that sleeps (a
    FIFO) installs when it finishes."""
    try:
        f = step()
    except BlockOn as b:
        raise b.chain(partial(_open_install, b.cont, cloexec)) from None
    # do_dentry_open: creation flags are not kept; O_LARGEFILE is forced on 64-bit.
    f.f_flags = f.f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC) | O_LARGEFILE
    return fd_install_new(f, cloexec)


@syscall("openat")
def sys_openat(dfd: c_int, filename: UPtr, flags: c_int, mode: c_uint) -> int:
    return do_sys_open(dfd, filename, flags, mode)


@syscall("open")
def sys_open(filename: UPtr, flags: c_int, mode: c_uint) -> int:
    return do_sys_open(-100, filename, flags, mode)


@syscall("creat")
def sys_creat(pathname: UPtr, mode: c_uint) -> int:
    return do_sys_open(-100, pathname, 0o1101, mode)


def inode_permission(st: dict, mask: int) -> None:
    """generic_permission for the caller's fs ids: EACCES unless `mask`
    (R_OK|W_OK|X_OK bits) is allowed.  Root may read and write anything
    and search any directory, but executes a file only if some x bit is
    set (capable_wrt_inode_uidgid; CAP_DAC_OVERRIDE)."""
    from ..cred import generic_permission
    mode = st["mode"]
    if not generic_permission(mode, st.get("uid", 0), st.get("gid", 0), mask,
                              is_dir=mode & S_IFMT == S_IFDIR):
        raise Errno(EACCES)


def do_faccessat(dfd: int, filename: int, mode: int, flags: int = 0) -> int:
    """access checks with the real ids (faccessat's override creds),
    faccessat2's AT_EACCESS with the effective ones."""
    if mode & ~7:
        raise Errno(EINVAL)
    if flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH):
        raise Errno(EINVAL)
    path = strncpy_from_user(filename).decode("utf-8", "surrogateescape")
    if not path and flags & AT_EMPTY_PATH:
        f = current().files.fget(dfd)
        st = f.f_op.stat(f)
    else:
        if not path:
            raise Errno(ENOENT)
        st = lookup_stat(dfd, path, follow=not flags & AT_SYMLINK_NOFOLLOW)
    inode_permission(st, mode)
    return 0


@syscall("access")
def sys_access(filename: UPtr, mode: c_int) -> int:
    return do_faccessat(-100, filename, mode)


@syscall("faccessat")
def sys_faccessat(dfd: c_int, filename: UPtr, mode: c_int) -> int:
    return do_faccessat(dfd, filename, mode)


@syscall("faccessat2")
def sys_faccessat2(dfd: c_int, filename: UPtr, mode: c_int, flags: c_int) -> int:
    return do_faccessat(dfd, filename, mode, flags)


@syscall("getcwd")
def sys_getcwd(buf: UPtr, size: size_t) -> int:
    cwd = current().fs.cwd.encode() + b"\0"
    if len(cwd) > size:
        raise Errno(ERANGE)
    copy_to_user(buf, cwd)
    return len(cwd)


@syscall("chdir")
def sys_chdir(filename: UPtr) -> int:
    path = strncpy_from_user(filename).decode("utf-8", "surrogateescape")
    g = guest_abspath(-100, path)
    st = lookup_stat(-100, g)
    if st["mode"] & S_IFMT != S_IFDIR:
        raise Errno(ENOTDIR)
    current().fs.cwd = g
    return 0


@syscall("fchdir")
def sys_fchdir(fd: c_uint) -> int:
    f = current().files.fget(fd)
    if not isinstance(f.f_op, DirOps):
        raise Errno(ENOTDIR)
    current().fs.cwd = f.path
    return 0


def do_readlinkat(dfd: int, pathname: int, buf: int, bufsiz: int) -> int:
    if bufsiz <= 0:
        raise Errno(EINVAL)
    path = strncpy_from_user(pathname).decode("utf-8", "surrogateescape")
    g = guest_abspath(dfd, path, follow=False)
    target = proc_readlink(g)
    node = overlay().files.get(g)
    if target is None and node is not None:
        if node.kind() != S_IFLNK:
            raise Errno(EINVAL)
        target = node.target
    elif target is None:
        try:
            target = os.readlink(host_path(g)).encode("utf-8", "surrogateescape")
        except OSError as e:
            raise host_errno(e) from None
    target = target[:bufsiz]
    copy_to_user(buf, target)
    return len(target)


@syscall("readlink")
def sys_readlink(path: UPtr, buf: UPtr, bufsiz: c_int) -> int:
    return do_readlinkat(-100, path, buf, bufsiz)


@syscall("readlinkat")
def sys_readlinkat(dfd: c_int, pathname: UPtr, buf: UPtr, bufsiz: c_int) -> int:
    return do_readlinkat(dfd, pathname, buf, bufsiz)
