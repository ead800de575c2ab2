"""Resource limits (issue 6): the OOM killer, pid exhaustion and a fork
bomb, and fault injection (--fail-alloc).  These guests eat memory or
processes without bound, so they run only under tinyunix; what they print
is checked against what Linux's rules give, and every run must end with
no Python traceback, no kernel BUG and every frame free."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import Run, run_tinyunix


def frames_in_use(r: Run) -> int:
    m = re.search(r"frames in use: (\d+)", r.stderr.decode("utf-8", "replace"))
    assert m, f"no --stats output:\n{r.stderr.decode('utf-8', 'replace')[-2000:]}"
    return int(m.group(1))


def frames_allocated(r: Run) -> int:
    m = re.search(r"frames allocated: (\d+)", r.stderr.decode("utf-8", "replace"))
    assert m, "no 'frames allocated' line in --stats"
    return int(m.group(1))


def no_kernel_error(r: Run) -> str:
    err = r.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err[-3000:]
    assert "kernel BUG" not in err, err[-3000:]
    return err


# --- OOM ---------------------------------------------------------------------

def test_oom_kills_the_biggest_process_and_the_rest_lives(guests: Path) -> None:
    """guest/oom with 64 MiB of guest RAM: the hog that faults is killed by
    SIGKILL; then, while a sleeping child holds 40 MiB, the parent's own
    fault kills the sleeper (larger RSS), not the parent (oom_badness)."""
    # No --check: it would audit every one of ~37000 page faults.
    r = run_tinyunix(guests / "oom", options=["--memory", "64M", "--stats"], check=False)
    err = no_kernel_error(r)
    assert r.stdout.decode() == (
        "child killed by signal 9\n"
        "parent allocated 8 MiB after the kill\n"
        "bystander exited with 7\n"
        "parent touched 32 MiB while the sleeper held 40 MiB\n"
        "sleeping child killed by signal 9\n"), err
    assert r.status == 0
    kills = re.findall(r"Out of memory: Killed process (\d+) \(oom\)", err)
    assert len(kills) == 2, err
    assert frames_in_use(r) == 0


def test_oom_with_default_memory_kills_nothing_of_a_normal_guest(guests: Path) -> None:
    r = run_tinyunix(guests / "brk_mmap", options=["--stats"])
    assert b"Out of memory" not in r.stderr
    assert r.status == 0


# --- pid exhaustion and a fork bomb -------------------------------------------

def test_fork_bomb_contained_by_pid_max(guests: Path) -> None:
    """Up to 2^16 processes asked for; 64 pids: fork returns EAGAIN (as
    alloc_pid does when pid_max is reached), the bomb winds down, the
    emulator ends cleanly."""
    r = run_tinyunix(guests / "forkbomb", options=["--pid-max", "64", "--stats"])
    no_kernel_error(r)
    assert r.stdout.decode() == ("forks: some succeeded\nEAGAIN: yes\nENOMEM: no\n"
                                 "other errors: 0\n")
    assert r.status == 0
    assert frames_in_use(r) == 0


def test_fork_bomb_contained_by_memory(guests: Path) -> None:
    """16 MiB of guest RAM and no pid limit (2^12 processes asked for): a
    fork out of frames OOM-kills a victim and tries again, as the page
    allocator does; after some tries it fails with ENOMEM.  The run ends,
    nothing leaks."""
    r = run_tinyunix(guests / "forkbomb", ["12"], options=["--memory", "16M", "--stats"],
                     check=False)
    err = no_kernel_error(r)
    assert r.status in (0, 137), err[-2000:]
    if r.status == 0:
        out = r.stdout.decode()
        assert "ENOMEM: yes" in out or "Out of memory" in err, out + err[-2000:]
    else:
        assert "Out of memory: Killed process" in err
    assert frames_in_use(r) == 0


def test_fork_bomb_limits_by_rlimit_nproc_is_not_for_root(guests: Path) -> None:
    """The control for the two above: with enough pids and memory the
    same bomb (2^8 processes) completes with no fork failing."""
    r = run_tinyunix(guests / "forkbomb", ["8"], options=["--stats"])
    no_kernel_error(r)
    assert r.stdout.decode() == ("forks: some succeeded\nEAGAIN: no\nENOMEM: no\n"
                                 "other errors: 0\n")
    assert frames_in_use(r) == 0


# --- fault injection -----------------------------------------------------------

# guest, args, runs: that many values of N spread over the whole run
# (None: every N).  Each run is audited by --check, so a half-undone
# copy_process shows up as a broken invariant as well as a leak.
SWEEPS = [("fork_wait", [], None), ("forktree", ["2", "3"], 40), ("vfork", [], 30),
          ("thread_fork", [], 30), ("pipes", [], 20)]


def _outcome_ok(r: Run, normal: Run) -> str:
    """'' when the run ended as a fault-injected run may end, else why not."""
    err = r.stderr.decode("utf-8", "replace")
    if "Traceback" in err or "kernel BUG" in err:
        return "traceback or kernel BUG"
    if r.status == 70:          # also --check's exit status: a broken invariant
        return "" if "cannot boot" in err else "status 70 without the boot message"
    if r.status == 126:
        return "" if "cannot execute: ENOMEM" in err else "status 126 without ENOMEM"
    if "frames in use: 0 " not in err:
        return "frames leaked (or no --stats)"
    if r.status == normal.status:
        return ""
    if r.status == 137:           # the OOM killer's SIGKILL
        return "" if "Out of memory: Killed process" in err else "SIGKILL with no OOM report"
    if r.status in (128 + 6, 128 + 11, 128 + 13):
        return ""                 # SIGABRT, SIGSEGV, SIGPIPE: a guest that
                                  # does not check fork's -1 (pipes) and the like
    if r.status == 1 and ("Cannot allocate memory" in err or "failures:" in r.text()):
        return ""                 # the guest saw ENOMEM (fork) and said so
    return f"unexpected status {r.status}"


@pytest.mark.parametrize("name, args, runs", SWEEPS, ids=[s[0] for s in SWEEPS])
def test_fail_alloc_sweep(guests: Path, name: str, args: list[str], runs: int | None) -> None:
    """--fail-alloc N makes the N-th frame allocation fail, N over the
    whole run: whatever fails (boot, exec, a page fault, copy_process,
    dup_mmap, a syscall), the emulator reports it cleanly, the guest gets
    ENOMEM or SIGKILL, and no frame leaks."""
    normal = run_tinyunix(guests / name, args, options=["--stats"])
    assert frames_in_use(normal) == 0
    total = frames_allocated(normal)
    bad = []
    points = range(1, total + 1) if runs is None else sorted(
        {1 + (total - 1) * i // (runs - 1) for i in range(runs)})
    for n in points:
        r = run_tinyunix(guests / name, args, options=["--stats", "--fail-alloc", str(n)])
        why = _outcome_ok(r, normal)
        if why:
            bad.append(f"--fail-alloc {n}: {why}\n{r.stderr.decode('utf-8', 'replace')[-1500:]}")
    # Past the last allocation nothing fails: the normal run, exactly.
    r = run_tinyunix(guests / name, args, options=["--stats", "--fail-alloc", str(total + 1)])
    assert r.stdout == normal.stdout and r.status == normal.status
    assert not bad, f"{len(bad)} bad runs of {name}; first:\n" + "\n".join(bad[:3])
