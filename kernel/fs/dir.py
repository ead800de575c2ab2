"""Open directories and getdents64/getdents (fs/readdir.c, fs/libfs.c's
dcache_readdir).  A directory's listing merges the host directory beneath
and the overlay (overlay.list_dir); it is taken when reading starts at
offset 0 (opendir, rewinddir) and served from there, so entries made or
removed meanwhile show at the next rewind.  The offset is the index of
the next entry: each entry's d_off is the offset after it, usable with
lseek(SEEK_SET) (telldir/seekdir)."""
from __future__ import annotations

import struct

from ..mm.uaccess import access_ok, copy_to_user
from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..types import UPtr, c_uint
from ..uapi import EFAULT, EINVAL, EISDIR, ENOENT, ENOTDIR, S_IFDIR
from .file import FileOps, file
from .overlay import list_dir, ovl_stat


class DirOps(FileOps):
    """An open directory; private = its listing once read (None before)."""

    def read(self, f: file, n: int) -> bytes:
        raise Errno(EISDIR)

    def pread(self, f: file, n: int, pos: int) -> bytes:
        raise Errno(EISDIR)

    def stat(self, f: file) -> dict:
        try:
            return ovl_stat(f.path)
        except Errno:
            return {"mode": S_IFDIR | 0o755, "nlink": 0}   # removed since it was opened

    def readdir(self, f: file) -> list[tuple[str, int, int]]:
        """The listing getdents walks, taken anew at offset 0."""
        if f.f_pos == 0 or f.private is None:
            try:
                f.private = list_dir(f.path)
            except Errno:
                raise Errno(ENOENT) from None      # the directory was removed
        return f.private

    def lseek(self, f: file, off: int, whence: int) -> int:
        if whence == 1:
            off += f.f_pos
        elif whence != 0:
            raise Errno(EINVAL)
        if off < 0:
            raise Errno(EINVAL)
        f.f_pos = off
        return off


def iterate_dir(f: file, count: int, emit) -> tuple[bytes, int]:
    """Up to `count` bytes of records built by emit(name, ino, d_type,
    d_off) -> bytes, and the offset after the last one."""
    ents = f.f_op.readdir(f)
    out = bytearray()
    pos = f.f_pos
    while pos < len(ents):
        name, ino, dtype = ents[pos]
        rec = emit(name.encode("utf-8", "surrogateescape"), ino, dtype, pos + 1)
        if len(out) + len(rec) > count:
            if not out:
                raise Errno(EINVAL)           # buffer too small for one entry
            break
        out += rec
        pos += 1
    return bytes(out), pos


def _dirent64(name: bytes, ino: int, dtype: int, off: int) -> bytes:
    reclen = (19 + len(name) + 1 + 7) & ~7
    return struct.pack("<QqHB", ino, off, reclen, dtype) + name + bytes(reclen - 19 - len(name))


def _dirent(name: bytes, ino: int, dtype: int, off: int) -> bytes:
    reclen = (18 + len(name) + 2 + 7) & ~7
    pad = reclen - 18 - len(name) - 1
    return struct.pack("<QQH", ino, off, reclen) + name + bytes(pad) + bytes([dtype])


def _getdents(fd: int, dirent: int, count: int, emit) -> int:
    if not access_ok(dirent, count):
        raise Errno(EFAULT)
    f = current().files.fget(fd)
    if getattr(f.f_op, "readdir", None) is None:     # DirOps, /proc's directories
        raise Errno(ENOTDIR)
    data, pos = iterate_dir(f, count, emit)
    if data:
        copy_to_user(dirent, data)
    f.f_pos = pos          # only once the records are out (EFAULT consumes nothing)
    return len(data)


@syscall("getdents64")
def sys_getdents64(fd: c_uint, dirent: UPtr, count: c_uint) -> int:
    return _getdents(fd, dirent, count, _dirent64)


@syscall("getdents")
def sys_getdents(fd: c_uint, dirent: UPtr, count: c_uint) -> int:
    return _getdents(fd, dirent, count, _dirent)
