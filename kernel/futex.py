"""Fast user-space mutexes: FUTEX_WAIT/WAKE (with BITSET variants),
REQUEUE/CMP_REQUEUE, WAKE_OP; robust lists at thread exit.

A futex is keyed by (mm, address) when private, and by the physical frame
and offset when shared, so processes sharing memory meet on the same key.
Waiters sleep on a per-key queue; each records its bitset.
"""
from __future__ import annotations

import struct

from . import state
from .mm.uaccess import copy_from_user, get_user_u32, put_user_u32, user_page
from .panic import Errno
from .percpu import current
from .sched.core import ktime_get_ns
from .sched.wait import BlockOn, wait_queue_head
from .syscalls import syscall
from .task import task_struct
from .types import UPtr, c_int, c_uint, size_t
from .uapi import EAGAIN, EINVAL, ENOSYS, ETIMEDOUT

FUTEX_WAIT, FUTEX_WAKE, FUTEX_FD, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP = 0, 1, 2, 3, 4, 5
FUTEX_LOCK_PI, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET = 6, 7, 8, 9, 10
FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME = 128, 256
FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF
FUTEX_WAITERS, FUTEX_OWNER_DIED, FUTEX_TID_MASK = 0x80000000, 0x40000000, 0x3FFFFFFF

_queues: dict[tuple, wait_queue_head] = {}


def futex_key(uaddr: int, private: bool) -> tuple:
    if uaddr & 3:
        raise Errno(EINVAL)
    mm = current().mm
    if private:
        return (id(mm), uaddr)
    pa = user_page(mm, uaddr, False)
    return ("shared", pa >> 12, uaddr & 0xFFF)


def _queue(key: tuple) -> wait_queue_head:
    q = _queues.get(key)
    if q is None:
        q = _queues[key] = wait_queue_head()
    return q


def futex_wake_key(key: tuple, nr: int, bitset: int = FUTEX_BITSET_MATCH_ANY) -> int:
    q = _queues.get(key)
    if q is None:
        return 0
    from .sched.core import wake_up_process
    woken = 0
    for t in list(q.waiters):
        if woken >= nr:
            break
        if t.futex_bitset & bitset:
            wake_up_process(t)
            woken += 1
    if not q.waiters:
        _queues.pop(key, None)
    return woken


def futex_wake_addr(uaddr: int, nr: int) -> int:
    """Wake on a private-or-shared word (CLONE_CHILD_CLEARTID at exit):
    Linux wakes the shared key, which also finds private waiters."""
    woken = 0
    try:
        woken += futex_wake_key(futex_key(uaddr, True), nr)
        woken += futex_wake_key(futex_key(uaddr, False), nr - woken)
    except Errno:
        pass
    return woken


def futex_wait(uaddr: int, private: bool, val: int, deadline: int, bitset: int) -> int:
    if not bitset:
        raise Errno(EINVAL)
    key = futex_key(uaddr, private)
    if get_user_u32(uaddr) != val & 0xFFFFFFFF:
        raise Errno(EAGAIN)
    tsk = current()
    tsk.futex_bitset = bitset
    q = _queue(key)

    def after_sleep() -> int:
        if tsk.timed_out:
            tsk.timed_out = False
            try:
                q.waiters.remove(tsk)
            except ValueError:
                pass
            raise Errno(ETIMEDOUT)
        return 0
    raise BlockOn([q], after_sleep, deadline)


def _timeout_deadline(utime: int, op: int, flags: int) -> int:
    if not utime:
        return -1
    sec, nsec = struct.unpack("<qq", copy_from_user(utime, 16))
    if sec < 0 or not 0 <= nsec < 1_000_000_000:
        raise Errno(EINVAL)
    ns = sec * 1_000_000_000 + nsec
    if op == FUTEX_WAIT:
        return ktime_get_ns() + ns          # relative
    if flags & FUTEX_CLOCK_REALTIME:
        from .time import REALTIME_BASE_NS
        return ns - REALTIME_BASE_NS        # absolute on CLOCK_REALTIME
    return ns                                # absolute on CLOCK_MONOTONIC


def _wake_op(uaddr2: int, encoded: int) -> bool:
    op = (encoded >> 28) & 7
    cmp = (encoded >> 24) & 15
    oparg = (encoded >> 12) & 0xFFF
    cmparg = encoded & 0xFFF
    if encoded & (8 << 28):
        oparg = 1 << (oparg & 31)
    old = get_user_u32(uaddr2)
    if op == 0:
        new = oparg
    elif op == 1:
        new = old + oparg
    elif op == 2:
        new = old | oparg
    elif op == 3:
        new = old & ~oparg
    elif op == 4:
        new = old ^ oparg
    else:
        raise Errno(ENOSYS)
    put_user_u32(uaddr2, new)
    if cmparg & 0x800:
        cmparg -= 0x1000
    sold = old - (1 << 32) if old >> 31 else old
    return [sold == cmparg, sold != cmparg, sold < cmparg, sold <= cmparg,
            sold > cmparg, sold >= cmparg][cmp] if cmp < 6 else False


@syscall("futex")
def sys_futex(uaddr: UPtr, op: c_int, val: c_uint, utime: UPtr, uaddr2: UPtr, val3: c_uint) -> int:
    cmd = op & 127
    private = bool(op & FUTEX_PRIVATE_FLAG)
    if op & FUTEX_CLOCK_REALTIME and cmd not in (FUTEX_WAIT_BITSET, FUTEX_WAIT):
        raise Errno(ENOSYS)
    if cmd == FUTEX_WAIT:
        return futex_wait(uaddr, private, val, _timeout_deadline(utime, cmd, op),
                          FUTEX_BITSET_MATCH_ANY)
    if cmd == FUTEX_WAIT_BITSET:
        return futex_wait(uaddr, private, val, _timeout_deadline(utime, cmd, op), val3)
    if cmd == FUTEX_WAKE:
        return futex_wake_key(futex_key(uaddr, private), val)
    if cmd == FUTEX_WAKE_BITSET:
        if not val3:
            raise Errno(EINVAL)
        return futex_wake_key(futex_key(uaddr, private), val, val3)
    if cmd in (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE):
        nr_requeue = utime & 0x7FFFFFFF
        key1 = futex_key(uaddr, private)
        key2 = futex_key(uaddr2, private)
        if cmd == FUTEX_CMP_REQUEUE and get_user_u32(uaddr) != val3:
            raise Errno(EAGAIN)
        woken = futex_wake_key(key1, val)
        q1 = _queues.get(key1)
        moved = 0
        if q1 is not None:
            q2 = _queue(key2)
            for t in list(q1.waiters):
                if moved >= nr_requeue:
                    break
                q1.waiters.remove(t)
                t.wait_on.remove(q1)
                q2.waiters.append(t)
                t.wait_on.append(q2)
                moved += 1
            if not q1.waiters:
                _queues.pop(key1, None)
        return woken + moved
    if cmd == FUTEX_WAKE_OP:
        key1 = futex_key(uaddr, private)
        key2 = futex_key(uaddr2, private)
        woken = futex_wake_key(key1, val)
        if _wake_op(uaddr2, val3):
            woken += futex_wake_key(key2, utime & 0x7FFFFFFF)
        return woken
    raise Errno(ENOSYS)


@syscall("set_robust_list")
def sys_set_robust_list(head: UPtr, len_: size_t) -> int:
    if len_ != 24:
        raise Errno(EINVAL)
    tsk = current()
    tsk.robust_list = head
    tsk.robust_list_len = len_
    return 0


@syscall("get_robust_list")
def sys_get_robust_list(pid: c_int, head_ptr: UPtr, len_ptr: UPtr) -> int:
    from .mm.uaccess import put_user_u64
    tsk = current() if pid == 0 else state.K.tasks.get(pid)
    if tsk is None:
        raise Errno(3)
    put_user_u64(head_ptr, tsk.robust_list)
    put_user_u64(len_ptr, 24)
    return 0


def exit_robust_list(tsk: task_struct) -> None:
    """Mark the futexes a dying thread held FUTEX_OWNER_DIED and wake one
    waiter of each (exit_robust_list).  A bad list is silently dropped."""
    head = tsk.robust_list
    if not head or tsk.mm is None:
        return
    tsk.robust_list = 0
    try:
        nxt, offset, pending = struct.unpack("<QqQ", copy_from_user(head, 24))
        entries = []
        limit = 2048
        while nxt != head and limit:
            entries.append(nxt & ~1)
            nxt = struct.unpack("<Q", copy_from_user(nxt & ~1, 8))[0]
            limit -= 1
        if pending:
            entries.append(pending & ~1)
        for ent in entries:
            uaddr = ent + offset
            val = get_user_u32(uaddr)
            if val & FUTEX_TID_MASK == tsk.pid:
                put_user_u32(uaddr, (val & FUTEX_WAITERS) | FUTEX_OWNER_DIED)
                if val & FUTEX_WAITERS:
                    futex_wake_addr(uaddr, 1)
    except Errno:
        pass

