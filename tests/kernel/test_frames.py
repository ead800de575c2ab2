"""No frame leaks: after every task of a guest has exited, `--stats`
reports zero frames in use (the zero page is not counted)."""
from __future__ import annotations

import re
import subprocess

import pytest

from conftest import GUEST_BUILD, REPO, tinyunix_command

PROGRAMS = ["cow", "forktree", "pipes", "vfork", "zombie_orphan", "brk_mmap", "signals_death"]


@pytest.mark.parametrize("name", PROGRAMS)
def test_no_frames_in_use_after_exit(guests, name):
    cmd = tinyunix_command()
    if cmd is None:
        pytest.skip("tinyunix is not built")
    prog = GUEST_BUILD / name
    assert prog.exists(), f"{prog} was not built"
    r = subprocess.run([*cmd, "run", "--stats", str(prog)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r"^frames in use: (\d+) ", r.stderr, re.M)
    assert m, f"no 'frames in use:' line in stderr:\n{r.stderr[-2000:]}"
    assert int(m.group(1)) == 0, f"{name} leaked frames:\n{r.stderr[-2000:]}"
