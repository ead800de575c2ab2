"""kernel/futex.py against Linux's rules (kernel/futex/*.c, 6.x), with user
memory and the scheduler replaced by small fakes: WAKE_OP's operation and
comparison, the wake and requeue counts (including Linux's quirks: a count
of 0 or -1 still wakes one in WAKE), the timeout conversion and the
syscall's order of checks.  guest/futex_ops checks the same end to end
against the host kernel."""
from __future__ import annotations

import struct
from types import SimpleNamespace

import pytest

from kernel import futex, state
from kernel.futex import (
    FUTEX_CLOCK_REALTIME, FUTEX_CMP_REQUEUE, FUTEX_OP_ADD, FUTEX_OP_ANDN, FUTEX_OP_OPARG_SHIFT,
    FUTEX_OP_OR, FUTEX_OP_SET, FUTEX_OP_XOR, FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_WAIT,
    FUTEX_WAIT_BITSET, FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP, futex_atomic_op_inuser,
    futex_q, futex_requeue, futex_wake_key, sys_futex,
)
from kernel.panic import Errno
from kernel.time.timekeeping import REALTIME_BASE_NS
from kernel.sched.wait import add_wait
from kernel.task import signal_struct, task_struct
from kernel.uapi import EAGAIN, EFAULT, EINVAL, ENOSYS, ERESTART_RESTARTBLOCK, ERESTARTSYS

CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE = range(6)


def encode(op: int, oparg: int, cmp: int, cmparg: int) -> int:
    return ((op & 0xF) << 28) | ((cmp & 0xF) << 24) | ((oparg & 0xFFF) << 12) | (cmparg & 0xFFF)


class FakeMemory:
    """u32 words at addresses; anything else faults."""

    def __init__(self, words: dict[int, int], readonly: set[int] = frozenset()) -> None:
        self.words = dict(words)
        self.readonly = set(readonly)

    def get(self, uaddr: int) -> int:
        if uaddr not in self.words:
            raise Errno(EFAULT)
        return self.words[uaddr]

    def put(self, uaddr: int, v: int) -> None:
        if uaddr not in self.words or uaddr in self.readonly:
            raise Errno(EFAULT)
        self.words[uaddr] = v & 0xFFFFFFFF


@pytest.fixture
def mem(monkeypatch) -> FakeMemory:
    m = FakeMemory({0x1000: 0, 0x2000: 0, 0x3000: 0})
    monkeypatch.setattr(futex, "get_user_u32", m.get)
    monkeypatch.setattr(futex, "put_user_u32", m.put)
    return m


# (old, op, oparg, cmp, cmparg) -> (new, comparison or errno); values as
# Linux's futex_atomic_op_inuser computes them (oparg and cmparg are
# sign-extended 12-bit fields, the comparison is on the signed old value).
WAKE_OP_TABLE = [
    (3, FUTEX_OP_SET, 5, CMP_EQ, 3, 5, True),
    (3, FUTEX_OP_SET, 5, CMP_EQ, 4, 5, False),
    (3, FUTEX_OP_ADD, 1, CMP_NE, 3, 4, False),
    (0, FUTEX_OP_ADD, 0xFFF, CMP_LT, 0, 0xFFFFFFFF, False),      # ADD -1
    (0xFFFFFFFF, FUTEX_OP_ADD, 1, CMP_LT, 0, 0, True),           # old is -1
    (0xFFFFFFFF, FUTEX_OP_ADD, 1, CMP_LT, 0xFFF, 0, False),      # -1 < -1
    (5, FUTEX_OP_OR, 0x30, CMP_LE, 5, 0x35, True),
    (0x1234, FUTEX_OP_ANDN, 0xF, CMP_GT, 0x7FF, 0x1230, True),
    (0x80000000, FUTEX_OP_ANDN, 0xF, CMP_GT, 0x800, 0x80000000, False),  # cmparg -2048
    (9, FUTEX_OP_XOR, 0xFF, CMP_GE, 9, 0xF6, True),
    (9, FUTEX_OP_XOR, 0xFF, CMP_GE, 10, 0xF6, False),
    (0, FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 4, CMP_EQ, 0, 0x10, True),
    (1, FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 31, CMP_NE, 0, 0x80000001, True),
    (0, FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 40, CMP_EQ, 0, 0x100, True),   # shift & 31
    (3, 5, 1, CMP_EQ, 3, 3, ENOSYS),                             # unknown op: untouched
    (3, 7, 1, CMP_EQ, 3, 3, ENOSYS),
    (3, FUTEX_OP_SET, 9, 6, 3, 9, ENOSYS),                       # unknown cmp: after the op
    (3, FUTEX_OP_SET, 9, 15, 3, 9, ENOSYS),
]


@pytest.mark.parametrize("old, op, oparg, cmp, cmparg, new, outcome", WAKE_OP_TABLE)
def test_wake_op_operation(mem, old, op, oparg, cmp, cmparg, new, outcome) -> None:
    mem.words[0x2000] = old
    try:
        got = futex_atomic_op_inuser(encode(op, oparg, cmp, cmparg), 0x2000)
    except Errno as e:
        got = e.errno
    assert got is outcome if isinstance(outcome, bool) else got == outcome
    assert mem.words[0x2000] == new


def test_wake_op_read_only_word_faults_untouched(mem) -> None:
    mem.words[0x2000] = 7
    mem.readonly.add(0x2000)
    with pytest.raises(Errno) as ei:
        futex_atomic_op_inuser(encode(FUTEX_OP_SET, 1, CMP_EQ, 0), 0x2000)
    assert ei.value.errno == EFAULT
    assert mem.words[0x2000] == 7


# --- wake and requeue counts ------------------------------------------------

class Sched:
    """Records wake-ups instead of scheduling."""

    def __init__(self) -> None:
        self.woken: list[task_struct] = []

    def wake_up_process(self, t: task_struct) -> bool:
        from kernel.sched.wait import remove_wait
        remove_wait(t)
        self.woken.append(t)
        return True


@pytest.fixture
def sched(monkeypatch, mem) -> Sched:
    s = Sched()
    monkeypatch.setattr(futex, "wake_up_process", s.wake_up_process)
    monkeypatch.setattr(futex, "get_futex_key", lambda uaddr, flags, write=False: ("k", uaddr))
    monkeypatch.setattr(state, "K", SimpleNamespace(futex_queues={}, futex_q={},
                                                    real_offset=REALTIME_BASE_NS))
    return s


def park(uaddr: int, bitsets: list[int]) -> list[task_struct]:
    """Waiters asleep on uaddr, in order."""
    tasks = []
    for i, b in enumerate(bitsets):
        t = task_struct(pid=100 + len(state.K.futex_q) + i, tgid=100)
        key = ("k", uaddr)
        state.K.futex_q[t] = futex_q(key, b)
        add_wait(t, [futex._queue(key)])
        tasks.append(t)
    return tasks


def waiting(uaddr: int) -> list[task_struct]:
    q = state.K.futex_queues.get(("k", uaddr))
    return list(q.waiters) if q else []


@pytest.mark.parametrize("n, nr_wake, expect", [
    (5, 2, 2), (5, 10, 5), (5, 0, 1), (5, -1, 1), (0, 1, 0), (1, 0x7FFFFFFF, 1),
])
def test_wake_count(sched, n: int, nr_wake: int, expect: int) -> None:
    ts = park(0x1000, [0xFFFFFFFF] * n)
    assert futex_wake_key(("k", 0x1000), nr_wake) == expect
    assert sched.woken == ts[:expect]                  # FIFO among equals
    assert all(state.K.futex_q[t].woken for t in sched.woken)
    assert waiting(0x1000) == ts[expect:]


def test_wake_bitset_selects(sched) -> None:
    ts = park(0x1000, [1, 2, 4, 3])
    assert futex_wake_key(("k", 0x1000), 100, 2) == 2
    assert sched.woken == [ts[1], ts[3]]
    assert futex_wake_key(("k", 0x1000), 100, 8) == 0
    assert futex_wake_key(("k", 0x1000), 100) == 2      # MATCH_ANY takes the rest


def linux_requeue(n: int, nr_wake: int, nr_requeue: int) -> tuple[int, int, int]:
    """futex_requeue's loop (non-PI): (returned, woken, moved)."""
    task_count = woken = moved = 0
    for _ in range(n):
        if task_count - nr_wake >= nr_requeue:
            break
        task_count += 1
        if task_count <= nr_wake:
            woken += 1
        else:
            moved += 1
    return task_count, woken, moved


@pytest.mark.parametrize("n, nr_wake, nr_requeue", [
    (5, 1, 2), (5, 0, 0), (5, 0, 1), (5, 0, 100), (5, 100, 0), (5, 2, 100), (0, 1, 1), (3, 3, 3),
])
def test_requeue_counts(sched, n: int, nr_wake: int, nr_requeue: int) -> None:
    ts = park(0x1000, [0xFFFFFFFF] * n)
    ret, woken, moved = linux_requeue(n, nr_wake, nr_requeue)
    assert futex_requeue(0x1000, 0, 0x2000, nr_wake, nr_requeue, None) == ret
    assert sched.woken == ts[:woken]
    assert waiting(0x2000) == ts[woken:woken + moved]
    assert waiting(0x1000) == ts[woken + moved:]
    for t in waiting(0x2000):
        assert state.K.futex_q[t].key == ("k", 0x2000)    # a later wake finds it there
        assert t.wait_on == [state.K.futex_queues[("k", 0x2000)]]


@pytest.mark.parametrize("nr_wake, nr_requeue", [(-1, 1), (1, -1)])
def test_requeue_negative_counts_einval(sched, nr_wake: int, nr_requeue: int) -> None:
    park(0x1000, [0xFFFFFFFF])
    with pytest.raises(Errno) as ei:
        futex_requeue(0x1000, 0, 0x2000, nr_wake, nr_requeue, None)
    assert ei.value.errno == EINVAL
    assert sched.woken == []


def test_cmp_requeue_checks_the_word(sched, mem) -> None:
    park(0x1000, [0xFFFFFFFF] * 2)
    mem.words[0x1000] = 7
    with pytest.raises(Errno) as ei:
        futex_requeue(0x1000, 0, 0x2000, 1, 1, 6)
    assert ei.value.errno == EAGAIN
    assert futex_requeue(0x1000, 0, 0x2000, 1, 1, 7) == 2


# --- the syscall: order of checks and timeouts --------------------------------

def call(op: int, val: int = 0, utime: int = 0, uaddr: int = 0x1000, uaddr2: int = 0x2000,
         val3: int = 0) -> int:
    try:
        return sys_futex(uaddr, op, val, utime, uaddr2, val3)
    except Errno as e:
        return -e.errno


@pytest.fixture
def timeouts(monkeypatch, sched):
    """A timespec at 0x5000 (set by the test); the virtual clock at 1 s;
    futex_wait records its deadline instead of sleeping."""
    ts = {}

    def copy_from_user(uaddr: int, n: int) -> bytes:
        if uaddr != 0x5000 or "v" not in ts:
            raise Errno(EFAULT)
        return struct.pack("<qq", *ts["v"])
    monkeypatch.setattr(futex, "copy_from_user", copy_from_user)
    monkeypatch.setattr(futex, "ktime_get_ns", lambda: 1_000_000_000)
    seen: dict[str, int | None] = {}

    def futex_wait(uaddr, flags, val, deadline, bitset):
        seen["deadline"] = deadline
        return 0
    monkeypatch.setattr(futex, "futex_wait", futex_wait)
    return ts, seen


@pytest.mark.parametrize("op, tv, deadline", [
    (FUTEX_WAIT, (0, 5), 1_000_000_005),                       # relative
    (FUTEX_WAIT_BITSET, (3, 0), 3_000_000_000),                # absolute monotonic
    (FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, (1_767_225_602, 0), 2_000_000_000),
    (FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, (0, 0), 0),     # before the epoch: past
    (FUTEX_WAIT | FUTEX_PRIVATE_FLAG, (0, 0), 1_000_000_000),
])
def test_timeout_deadline(timeouts, op: int, tv, deadline: int) -> None:
    ts, seen = timeouts
    ts["v"] = tv
    assert call(op, utime=0x5000, val3=1) == 0
    assert seen["deadline"] == deadline


@pytest.mark.parametrize("op, tv, utime, errno", [
    (FUTEX_WAIT, (0, 1_000_000_000), 0x5000, EINVAL),
    (FUTEX_WAIT, (-1, 0), 0x5000, EINVAL),
    (FUTEX_WAIT, (0, -1), 0x5000, EINVAL),
    (FUTEX_WAIT, None, 0x6000, EFAULT),
    (FUTEX_WAIT | FUTEX_CLOCK_REALTIME, None, 0x6000, EFAULT),     # before ENOSYS
    (FUTEX_WAIT | FUTEX_CLOCK_REALTIME, (0, 1), 0x5000, ENOSYS),
    (FUTEX_WAKE | FUTEX_CLOCK_REALTIME, None, 0x6000, ENOSYS),     # no timeout to read
    (FUTEX_REQUEUE | FUTEX_CLOCK_REALTIME, None, 1, ENOSYS),
])
def test_timeout_checked_first(timeouts, op: int, tv, utime: int, errno: int) -> None:
    ts, _seen = timeouts
    if tv is not None:
        ts["v"] = tv
    assert call(op, utime=utime) == -errno


@pytest.mark.parametrize("op", [2, 6, 7, 8, 11, 12, 13, 14, 20, 127, 0x200, 0x200 | FUTEX_WAKE])
def test_unknown_and_unimplemented_ops_enosys(sched, op: int) -> None:
    assert call(op) == -ENOSYS


def test_wake_counts_are_ints(sched) -> None:
    park(0x1000, [0xFFFFFFFF] * 3)
    assert call(FUTEX_WAKE, val=0xFFFFFFFF) == 1        # -1: still one
    assert call(FUTEX_WAKE_BITSET, val=10, val3=0) == -EINVAL
    assert call(FUTEX_REQUEUE, val=1, utime=0xFFFFFFFF) == -EINVAL   # nr_requeue -1
    assert call(FUTEX_REQUEUE, val=1, utime=(1 << 32) | 1) == 2      # only the low 32 bits
    assert call(FUTEX_CMP_REQUEUE, val=0, utime=1, val3=1) == -EAGAIN


def test_wake_op_wakes_after_the_op(sched, mem) -> None:
    w1 = park(0x1000, [1])
    w2 = park(0x2000, [1, 1])
    mem.words[0x2000] = 0
    # The comparison holds: one from each word (bitsets do not matter here).
    assert call(FUTEX_WAKE_OP, val=1, utime=1, val3=encode(FUTEX_OP_ADD, 1, CMP_EQ, 0)) == 2
    assert sched.woken == [w1[0], w2[0]]
    assert mem.words[0x2000] == 1
    # An unknown comparison: the op is done, nobody is woken.
    assert call(FUTEX_WAKE_OP, val=1, utime=1, val3=encode(FUTEX_OP_SET, 5, 9, 0)) == -ENOSYS
    assert mem.words[0x2000] == 5 and waiting(0x2000) == [w2[1]]


def test_wake_op_xor_and_andn_stay_32_bit(sched, mem) -> None:
    mem.words[0x2000] = 0
    assert call(FUTEX_WAKE_OP, val=1, utime=1, val3=encode(FUTEX_OP_ANDN, 0, CMP_EQ, 0)) == 0
    assert mem.words[0x2000] == 0
    assert call(FUTEX_WAKE_OP, val=1, utime=1, val3=encode(FUTEX_OP_XOR, 0xFFF, CMP_EQ, 0)) == 0
    assert mem.words[0x2000] == 0xFFFFFFFF              # XOR with -1


def test_requeue_to_the_same_word_counts_without_moving(sched) -> None:
    ts = park(0x1000, [0xFFFFFFFF] * 3)
    assert futex_requeue(0x1000, 0, 0x1000, 0, 0x7FFFFFFF, 0) == 3
    assert futex_requeue(0x1000, 0, 0x1000, 0, 2, 0) == 2
    assert sched.woken == [] and waiting(0x1000) == ts


def test_wait_woken_by_neither_waits_again_from_the_start(monkeypatch, sched, mem) -> None:
    """A sleep ended by no futex wake, no timeout and no signal starts
    futex_wait over on the original word -- even after a requeue -- and
    gives EAGAIN if the word changed meanwhile."""
    from kernel.sched.wait import BlockOn
    t = task_struct(pid=200, tgid=200, signal=signal_struct())
    monkeypatch.setattr(futex, "current", lambda: t)
    with pytest.raises(BlockOn) as bi:
        futex.futex_wait(0x1000, 0, 0, -1, 0xFFFFFFFF)
    add_wait(t, bi.value.queues)
    assert futex_requeue(0x1000, 0, 0x2000, 0, 1, None) == 1   # now on 0x2000
    from kernel.sched.wait import remove_wait
    remove_wait(t)                                              # a stray wake-up
    with pytest.raises(BlockOn) as again:
        bi.value.cont()
    assert again.value.queues == [state.K.futex_queues[("k", 0x1000)]]
    mem.words[0x1000] = 1
    with pytest.raises(Errno) as ei:
        again.value.cont()
    assert ei.value.errno == EAGAIN


@pytest.mark.parametrize("deadline, code", [(-1, ERESTARTSYS), (10**12, ERESTART_RESTARTBLOCK)])
def test_wait_interrupted_by_a_signal(monkeypatch, sched, mem, deadline, code) -> None:
    """A signal ends the wait with -ERESTARTSYS (a restart under SA_RESTART),
    or, with a timeout, -ERESTART_RESTARTBLOCK and a restart_block that
    waits again until the same deadline (futex_wait_restart) -- without
    looking at the word first, even if it changed; the task leaves the
    futex's queue either way."""
    from kernel.sched.wait import BlockOn, remove_wait
    t = task_struct(pid=200, tgid=200, signal=signal_struct())
    monkeypatch.setattr(futex, "current", lambda: t)
    with pytest.raises(BlockOn) as bi:
        futex.futex_wait(0x1000, 0, 0, deadline, 0xFFFFFFFF)
    add_wait(t, bi.value.queues)
    t.pending = 1 << 9                      # SIGUSR1 arrives and wakes us
    remove_wait(t)
    mem.words[0x1000] = 5
    with pytest.raises(Errno) as ei:
        bi.value.cont()
    assert ei.value.errno == code
    assert t not in state.K.futex_q and ("k", 0x1000) not in state.K.futex_queues
    if deadline < 0:
        assert t.restart_block is None
    else:
        mem.words[0x1000] = 0
        t.pending = 0
        with pytest.raises(BlockOn) as again:       # restart_syscall: waits on
            t.restart_block()
        assert again.value.deadline == deadline
    # A signal pending before the sleep: the entry ends the wait at once.
    t.pending, t.restart_block = 1 << 9, None
    mem.words[0x1000] = 0
    with pytest.raises(BlockOn) as bi:
        futex.futex_wait(0x1000, 0, 0, deadline, 0xFFFFFFFF)
    assert bi.value.interrupted_result() == -code
    assert t not in state.K.futex_q
