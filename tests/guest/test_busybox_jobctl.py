"""busybox sh scripts that need signals and job control: background jobs
and `wait`, traps, `kill -STOP`/`kill -CONT` of a child.  Each runs with
the host's static busybox natively and under tinyunix (--check); stdout
and exit status must be the same."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import run_native, run_tinyunix

BUSYBOX = Path("/usr/bin/busybox")

SCRIPTS = {
    "bg_wait": "busybox true & wait $!; echo status $?",
    "bg_status": "(exit 3) & wait $!; echo status $?",
    "bg_several": "for i in 1 2 3; do (exit $i) & done; wait; echo all done",
    "trap_usr1": "trap 'echo got USR1' USR1; kill -USR1 $$; echo after",
    "trap_exit": "trap 'echo bye' EXIT; echo hi",
    "trap_term_child": "busybox sh -c 'trap \"echo child got TERM; exit 7\" TERM; "
                       "kill -TERM $$; echo not reached' ; echo status $?",
    "stop_cont_kill": "busybox sleep 5 & p=$!; kill -STOP $p; kill -CONT $p; kill $p; "
                      "wait $p; echo status $?",
    "self_stop": "busybox sh -c 'kill -STOP $$; echo resumed' & p=$!; busybox sleep 0.2; "
                 "kill -CONT $p; wait $p; echo status $?",
    "kill_stopped": "busybox sh -c 'kill -STOP $$; echo not reached' & p=$!; "
                    "busybox sleep 0.2; kill -KILL $p; wait $p; echo status $?",
}


@pytest.mark.skipif(not BUSYBOX.exists() or shutil.which("busybox") is None,
                    reason="needs busybox-static")
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_busybox_sh(name: str) -> None:
    args = ["sh", "-c", SCRIPTS[name]]
    native = run_native(BUSYBOX, args)
    emulated = run_tinyunix(BUSYBOX, args)
    assert emulated.stdout == native.stdout, (
        f"{name}: native {native.stdout!r}, tinyunix {emulated.stdout!r}\n"
        f"{emulated.stderr.decode(errors='replace')[-2000:]}")
    assert emulated.status == native.status
