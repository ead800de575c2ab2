"""Pid allocation (kernel/pid.py): cyclic, wrapping to RESERVED_PIDS at
pid_max, never handing out a pid in use; and end to end, a guest that
forks more children in turn than pid_max allows pids."""
from __future__ import annotations

import random
import re
import subprocess

import pytest

from conftest import REPO, run_tinyunix
from kernel.panic import Errno, KernelBug
from kernel.pid import RESERVED_PIDS, PidAllocator
from kernel.uapi import EAGAIN

PID_MAX = 400


def test_first_pids_are_sequential_from_one():
    p = PidAllocator(pid_max=PID_MAX)
    assert [p.alloc_pid() for _ in range(5)] == [1, 2, 3, 4, 5]


def test_freed_pid_not_reused_before_wrap():
    p = PidAllocator(pid_max=PID_MAX)
    a, b = p.alloc_pid(), p.alloc_pid()
    p.free_pid(a)
    assert p.alloc_pid() == b + 1            # cyclic: goes on, not back to a


def test_wrap_to_reserved_pids_skipping_used():
    p = PidAllocator(pid_max=PID_MAX)
    got = [p.alloc_pid() for _ in range(PID_MAX - 1)]
    assert got == list(range(1, PID_MAX))
    # All in use: nothing left.
    with pytest.raises(Errno) as ei:
        p.alloc_pid()
    assert ei.value.errno == EAGAIN
    # Free some above and below RESERVED_PIDS.
    for nr in (5, 299, RESERVED_PIDS + 7, RESERVED_PIDS + 3, PID_MAX - 1):
        p.free_pid(nr)
    # After pid_max - 1 the search wraps to RESERVED_PIDS, skips pids in use,
    # and returns the free ones in increasing order.
    assert p.alloc_pid() == RESERVED_PIDS + 3
    assert p.alloc_pid() == RESERVED_PIDS + 7
    assert p.alloc_pid() == PID_MAX - 1
    # Like Linux, pids below RESERVED_PIDS are not handed out again once
    # the counter has wrapped: 5 and 299 stay unused.
    with pytest.raises(Errno) as ei:
        p.alloc_pid()
    assert ei.value.errno == EAGAIN
    assert 5 not in p.used and 299 not in p.used


def test_wrap_when_last_pid_freed_continues_at_reserved():
    p = PidAllocator(pid_max=PID_MAX)
    for _ in range(PID_MAX - 1):
        p.alloc_pid()
    for nr in range(RESERVED_PIDS, PID_MAX):
        p.free_pid(nr)
    # last is PID_MAX - 1: the next is RESERVED_PIDS, not PID_MAX.
    assert p.alloc_pid() == RESERVED_PIDS
    assert p.alloc_pid() == RESERVED_PIDS + 1


def test_eagain_then_freed_pid_available():
    p = PidAllocator(pid_max=PID_MAX)
    for _ in range(PID_MAX - 1):
        p.alloc_pid()
    with pytest.raises(Errno) as ei:
        p.alloc_pid()
    assert ei.value.errno == EAGAIN
    p.free_pid(350)
    assert p.alloc_pid() == 350
    with pytest.raises(Errno):
        p.alloc_pid()
    # EAGAIN changed nothing.
    assert len(p.used) == PID_MAX - 1


def test_free_pid_not_in_use_is_a_bug():
    p = PidAllocator(pid_max=PID_MAX)
    nr = p.alloc_pid()
    p.free_pid(nr)
    with pytest.raises(KernelBug):
        p.free_pid(nr)
    with pytest.raises(KernelBug):
        p.free_pid(123)


def test_never_twice_while_in_use_random_churn():
    rng = random.Random(1234)
    p = PidAllocator(pid_max=PID_MAX)
    held: set[int] = set()
    wrapped = False
    last = 0
    for step in range(20000):
        if held and (len(held) > 80 or rng.random() < 0.45):
            nr = rng.choice(sorted(held))
            held.remove(nr)
            p.free_pid(nr)
            continue
        nr = p.alloc_pid()
        assert nr not in held, f"step {step}: pid {nr} handed out twice"
        assert 1 <= nr < PID_MAX
        if nr < last:
            wrapped = True
        if wrapped:
            assert nr >= RESERVED_PIDS
        last = nr
        held.add(nr)
        assert p.used == held
    assert wrapped


def test_small_pid_max_wraps_to_one():
    # With pid_max no larger than RESERVED_PIDS + 1 the wrap goes to 1.
    p = PidAllocator(pid_max=10)
    assert [p.alloc_pid() for _ in range(9)] == list(range(1, 10))
    p.free_pid(2)
    p.free_pid(7)
    assert p.alloc_pid() == 2
    assert p.alloc_pid() == 7
    with pytest.raises(Errno):
        p.alloc_pid()


# --- end to end ------------------------------------------------------------

PROCS_CHURN = REPO / "bench" / "build" / "procs_churn"


@pytest.fixture(scope="module")
def procs_churn():
    if not PROCS_CHURN.exists():
        r = subprocess.run(["make", "-s", "-C", str(REPO / "bench"), "build/procs_churn"],
                           capture_output=True, text=True)
        if r.returncode != 0 or not PROCS_CHURN.exists():
            pytest.skip(f"cannot build bench/build/procs_churn:\n{r.stdout}{r.stderr}")
    return PROCS_CHURN


def test_fork_more_children_than_pid_max(procs_churn):
    n = 3 * PID_MAX
    r = run_tinyunix(procs_churn, [str(n)], options=["--stats", "--pid-max", str(PID_MAX)])
    err = r.stderr.decode("utf-8", "replace")
    assert r.status == 0, err[-2000:]
    m = re.search(rb"procs_churn (\d+) wraps (\d+)", r.stdout)
    assert m, r.stdout
    assert int(m.group(1)) == n
    # ~100 pids (RESERVED_PIDS..pid_max-1) per cycle after the first pass.
    assert int(m.group(2)) >= (n - PID_MAX) // (PID_MAX - RESERVED_PIDS) - 1
    fm = re.search(r"frames in use: (\d+)", err)
    assert fm and int(fm.group(1)) == 0, err[-2000:]
    forks = re.search(r"forks: (\d+)", err)
    assert forks and int(forks.group(1)) == n
