"""The virtual clock jumps over idle time: a guest that sleeps 5 s (or
waits 5 s for a timer) ends at once in wall time while 5 s pass for it;
under --realtime its clocks follow the host's and the sleep takes as long
as asked.  These test the jump, not speed: the bounds are generous."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from conftest import run_tinyunix

BUSYBOX = shutil.which("busybox") or "/usr/bin/busybox"


def _timed(prog: str, args: list[str], options: list[str] = ()) -> tuple[float, object]:
    t0 = time.monotonic()
    r = run_tinyunix(Path(prog), args, options=list(options))
    return time.monotonic() - t0, r


@pytest.mark.skipif(not Path(BUSYBOX).exists(), reason="busybox-static is not installed")
def test_sleep_5s_ends_at_once_in_wall_time() -> None:
    """Against `sleep 0` run the same way (start-up dominates on a busy
    machine): the 5 s of sleep add well under 5 s."""
    base, r0 = _timed(BUSYBOX, ["sleep", "0"])
    wall, r = _timed(BUSYBOX, ["sleep", "5"])
    assert r0.status == 0 and r.status == 0, r.stderr
    assert wall - base < 3.0, f"sleep 5 took {wall:.1f} s of wall time, sleep 0 {base:.1f} s"


@pytest.mark.skipif(not Path(BUSYBOX).exists(), reason="busybox-static is not installed")
def test_guest_sees_5s_pass(guests: Path) -> None:
    """time_sleep's clocks agree the sleeps lasted (it checks its own
    monotonic clock); here: `busybox time` shows the 5 s passing."""
    wall, r = _timed(BUSYBOX, ["time", "-p", BUSYBOX, "sleep", "5"])
    assert r.status == 0, r.stderr
    real = [ln for ln in r.stderr.decode().splitlines() if ln.startswith("real")]
    assert real and float(real[0].split()[1]) >= 5.0, r.stderr


@pytest.mark.skipif(not Path(BUSYBOX).exists(), reason="busybox-static is not installed")
def test_realtime_follows_the_host_clock() -> None:
    wall, r = _timed(BUSYBOX, ["sleep", "0.5"], ["--realtime"])
    assert r.status == 0, r.stderr
    assert wall >= 0.5, f"--realtime: a 0.5 s sleep took only {wall:.2f} s"


def test_itimers_alarm_wait_is_idle_time(guests: Path) -> None:
    """itimers pauses for five 20 ms SIGALRMs and sleeps in children: all
    virtual, so the run is short in wall time whatever the periods."""
    wall, r = _timed(str(guests / "itimers"), [])
    assert r.status == 0, r.stderr
    assert b"SIGALRM x5" in r.stdout
