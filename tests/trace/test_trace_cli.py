"""tinyunix run --trace=CLASSES / --trace-file / --events: what each
class adds, the fault resolutions a fork-and-write guest must show, the
JSON lines' schema, and bad input."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from conftest import TINYUNIX


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(TINYUNIX), "run", "--timeout", "60", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=180)


def test_default_trace_is_stracelike_and_goes_to_the_file(guests: Path, tmp_path: Path) -> None:
    out = tmp_path / "t"
    r = run(["--trace-file", str(out), str(guests / "hello")], tmp_path)
    assert r.returncode == 3 and r.stdout == "hello, world\n" and r.stderr == ""
    lines = out.read_text().splitlines()
    assert lines[0].startswith(f'execve("{guests / "hello"}", ["{str(guests / "hello")[:32]}"')
    assert 'write(1, "hello, world\\n", 13)          = 13' in lines
    assert lines[-2:] == ["exit_group(3)                           = ?", "+++ exited with 3 +++"]
    assert not any("page fault" in x or "sched_switch" in x for x in lines)


def test_fault_and_sched_classes(guests: Path, tmp_path: Path) -> None:
    r = run(["--trace=fault,sched,exit", str(guests / "cow")], tmp_path)
    err = r.stderr.splitlines()
    faults = [x for x in err if "--- page fault" in x]
    how = {x.rsplit("=> ", 1)[1].removesuffix(" ---") for x in faults}
    # fork then writes on both sides: CoW copies, and the last writer's
    # reuse of a frame nobody else holds; first touches of data and stack.
    assert {"cow-copy", "page-cache", "anon-page"} <= how, how
    assert all(re.search(r"access=(read|write|exec), vma=0x[0-9a-f]+-0x[0-9a-f]+ [r-][w-][x-][ps]", x)
               for x in faults)
    assert any(re.search(r"--- sched_switch cpu0 \{prev=\d+ \(cow\), reason=(sleep|exit|preempt)\}"
                         r" => \d+ \(cow\) ---", x) for x in err)
    assert any("+++ exited with 0 +++" in x for x in err)
    assert not any(re.search(r"\b(write|clone)\(", x) for x in err), "no syscall lines"


def test_segv_line_names_the_signal(guests: Path, tmp_path: Path) -> None:
    r = run(["--trace=fault,signal,exit", str(guests / "segfault")], tmp_path)
    assert re.search(r"--- page fault \{addr=0x0, rip=0x[0-9a-f]+, access=write, vma=none\} => "
                     r"SIGSEGV \{si_code=SEGV_MAPERR\} ---", r.stderr), r.stderr[-2000:]
    assert "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---" in r.stderr
    assert "+++ killed by SIGSEGV" in r.stderr


def test_events_jsonl_schema(guests: Path, tmp_path: Path) -> None:
    ev = tmp_path / "e.jsonl"
    r = run(["--events", str(ev), str(guests / "fork_wait")], tmp_path)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in ev.read_text().splitlines()]
    assert [x["seq"] for x in recs] == list(range(1, len(recs) + 1))
    assert all({"seq", "t", "blocks", "cpu", "pid", "kind"} <= set(x) for x in recs)
    assert all(a["t"] <= b["t"] for a, b in zip(recs, recs[1:])), "virtual time never goes back"
    kinds = {x["kind"] for x in recs}
    assert {"exec", "syscall_enter", "syscall", "fault", "fork", "exit", "sched"} <= kinds
    fork = next(x for x in recs if x["kind"] == "fork")
    assert fork["pid"] == fork["parent_pid"] and fork["child_pid"] > fork["parent_pid"]
    fault = next(x for x in recs if x["kind"] == "fault")
    assert set(fault["vma"]) == {"start", "end", "perms", "name"} and fault["how"]
    call = next(x for x in recs if x["kind"] == "syscall" and x["name"] == "clone")
    assert call["ret"] == fork["child_pid"] and len(call["args"]) == 6
    # The same run gives the same events.
    ev2 = tmp_path / "e2.jsonl"
    run(["--events", str(ev2), str(guests / "fork_wait")], tmp_path)
    assert ev2.read_text() == ev.read_text()


def test_bad_trace_options(guests: Path, tmp_path: Path) -> None:
    r = run(["--trace=syscal", str(guests / "hello")], tmp_path)
    assert r.returncode == 2 and "--trace: unknown class 'syscal'" in r.stderr
    r = run(["--trace-file", str(tmp_path / "no" / "dir"), str(guests / "hello")], tmp_path)
    assert r.returncode == 2 and "cannot write" in r.stderr and "Traceback" not in r.stderr
