"""read, write, readv, writev, pread64, pwrite64, lseek (fs/read_write.c)."""
from __future__ import annotations

import struct

from ..mm.uaccess import copy_from_user, copy_to_user, user_page
from ..panic import Errno
from ..percpu import current
from ..sched.wait import BlockOn
from ..syscalls import syscall
from ..types import UPtr, c_int, c_uint, off_t, size_t
from ..uapi import EBADF, EFAULT, EINVAL, O_ACCMODE, O_RDONLY, O_WRONLY
from .file import file

MAX_RW_COUNT = 0x7FFFF000
UIO_MAXIOV = 1024


def _readable(f: file) -> None:
    if f.f_flags & O_ACCMODE == O_WRONLY:
        raise Errno(EBADF)


def _writable(f: file) -> None:
    if f.f_flags & O_ACCMODE == O_RDONLY:
        raise Errno(EBADF)


def do_read(f: file, buf: int, count: int) -> int:
    """Read into user memory; a sleep resumes here with the same buffer.
    The buffer is made writable first, so a bad buffer fails with EFAULT
    before anything is consumed (the data stays in a pipe)."""
    count = min(count, MAX_RW_COUNT)
    if not count:
        return 0
    fault_in_writeable(buf, min(count, 1 << 20))
    data = f.f_op.read(f, count)
    copy_to_user(buf, data)
    return len(data)


def fault_in_writeable(uaddr: int, n: int) -> None:
    mm = current().mm
    va = uaddr & ~0xFFF
    while va < uaddr + n:
        user_page(mm, max(va, uaddr), True)
        va += 4096


def _read_cont(f: file, buf: int, count: int) -> int:
    try:
        return do_read(f, buf, count)
    except BlockOn as b:
        raise BlockOn(b.queues, lambda: _read_cont(f, buf, count), b.deadline) from None


@syscall("read")
def sys_read(fd: c_uint, buf: UPtr, count: size_t) -> int:
    f = current().files.fget(fd)
    _readable(f)
    if count and not buf:
        raise Errno(EFAULT)
    return _read_cont(f, buf, count)


def _write_cont(f: file, data: bytes) -> int:
    return f.f_op.write(f, data)


@syscall("write")
def sys_write(fd: c_uint, buf: UPtr, count: size_t) -> int:
    f = current().files.fget(fd)
    _writable(f)
    if count == 0:
        return 0
    data = copy_from_user(buf, min(count, MAX_RW_COUNT))
    return f.f_op.write(f, data)


def _iovecs(vec: int, vlen: int) -> list[tuple[int, int]]:
    if vlen < 0 or vlen > UIO_MAXIOV:
        raise Errno(EINVAL)
    raw = copy_from_user(vec, 16 * vlen)
    out = []
    total = 0
    for i in range(vlen):
        base, ln = struct.unpack_from("<QQ", raw, 16 * i)
        if ln >> 63:
            raise Errno(EINVAL)
        total += ln
        out.append((base, ln))
    if total > MAX_RW_COUNT * 2:
        raise Errno(EINVAL)
    return out


@syscall("writev")
def sys_writev(fd: c_uint, vec: UPtr, vlen: c_int) -> int:
    f = current().files.fget(fd)
    _writable(f)
    data = b"".join(copy_from_user(b, n) for b, n in _iovecs(vec, vlen))
    if not data:
        return 0
    return f.f_op.write(f, data)


@syscall("readv")
def sys_readv(fd: c_uint, vec: UPtr, vlen: c_int) -> int:
    f = current().files.fget(fd)
    _readable(f)
    iov = _iovecs(vec, vlen)
    total = sum(n for _b, n in iov)

    def attempt() -> int:
        data = f.f_op.read(f, total) if total else b""
        pos = 0
        for b, n in iov:
            if pos >= len(data):
                break
            copy_to_user(b, data[pos:pos + n])
            pos += n
        return len(data)
    return attempt()


@syscall("lseek")
def sys_lseek(fd: c_uint, offset: off_t, whence: c_uint) -> int:
    f = current().files.fget(fd)
    if whence > 4:
        raise Errno(EINVAL)
    return f.f_op.lseek(f, offset, whence)


@syscall("pread64")
def sys_pread64(fd: c_uint, buf: UPtr, count: size_t, pos: off_t) -> int:
    f = current().files.fget(fd)
    _readable(f)
    if pos < 0:
        raise Errno(EINVAL)
    pread = getattr(f.f_op, "pread", None)
    if pread is None:
        from ..uapi import ESPIPE
        raise Errno(ESPIPE)
    data = pread(f, min(count, MAX_RW_COUNT), pos)
    copy_to_user(buf, data)
    return len(data)

