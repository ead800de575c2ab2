"""busybox's file commands (ls, mkdir, mv, rm, ln, touch, chmod, cp, find,
tar, mkfifo) natively and under tinyunix: the same output, and nothing
written to the host by the emulated run."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_native, run_tinyunix

BUSYBOX = Path("/usr/bin/busybox")
SCRIPT = Path(__file__).parent / "scripts" / "fs_busybox.sh"


@pytest.mark.skipif(not BUSYBOX.exists(), reason="busybox-static is not installed")
def test_busybox_file_commands() -> None:
    native = run_native(BUSYBOX, ["sh", str(SCRIPT)])
    before = sorted(p.name for p in Path("/tmp").iterdir() if p.name.startswith("fsbb"))
    emulated = run_tinyunix(BUSYBOX, ["sh", str(SCRIPT)])
    after = sorted(p.name for p in Path("/tmp").iterdir() if p.name.startswith("fsbb"))
    assert native.status == 0, native.text()
    assert emulated.stdout == native.stdout, (
        f"--- native ---\n{native.text()}--- tinyunix ---\n{emulated.text()}"
        f"--- stderr ---\n{emulated.stderr.decode(errors='replace')[-2000:]}")
    assert emulated.status == native.status
    assert before == after          # the guest's directory never reached the host


@pytest.mark.skipif(not BUSYBOX.exists(), reason="busybox-static is not installed")
def test_busybox_ls_root() -> None:
    """`busybox ls /` lists the root (getdents64 was ENOSYS)."""
    native = run_native(BUSYBOX, ["ls", "/"])
    emulated = run_tinyunix(BUSYBOX, ["ls", "/"])
    assert emulated.stdout == native.stdout
    assert emulated.status == native.status == 0
