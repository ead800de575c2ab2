"""read, write, readv, writev, pread64, pwrite64, lseek (fs/read_write.c)."""
from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from functools import partial

from ..mm.uaccess import access_ok, copy_from_user, copy_to_user, user_page
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
        raise b.chain(lambda: _read_cont(f, buf, count)) from None


@syscall("read")
def sys_read(fd: c_uint, buf: UPtr, count: size_t) -> int:
    f = current().files.fget(fd)
    _readable(f)
    if count and not buf:
        raise Errno(EFAULT)
    return _read_cont(f, buf, count)


def _write_cont(f: file, data: bytes) -> int:
    return f.f_op.write(f, data)


WRITE_CHUNK = 1 << 20
PAGE_SIZE = 4096


def _chunks(iov: list[tuple[int, int]], start: int) -> Iterator[tuple[int, int]]:
    """The user ranges of iov cut in pieces of at most WRITE_CHUNK bytes,
    from byte `start` (a piece boundary) on."""
    pos = 0
    for base, n in iov:
        off = max(0, start - pos)
        while off < n:
            k = min(WRITE_CHUNK, n - off)
            yield base + off, k
            off += k
        pos += n


def _copy_prefix(uaddr: int, n: int) -> bytes:
    """The bytes of [uaddr, uaddr+n) up to the first page that faults
    (EFAULT if that is the first one): a write stops short there."""
    try:
        return copy_from_user(uaddr, n)
    except Errno:
        pass
    out = bytearray()
    va, end = uaddr, uaddr + n
    while va < end:
        k = min(end, (va | 0xFFF) + 1) - va
        try:
            out += copy_from_user(va, k)
        except Errno:
            if not out:
                raise
            break
        va += k
    return bytes(out)


def write_chunks(f: file, iov: list[tuple[int, int]], done: int = 0,
                 pending: Callable[[], int] | None = None) -> int:
    """Write the user ranges `iov` to f a piece at a time, copying each
    piece from user memory only when it is written: a huge count over
    lazily mapped (zero) pages never becomes a huge host buffer.  After a
    sleep, `pending` finishes the piece that starts at byte `done`.  A
    fault or an error once some bytes went out ends the write short."""
    for addr, n in _chunks(iov, done):
        try:
            if pending is not None:
                call, pending = pending, None
            else:
                call = partial(f.f_op.write, f, _copy_prefix(addr, n))
            w = call()
        except BlockOn as b:
            raise b.chain(partial(write_chunks, f, iov, done, b.cont),
                          partial(_interrupted_write, done, b)) from None
        except Errno:
            if done:
                return done
            raise
        done += w
        if w < n:
            break
    return done


def _interrupted_write(done: int, b: BlockOn) -> int:
    """A signal cut a write short: what went out before counts (the
    piece's own count is b's), else the piece's -ERESTART* code."""
    ret = b.interrupted_result()
    if ret >= 0:
        return done + ret
    return done or ret


@syscall("write")
def sys_write(fd: c_uint, buf: UPtr, count: size_t) -> int:
    f = current().files.fget(fd)
    _writable(f)
    if count == 0:
        return 0
    count = min(count, MAX_RW_COUNT)
    if f.f_op.discards_writes:
        return count
    if count > PAGE_SIZE:
        return write_chunks(f, [(buf, count)])
    data = copy_from_user(buf, count)
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
        if not access_ok(base, ln):
            raise Errno(EFAULT)       # import_iovec checks every segment first
        total += ln
        out.append((base, ln))
    if total > MAX_RW_COUNT * 2:
        raise Errno(EINVAL)
    return out


@syscall("writev")
def sys_writev(fd: c_uint, vec: UPtr, vlen: c_int) -> int:
    f = current().files.fget(fd)
    _writable(f)
    iov = _iovecs(vec, vlen)
    if f.f_op.discards_writes:
        return sum(n for _b, n in iov)
    if sum(n for _b, n in iov) > PAGE_SIZE:
        return write_chunks(f, iov)
    data = b"".join(copy_from_user(b, n) for b, n in iov)
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

