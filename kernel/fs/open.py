"""open, openat, access, getcwd, chdir, readlink, unlink: host files
read-only, writes into the overlay (see namei)."""
from __future__ import annotations

import os
import stat as host_stat

from ..mm.uaccess import copy_to_user, strncpy_from_user
from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..types import UPtr, c_int, c_uint, size_t
from ..uapi import (
    EEXIST, EINVAL, EISDIR, ENOENT, ENOSPC, ENOTDIR, ERANGE, O_ACCMODE, O_APPEND, O_CLOEXEC,
    O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_TRUNC, S_IFCHR, S_IFDIR, S_IFMT, S_IFREG,
)
from .console import stat_from_host
from .file import FileOps, fd_install_new, file
from .hosterr import host_errno
from .proc import proc_open, proc_readlink
from ..mm.filemap import filemap_sync, filemap_update, truncate_pagecache
from .namei import OverlayNode, guest_abspath, host_path, lookup_stat, overlay, overlay_room

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
        node: OverlayNode = f.private
        return {"mode": node.mode, "ino": node.ino, "size": len(node.data), "dev": 0x2A}

    def lseek(self, f: file, off: int, whence: int) -> int:
        return _seek(f, off, whence, len(f.private.data))


class DevNullOps(FileOps):
    discards_writes = True

    def read(self, f: file, n: int) -> bytes:
        return b""

    def write(self, f: file, data: bytes) -> int:
        return len(data)

    def stat(self, f: file) -> dict:
        return {"mode": S_IFCHR | 0o666, "rdev": (1 << 8) | 3, "ino": 4, "dev": 5}

    def lseek(self, f: file, off: int, whence: int) -> int:
        return 0


class DevZeroOps(DevNullOps):
    def read(self, f: file, n: int) -> bytes:
        return bytes(min(n, 1 << 20))

    def stat(self, f: file) -> dict:
        return {"mode": S_IFCHR | 0o666, "rdev": (1 << 8) | 5, "ino": 5, "dev": 5}


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


_DEVICES = {"/dev/null": DevNullOps, "/dev/zero": DevZeroOps}


def do_filp_open(dfd: int, path: str, flags: int, mode: int) -> file:
    g = guest_abspath(dfd, path)
    acc = flags & O_ACCMODE
    if g in _DEVICES:
        return file(_DEVICES[g](), flags, None, path=g)
    f = proc_open(g, flags)
    if f is not None:
        return f
    ov = overlay()
    node = ov.files.get(g)
    writing = acc != O_RDONLY or flags & (O_CREAT | O_TRUNC)
    if node is None and not writing:
        if g in ov.deleted:
            raise Errno(ENOENT)
        hp = host_path(g)
        try:
            fd = os.open(hp, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            raise host_errno(e) from None
        if flags & O_DIRECTORY and not host_stat.S_ISDIR(os.fstat(fd).st_mode):
            os.close(fd)
            raise Errno(ENOTDIR)
        return file(HostRegOps(), flags, fd, path=g)
    if node is None:
        exists = False
        st = None
        if g not in ov.deleted:
            try:
                st = lookup_stat(dfd, g)
                exists = True
            except Errno:
                pass
        if exists and st is not None and st["mode"] & S_IFMT == S_IFDIR:
            raise Errno(EISDIR)
        if not exists and not flags & O_CREAT:
            raise Errno(ENOENT)
        if exists and flags & O_CREAT and flags & O_EXCL:
            raise Errno(EEXIST)
        node = OverlayNode(mode=S_IFREG | (mode & 0o7777 & ~current().fs.umask))
        if exists and not flags & O_TRUNC:
            with open(host_path(g), "rb") as fh:
                node.data = bytearray(fh.read())
        ov.next_ino += 1
        node.ino = ov.next_ino
        ov.files[g] = node
        ov.deleted.discard(g)
    else:
        if flags & O_CREAT and flags & O_EXCL:
            raise Errno(EEXIST)
        if flags & O_TRUNC and acc != O_RDONLY:
            node.data.clear()
            truncate_pagecache(node, 0)
    return file(OverlayOps(), flags, node, path=g)


def do_sys_open(dfd: int, filename: int, flags: int, mode: int) -> int:
    path = strncpy_from_user(filename).decode("utf-8", "surrogateescape")
    if not path:
        raise Errno(ENOENT)
    f = do_filp_open(dfd, path, flags, mode)
    return fd_install_new(f, bool(flags & O_CLOEXEC))


@syscall("openat")
def sys_openat(dfd: c_int, filename: UPtr, flags: c_int, mode: c_uint) -> int:
    return do_sys_open(dfd, filename, flags, mode)


@syscall("open")
def sys_open(filename: UPtr, flags: c_int, mode: c_uint) -> int:
    return do_sys_open(-100, filename, flags, mode)


@syscall("creat")
def sys_creat(pathname: UPtr, mode: c_uint) -> int:
    return do_sys_open(-100, pathname, 0o1101, mode)


def do_faccessat(dfd: int, filename: int, mode: int) -> int:
    if mode & ~7:
        raise Errno(EINVAL)
    path = strncpy_from_user(filename).decode("utf-8", "surrogateescape")
    lookup_stat(dfd, path)
    return 0


@syscall("access")
def sys_access(filename: UPtr, mode: c_int) -> int:
    return do_faccessat(-100, filename, mode)


@syscall("faccessat")
def sys_faccessat(dfd: c_int, filename: UPtr, mode: c_int) -> int:
    return do_faccessat(dfd, filename, mode)


@syscall("faccessat2")
def sys_faccessat2(dfd: c_int, filename: UPtr, mode: c_int, flags: c_int) -> int:
    return do_faccessat(dfd, filename, mode)


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


def do_readlinkat(dfd: int, pathname: int, buf: int, bufsiz: int) -> int:
    if bufsiz <= 0:
        raise Errno(EINVAL)
    path = strncpy_from_user(pathname).decode("utf-8", "surrogateescape")
    g = guest_abspath(dfd, path, follow=False)
    target = proc_readlink(g)
    if target is None:
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


@syscall("unlink")
def sys_unlink(pathname: UPtr) -> int:
    path = strncpy_from_user(pathname).decode("utf-8", "surrogateescape")
    g = guest_abspath(-100, path, follow=False)
    st = lookup_stat(-100, g, follow=False)
    if st["mode"] & S_IFMT == S_IFDIR:
        raise Errno(EISDIR)
    ov = overlay()
    ov.files.pop(g, None)
    ov.deleted.add(g)
    return 0
