"""--timeout and --max-instructions end a runaway guest (issue 6, limits):
a clear message, exit status 124 as timeout(1) gives, no traceback, and
the guest's output so far intact.  guest/spin never ends by itself, so it
runs only under tinyunix (it is in the Makefile's HOSTILE list)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import run_tinyunix

# spin's modes: a lone loop with no syscall (no time slice: only the
# watchdog can stop it), a loop of syscalls (never leaves the engine
# either), and two spinning processes (time-sliced).
MODES = [[], ["syscalls"], ["fork"]]
MODE_IDS = ["alone", "syscalls", "two-procs"]


def _clean(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text and "kernel BUG" not in text, text[-3000:]
    return text


@pytest.mark.parametrize("args", MODES, ids=MODE_IDS)
def test_timeout_stops_a_runaway_guest(guests: Path, args: list[str]) -> None:
    t0 = time.monotonic()
    r = run_tinyunix(guests / "spin", args, options=["--timeout", "1.5"], timeout=60)
    elapsed = time.monotonic() - t0
    err = _clean(r.stderr)
    assert r.status == 124, err
    assert "tinyunix: timeout after 1.5 s" in err
    assert r.stdout == b"spinning\n"
    assert elapsed >= 1.5
    assert elapsed < 1.5 + 20, f"stopped only after {elapsed:.1f} s"


@pytest.mark.parametrize("args", MODES, ids=MODE_IDS)
def test_max_instructions_stops_a_runaway_guest(guests: Path, args: list[str]) -> None:
    # 300000 blocks: many slices past start-up (a few thousand blocks).  In
    # "syscalls" mode every ~11 blocks is a getppid audited by --check, so
    # 3000000 blocks cost ~40 s of CPU and missed the wall-clock limit on a
    # loaded machine.
    r = run_tinyunix(guests / "spin", args, options=["--max-instructions", "300000", "--stats"],
                     timeout=120)
    err = _clean(r.stderr)
    assert r.status == 124, err
    assert "tinyunix: --max-instructions reached (300000 blocks)" in err
    assert r.stdout == b"spinning\n"


def test_limits_do_not_touch_a_normal_run(guests: Path) -> None:
    """A guest that ends in time keeps its own status and prints no message."""
    r = run_tinyunix(guests / "hello", options=["--timeout", "60",
                                                "--max-instructions", "100000000"])
    assert r.status == 3
    assert r.stdout == b"hello, world\n"
    assert b"tinyunix:" not in r.stderr


def test_timeout_after_the_main_process_exited(guests: Path) -> None:
    """The main guest exits 0 but leaves a child spinning: still 124, as
    timeout(1) reports the limit rather than the guest's status."""
    r = run_tinyunix(guests / "spin", ["orphan"], options=["--timeout", "1"], timeout=60)
    err = _clean(r.stderr)
    assert r.status == 124, err
    assert "tinyunix: timeout after 1 s" in err


@pytest.mark.parametrize("opts", [
    ["--timeout", "-1"], ["--timeout", "nan"], ["--timeout", "inf"], ["--timeout", "soon"],
    ["--max-instructions", "-5"], ["--fail-alloc", "-1"], ["--pid-max", "3"],
    ["--memory", "1M"], ["--memory", "3M"],
], ids=lambda o: " ".join(o))
def test_bad_limit_options_are_refused(guests: Path, opts: list[str]) -> None:
    r = run_tinyunix(guests / "hello", options=opts)
    err = _clean(r.stderr)
    assert r.status == 2, err
    assert r.stdout == b""
    assert err.strip(), "no message"
