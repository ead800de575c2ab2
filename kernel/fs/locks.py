"""Advisory file locks (fs/locks.c): POSIX record locks (fcntl F_GETLK,
F_SETLK, F_SETLKW), open-file-description locks (F_OFD_*) and flock.

- A POSIX lock belongs to the fd table (files_struct) that set it: it is
  not inherited by fork, and closing *any* fd of that table on the file
  drops all its locks there (filp_close -> locks_remove_posix).
- OFD and flock locks belong to the open file description: shared by dup
  and fork, dropped when its last reference goes (locks_remove_file).
- POSIX and OFD locks conflict with each other; flock locks live apart.
- F_SETLKW and a blocking flock sleep on the file's wait queue and retry
  when any lock there changes.  A POSIX waiter whose blocker waits, in a
  chain, on a lock the waiter holds gets EDEADLK (posix_locks_deadlock).

The locks of a file hang off the machine's Overlay, keyed by the file's
identity: its overlay node, or (st_dev, st_ino) of a host file."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from ..mm.uaccess import copy_from_user, copy_to_user
from ..panic import Errno
from ..percpu import current
from ..sched.wait import BlockOn, wait_queue_head, wake_up
from ..syscalls import syscall
from ..types import c_uint
from ..uapi import (
    EAGAIN, EBADF, EDEADLK, EINVAL, EOVERFLOW, ERESTARTSYS, F_OFD_GETLK, F_OFD_SETLK,
    F_OFD_SETLKW, F_RDLCK, F_SETLKW, F_UNLCK, F_WRLCK, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN,
    O_ACCMODE, O_RDONLY, O_WRONLY,
)
from .file import file
from .overlay import overlay

OFFSET_MAX = (1 << 63) - 1
MAX_DEADLK_ITERATIONS = 10
_FLOCK = struct.Struct("<hh4xqqi4x")      # struct flock, 32 bytes


@dataclass(eq=False, slots=True)
class file_lock:
    owner: Any          # files_struct (POSIX) or file (OFD, flock)
    type: int           # F_RDLCK or F_WRLCK
    start: int
    end: int            # inclusive; OFFSET_MAX: to the end of file and beyond
    pid: int            # reported by F_GETLK (-1 for OFD locks)


@dataclass(eq=False, slots=True)
class file_lock_context:
    posix: list = field(default_factory=list)
    flock: list = field(default_factory=list)
    wait: wait_queue_head = field(default_factory=wait_queue_head)


def _key(f: file) -> Any:
    from .fifo import FifoOps
    from .open import OverlayOps
    if isinstance(f.f_op, OverlayOps):
        return f.private
    if isinstance(f.f_op, FifoOps):
        return f.private[0]
    st = f.f_op.stat(f)
    return ("ino", st.get("dev", 0), st.get("ino", 0))


def locks_context(f: file) -> file_lock_context:
    locks = overlay().host_locks
    key = _key(f)
    ctx = locks.get(key)
    if ctx is None:
        ctx = locks[key] = file_lock_context()
    return ctx


def find_locks_context(f: file) -> file_lock_context | None:
    try:
        return overlay().host_locks.get(_key(f))
    except Errno:
        return None          # a file with no inode to stat


def _conflict(a: file_lock, b: file_lock) -> bool:
    return (a.owner is not b.owner and a.start <= b.end and b.start <= a.end
            and F_WRLCK in (a.type, b.type))


def _first_conflict(locks: list, want: file_lock) -> file_lock | None:
    for fl in locks:
        if _conflict(fl, want):
            return fl
    return None


def _apply(locks: list, want: file_lock) -> bool:
    """Set (or with F_UNLCK clear) want's range for its owner: the
    owner's locks there are cut away, the new one added and merged with
    its neighbours of the same type.  Returns whether anything changed."""
    changed = False
    out = []
    for fl in locks:
        if fl.owner is not want.owner or fl.end < want.start or fl.start > want.end:
            out.append(fl)
            continue
        changed = True
        if fl.start < want.start:
            out.append(file_lock(fl.owner, fl.type, fl.start, want.start - 1, fl.pid))
        if fl.end > want.end:
            out.append(file_lock(fl.owner, fl.type, want.end + 1, fl.end, fl.pid))
    if want.type != F_UNLCK:
        new = file_lock(want.owner, want.type, want.start, want.end, want.pid)
        for fl in [x for x in out if x.owner is want.owner and x.type == want.type]:
            if fl.end + 1 == new.start or new.end + 1 == fl.start:
                out.remove(fl)
                new.start, new.end = min(new.start, fl.start), max(new.end, fl.end)
        out.append(new)
        changed = True
    locks[:] = out
    return changed


# --- fcntl ------------------------------------------------------------------

def _flock_range(f: file, raw: bytes) -> tuple[int, int, int]:
    """(type, start, end) of a struct flock, its whence applied."""
    l_type, whence, start, length, _pid = _FLOCK.unpack(raw)
    if l_type not in (F_RDLCK, F_WRLCK, F_UNLCK):
        raise Errno(EINVAL)
    if whence == 1:
        start += f.f_pos
    elif whence == 2:
        start += f.f_op.stat(f).get("size", 0)
    elif whence != 0:
        raise Errno(EINVAL)
    if length > 0:
        end = start + length - 1
        if end < start or end > OFFSET_MAX:
            raise Errno(EOVERFLOW)
    elif length < 0:
        end = start - 1
        start += length
    else:
        end = OFFSET_MAX
    if start < 0:
        raise Errno(EINVAL)
    return l_type, start, end


def _owner(f: file, cmd: int) -> tuple[Any, int]:
    tsk = current()
    if cmd in (F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW):
        return f, -1
    return tsk.files, tsk.tgid


def fcntl_getlk(f: file, cmd: int, arg: int) -> int:
    raw = copy_from_user(arg, _FLOCK.size)
    l_type, start, end = _flock_range(f, raw)
    if cmd == F_OFD_GETLK and _FLOCK.unpack(raw)[4] != 0:
        raise Errno(EINVAL)
    owner, pid = _owner(f, cmd)
    ctx = find_locks_context(f)
    want = file_lock(owner, l_type, start, end, pid)
    fl = _first_conflict(ctx.posix, want) if ctx is not None and l_type != F_UNLCK else None
    if fl is None:
        _t, whence, s, ln, p = _FLOCK.unpack(raw)
        copy_to_user(arg, _FLOCK.pack(F_UNLCK, whence, s, ln, p))
        return 0
    length = 0 if fl.end == OFFSET_MAX else fl.end - fl.start + 1
    copy_to_user(arg, _FLOCK.pack(fl.type, 0, fl.start, length, fl.pid))
    return 0


def fcntl_setlk(f: file, cmd: int, arg: int) -> int:
    raw = copy_from_user(arg, _FLOCK.size)
    l_type, start, end = _flock_range(f, raw)
    if cmd in (F_OFD_SETLK, F_OFD_SETLKW) and _FLOCK.unpack(raw)[4] != 0:
        raise Errno(EINVAL)
    acc = f.f_flags & O_ACCMODE
    if l_type == F_RDLCK and acc == O_WRONLY or l_type == F_WRLCK and acc == O_RDONLY:
        raise Errno(EBADF)
    owner, pid = _owner(f, cmd)
    want = file_lock(owner, l_type, start, end, pid)
    ctx = locks_context(f)
    wait = cmd in (F_SETLKW, F_OFD_SETLKW)
    return _posix_lock(ctx, want, wait, posix=cmd == F_SETLKW)


def _posix_lock(ctx: file_lock_context, want: file_lock, wait: bool, posix: bool) -> int:
    waiting = overlay().lock_waiters
    if want.type != F_UNLCK:
        blocker = _first_conflict(ctx.posix, want)
        if blocker is not None:
            if not wait:
                raise Errno(EAGAIN)
            if posix and _deadlock(want.owner, blocker.owner, waiting):
                raise Errno(EDEADLK)
            waiting[want.owner] = blocker.owner

            def cont() -> int:
                waiting.pop(want.owner, None)
                return _posix_lock(ctx, want, wait, posix)

            def interrupted() -> int:
                waiting.pop(want.owner, None)
                return -ERESTARTSYS
            raise BlockOn([ctx.wait], cont, interrupted=interrupted)
    if _apply(ctx.posix, want):
        wake_up(ctx.wait)
    return 0


def _deadlock(me: Any, blocker: Any, waiting: dict) -> bool:
    """posix_locks_deadlock: does the chain of waiters from blocker lead
    back to me?"""
    owner = blocker
    for _ in range(MAX_DEADLK_ITERATIONS):
        if owner is me:
            return True
        owner = waiting.get(owner)
        if owner is None:
            return False
    return False


# --- flock ------------------------------------------------------------------

def do_flock(f: file, cmd: int) -> int:
    nb = bool(cmd & LOCK_NB)
    op = cmd & ~LOCK_NB
    if op not in (LOCK_SH, LOCK_EX, LOCK_UN):
        raise Errno(EINVAL)
    ctx = locks_context(f)
    if op == LOCK_UN:
        if _apply(ctx.flock, file_lock(f, F_UNLCK, 0, OFFSET_MAX, -1)):
            wake_up(ctx.wait)
        return 0
    want = file_lock(f, F_WRLCK if op == LOCK_EX else F_RDLCK, 0, OFFSET_MAX, -1)
    mine = [fl for fl in ctx.flock if fl.owner is f]
    if mine and mine[0].type != want.type:
        # A conversion drops the old lock first (flock_lock_inode), so a
        # waiter may get in between, as on Linux.
        _apply(ctx.flock, file_lock(f, F_UNLCK, 0, OFFSET_MAX, -1))
        wake_up(ctx.wait)
    return _flock_wait(ctx, want, nb)


def _flock_wait(ctx: file_lock_context, want: file_lock, nb: bool) -> int:
    if _first_conflict(ctx.flock, want) is not None:
        if nb:
            raise Errno(EAGAIN)
        raise BlockOn([ctx.wait], lambda: _flock_wait(ctx, want, nb))
    _apply(ctx.flock, want)
    return 0


# --- release ----------------------------------------------------------------

def locks_remove_posix(f: file, files: Any) -> None:
    """filp_close: the fd table `files` closes an fd of f's file, so all
    its POSIX locks on that file go."""
    ctx = find_locks_context(f)
    if ctx is not None and ctx.posix:
        if _apply(ctx.posix, file_lock(files, F_UNLCK, 0, OFFSET_MAX, 0)):
            wake_up(ctx.wait)


def locks_remove_file(f: file) -> None:
    """The last reference to f goes: its OFD and flock locks go."""
    ctx = find_locks_context(f)
    if ctx is None:
        return
    changed = _apply(ctx.posix, file_lock(f, F_UNLCK, 0, OFFSET_MAX, 0))
    changed = _apply(ctx.flock, file_lock(f, F_UNLCK, 0, OFFSET_MAX, 0)) or changed
    if changed:
        wake_up(ctx.wait)


@syscall("flock")
def sys_flock(fd: c_uint, cmd: c_uint) -> int:
    return do_flock(current().files.fget(fd), cmd)
