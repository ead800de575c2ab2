"""Fast user-space mutexes: FUTEX_WAIT/WAKE (with BITSET variants),
REQUEUE/CMP_REQUEUE, WAKE_OP; robust lists at thread exit.

Keys follow get_futex_key: a private futex is (mm, address); a shared one
on a MAP_SHARED (or read-only file) page is the physical frame and offset,
so processes sharing memory meet on it; a shared one on private anonymous
memory is (mm, address) again, but distinct from the private key, as Linux
keeps them apart (FUT_OFF_MMSHARED).  Waiters sleep on a per-key queue;
each has a futex_q recording its key, its bitset and whether a futex wake
(rather than a timeout or a signal) ended its sleep.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .pid_namespace import find_task_by_vpid, task_active_pid_ns, task_pid_nr_ns
from . import state
from .mm.memory import VM_SHARED, VM_WRITE
from .mm.mmap import TASK_SIZE
from .mm.uaccess import copy_from_user, get_user_u32, put_user_u32, put_user_u64, user_page
from .panic import BUG, Errno
from .percpu import current
from .sched.core import ktime_get_ns, wake_up_process
from .sched.wait import BlockOn, wait_queue_head
from .syscalls import syscall
from .task import task_struct
from .types import UPtr, c_int, c_uint, c_ulong, size_t
from .signal import signal_pending
from .uapi import EAGAIN, EFAULT, EINVAL, ENOSYS, ERESTART_RESTARTBLOCK, ERESTARTSYS, ESRCH, ETIMEDOUT

FUTEX_WAIT, FUTEX_WAKE, FUTEX_FD, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP = 0, 1, 2, 3, 4, 5
FUTEX_LOCK_PI, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET = 6, 7, 8, 9, 10
FUTEX_WAIT_REQUEUE_PI, FUTEX_CMP_REQUEUE_PI, FUTEX_LOCK_PI2 = 11, 12, 13
FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME = 128, 256
FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF
FUTEX_WAITERS, FUTEX_OWNER_DIED, FUTEX_TID_MASK = 0x80000000, 0x40000000, 0x3FFFFFFF
FUTEX_OP_SET, FUTEX_OP_ADD, FUTEX_OP_OR, FUTEX_OP_ANDN, FUTEX_OP_XOR = range(5)
FUTEX_OP_OPARG_SHIFT = 8

FLAGS_SHARED, FLAGS_CLOCKRT = 1, 2
ROBUST_LIST_LIMIT = 2048
NSEC_PER_SEC = 1_000_000_000


@dataclass(eq=False, slots=True)
class futex_q:
    key: tuple
    bitset: int
    woken: bool = False        # dequeued by a futex wake (Linux: lock_ptr = NULL)


# Per machine: state.K.futex_queues (key -> wait_queue_head) and
# state.K.futex_q, the futex_q of each task asleep in futex_wait.  A
# futex_q is dropped when the wait ends, or at exit (futex_exit_release)
# if a signal cut the wait short.


def futex_to_flags(op: int) -> int:
    flags = 0 if op & FUTEX_PRIVATE_FLAG else FLAGS_SHARED
    if op & FUTEX_CLOCK_REALTIME:
        flags |= FLAGS_CLOCKRT
    return flags


def get_futex_key(uaddr: int, flags: int, write: bool = False) -> tuple:
    """The key of the futex word at uaddr.  EINVAL if it is not aligned,
    EFAULT if it is not a user address or (shared) not mapped."""
    if uaddr & 3:
        raise Errno(EINVAL)
    if uaddr + 4 > TASK_SIZE:                  # access_ok
        raise Errno(EFAULT)
    mm = current().mm
    if not flags & FLAGS_SHARED:
        return ("private", id(mm), uaddr)
    vma = mm.find_vma(uaddr)
    if vma is None:
        raise Errno(EFAULT)
    if vma.vm_flags & VM_SHARED:
        pa = user_page(mm, uaddr, write)       # get_user_pages: EFAULT if it cannot
        return ("page", pa >> 12, uaddr & 0xFFF)
    if vma.vm_flags & VM_WRITE:
        # A write fault makes the page anonymous (breaks CoW): keyed by
        # the address space, apart from the private key.
        return ("mm", id(mm), uaddr)
    if vma.vm_file is None or write:
        raise Errno(EFAULT)                    # a read-only anonymous (or zero) page
    pa = user_page(mm, uaddr, False)           # a page-cache page, as an inode key
    return ("page", pa >> 12, uaddr & 0xFFF)


def _queue(key: tuple) -> wait_queue_head:
    q = state.K.futex_queues.get(key)
    if q is None:
        q = state.K.futex_queues[key] = wait_queue_head()
    return q


def _drop_if_empty(key: tuple) -> None:
    q = state.K.futex_queues.get(key)
    if q is not None and not q.waiters:
        del state.K.futex_queues[key]


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def futex_wake_key(key: tuple, nr_wake: int, bitset: int = FUTEX_BITSET_MATCH_ANY) -> int:
    """Wake waiters on key whose bitset meets `bitset`.  As in Linux the
    count is checked after each wake, so nr_wake <= 0 still wakes one."""
    q = state.K.futex_queues.get(key)
    if q is None:
        return 0
    ret = 0
    for t in list(q.waiters):
        fq = state.K.futex_q.get(t)
        if fq is None:
            raise BUG(f"futex_wake_key: task {t.pid} queued without a futex_q")
        if not fq.bitset & bitset:
            continue
        fq.woken = True
        wake_up_process(t)
        ret += 1
        if ret >= nr_wake:
            break
    _drop_if_empty(key)
    return ret


def futex_wake_addr(uaddr: int, nr: int) -> int:
    """The FUTEX_WAKE the kernel itself makes on a user word (clear_child_tid
    at exit, a dead robust-futex owner): always on the shared key."""
    try:
        return futex_wake_key(get_futex_key(uaddr, FLAGS_SHARED), nr)
    except Errno:
        return 0


def futex_wait(uaddr: int, flags: int, val: int, deadline: int, bitset: int) -> int:
    """Sleep if the word still holds val, until woken (0), past `deadline`
    (monotonic ns, -1 none: ETIMEDOUT), or interrupted by a signal
    (-ERESTARTSYS, -ERESTART_RESTARTBLOCK with a timeout).  May sleep."""
    if not bitset:
        raise Errno(EINVAL)
    key = get_futex_key(uaddr, flags)
    if get_user_u32(uaddr) != val:
        raise Errno(EAGAIN)
    tsk = current()
    old = state.K.futex_q.get(tsk)  # left by a wait a signal cut short
    if old is not None:
        _drop_if_empty(old.key)
    fq = futex_q(key, bitset)
    state.K.futex_q[tsk] = fq

    def dequeue() -> None:
        # Nothing holds us on a queue now; fq.key is where a requeue put us.
        if state.K.futex_q.get(tsk) is fq:
            del state.K.futex_q[tsk]
        _drop_if_empty(fq.key)

    def interrupted() -> int:
        # A signal: -ERESTARTSYS, or with a timeout a restart through
        # restart_syscall that waits again until the same deadline
        # (futex_wait_restart), which a handler turns into EINTR.
        dequeue()
        if deadline < 0:
            raise Errno(ERESTARTSYS)
        tsk.restart_block = lambda: futex_wait(uaddr, flags, val, deadline, bitset)
        raise Errno(ERESTART_RESTARTBLOCK)

    def after_sleep() -> int:
        if fq.woken:
            dequeue()
            return 0
        if tsk.timed_out:
            dequeue()
            tsk.timed_out = False
            raise Errno(ETIMEDOUT)
        if signal_pending(tsk):
            return interrupted()
        # Woken by neither: as Linux, wait again from the start, on the
        # original word and value.
        dequeue()
        return futex_wait(uaddr, flags, val, deadline, bitset)
    raise BlockOn([_queue(key)], after_sleep, deadline, interrupted=interrupted)


def futex_requeue(uaddr1: int, flags: int, uaddr2: int, nr_wake: int, nr_requeue: int,
                  cmpval: int | None) -> int:
    """Wake nr_wake waiters of uaddr1 and move up to nr_requeue more to
    uaddr2; returns how many were woken or moved."""
    if nr_wake < 0 or nr_requeue < 0:
        raise Errno(EINVAL)
    key1 = get_futex_key(uaddr1, flags)
    key2 = get_futex_key(uaddr2, flags)
    if cmpval is not None and get_user_u32(uaddr1) != cmpval:
        raise Errno(EAGAIN)
    q1 = state.K.futex_queues.get(key1)
    if q1 is None:
        return 0
    task_count = 0
    for t in list(q1.waiters):
        if task_count - nr_wake >= nr_requeue:
            break
        task_count += 1
        fq = state.K.futex_q.get(t)
        if fq is None:
            raise BUG(f"futex_requeue: task {t.pid} queued without a futex_q")
        if task_count <= nr_wake:
            fq.woken = True
            wake_up_process(t)
            continue
        if key2 == key1:                  # counted, not moved (same hash chain)
            continue
        q2 = _queue(key2)
        q1.waiters.remove(t)
        t.wait_on.remove(q1)
        q2.waiters.append(t)
        t.wait_on.append(q2)
        fq.key = key2
    _drop_if_empty(key1)
    return task_count


def futex_atomic_op_inuser(encoded_op: int, uaddr: int) -> bool:
    """Apply WAKE_OP's operation to the word at uaddr; return whether its
    comparison holds for the old value.  An unknown operation is ENOSYS
    before the word is touched; an unknown comparison is ENOSYS after."""
    op = (encoded_op >> 28) & 7
    cmp = (encoded_op >> 24) & 15
    oparg = _sext12((encoded_op >> 12) & 0xFFF)
    cmparg = _sext12(encoded_op & 0xFFF)
    if encoded_op & (FUTEX_OP_OPARG_SHIFT << 28):
        oparg = 1 << (oparg & 31)             # Linux masks a bad shift (and logs it)
    if op > FUTEX_OP_XOR:
        raise Errno(ENOSYS)
    old = get_user_u32(uaddr)
    new = [oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg][op]
    put_user_u32(uaddr, new)
    sold = _s32(old)
    if cmp > 5:
        raise Errno(ENOSYS)
    return [sold == cmparg, sold != cmparg, sold < cmparg, sold <= cmparg,
            sold > cmparg, sold >= cmparg][cmp]


def _sext12(v: int) -> int:
    return v - 0x1000 if v & 0x800 else v


def futex_wake_op(uaddr1: int, flags: int, uaddr2: int, nr_wake: int, nr_wake2: int,
                  op: int) -> int:
    key1 = get_futex_key(uaddr1, flags)
    key2 = get_futex_key(uaddr2, flags, write=True)
    # The operation first: if it fails, nobody is woken.
    cond = futex_atomic_op_inuser(op, uaddr2)
    ret = futex_wake_key(key1, nr_wake)
    if cond:
        ret += futex_wake_key(key2, nr_wake2)
    return ret


def futex_init_timeout(utime: int, cmd: int, flags: int) -> int:
    """The deadline, as virtual monotonic ns, of a futex wait's timeout:
    relative for FUTEX_WAIT, absolute otherwise (CLOCK_REALTIME with
    FUTEX_CLOCK_REALTIME)."""
    sec, nsec = struct.unpack("<qq", copy_from_user(utime, 16))
    if sec < 0 or not 0 <= nsec < NSEC_PER_SEC:          # timespec64_valid
        raise Errno(EINVAL)
    ns = sec * NSEC_PER_SEC + nsec
    if cmd == FUTEX_WAIT:
        return ktime_get_ns() + ns
    if flags & FLAGS_CLOCKRT:
        from .time.timekeeping import real_offset
        return max(0, ns - real_offset())   # before the virtual epoch: already past
    return ns


_HAS_TIMEOUT = (FUTEX_WAIT, FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_WAIT_BITSET,
                FUTEX_WAIT_REQUEUE_PI)


@syscall("futex")
def sys_futex(uaddr: UPtr, op: c_int, val: c_uint, utime: c_ulong, uaddr2: UPtr,
              val3: c_uint) -> int:
    # utime is the timeout for the waits and the second count (val2) for
    # the requeues and WAKE_OP.
    cmd = op & FUTEX_CMD_MASK
    flags = futex_to_flags(op)
    deadline = -1
    if utime and cmd in _HAS_TIMEOUT:
        deadline = futex_init_timeout(utime, cmd, flags)
    if flags & FLAGS_CLOCKRT and cmd not in (FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI,
                                             FUTEX_LOCK_PI2):
        raise Errno(ENOSYS)
    if cmd == FUTEX_WAIT:
        return futex_wait(uaddr, flags, val, deadline, FUTEX_BITSET_MATCH_ANY)
    if cmd == FUTEX_WAIT_BITSET:
        return futex_wait(uaddr, flags, val, deadline, val3)
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        bitset = FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAKE else val3
        if not bitset:
            raise Errno(EINVAL)
        return futex_wake_key(get_futex_key(uaddr, flags), _s32(val), bitset)
    if cmd == FUTEX_REQUEUE:
        return futex_requeue(uaddr, flags, uaddr2, _s32(val), _s32(utime), None)
    if cmd == FUTEX_CMP_REQUEUE:
        return futex_requeue(uaddr, flags, uaddr2, _s32(val), _s32(utime), val3)
    if cmd == FUTEX_WAKE_OP:
        return futex_wake_op(uaddr, flags, uaddr2, _s32(val), _s32(utime), val3)
    # The PI operations are not implemented; FUTEX_FD is gone from Linux.
    raise Errno(ENOSYS)


@syscall("set_robust_list")
def sys_set_robust_list(head: UPtr, len_: size_t) -> int:
    if len_ != 24:                             # sizeof(struct robust_list_head)
        raise Errno(EINVAL)
    tsk = current()
    tsk.robust_list = head
    tsk.robust_list_len = len_
    return 0


@syscall("get_robust_list")
def sys_get_robust_list(pid: c_int, head_ptr: UPtr, len_ptr: UPtr) -> int:
    tsk = current() if pid == 0 else find_task_by_vpid(pid)
    if tsk is None:
        raise Errno(ESRCH)
    put_user_u64(len_ptr, 24)
    put_user_u64(head_ptr, tsk.robust_list)
    return 0


def handle_futex_death(uaddr: int, tsk: task_struct, pi: bool, pending_op: bool) -> bool:
    """One futex of a dying thread's robust list: if it owns it, mark it
    FUTEX_OWNER_DIED and wake a waiter.  False stops the walk."""
    if uaddr & 3:
        return False
    try:
        uval = get_user_u32(uaddr)
    except Errno:
        return False
    # A lock being released (pending, already 0) may have a waiter the
    # unlocking thread did not get to wake.
    if pending_op and not pi and not uval:
        futex_wake_addr(uaddr, 1)
        return True
    if uval & FUTEX_TID_MASK != task_pid_nr_ns(tsk, task_active_pid_ns(tsk)):
        return True
    try:
        put_user_u32(uaddr, (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED)
    except Errno:
        return False
    if not pi and uval & FUTEX_WAITERS:
        futex_wake_addr(uaddr, 1)
    return True


def _fetch_robust_entry(uaddr: int) -> tuple[int, bool]:
    ptr = struct.unpack("<Q", copy_from_user(uaddr, 8))[0]
    return ptr & ~1, bool(ptr & 1)


def exit_robust_list(tsk: task_struct) -> None:
    """futex_exit_release for a dying thread (current): walk its robust
    list as exit_robust_list does.  A bad list is silently dropped."""
    fq = state.K.futex_q.pop(tsk, None)
    if fq is not None:
        _drop_if_empty(fq.key)
    head = tsk.robust_list
    tsk.robust_list = 0
    if not head or tsk.mm is None:
        return
    try:
        entry, pi = _fetch_robust_entry(head)
        futex_offset = struct.unpack("<q", copy_from_user(head + 8, 8))[0]
        pending, pip = _fetch_robust_entry(head + 16)
    except Errno:
        return
    limit = ROBUST_LIST_LIMIT
    while entry != head:
        try:
            nxt, next_pi = _fetch_robust_entry(entry)
            fault = False
        except Errno:
            fault = True
        # A pending lock may be on the list too: handled once, below.
        if entry != pending and not handle_futex_death(
                (entry + futex_offset) & 0xFFFF_FFFF_FFFF_FFFF, tsk, pi, False):
            return
        if fault:
            return
        entry, pi = nxt, next_pi
        limit -= 1
        if not limit:
            break
    if pending:
        handle_futex_death((pending + futex_offset) & 0xFFFF_FFFF_FFFF_FFFF, tsk, pip, True)
