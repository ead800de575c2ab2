"""The guest's /proc seen by real tools (issue 14): busybox ps, top, pidof,
kill by name, a pstree-like listing from /proc/*/stat and busybox unshare,
under tinyunix.  Pids are the guest's own, so the tests check structure:
parent/child relations, states, comm, kernel threads in brackets."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import run_tinyunix

BUSYBOX = Path("/usr/bin/busybox")


def _has_getdents64() -> bool:
    import kernel.main  # noqa: F401  (registers every syscall)
    from kernel.syscall_table import SYSCALL_NR
    from kernel.syscalls import SYSCALL_TABLE
    return SYSCALL_TABLE[SYSCALL_NR["getdents64"]] is not None


pytestmark = [
    pytest.mark.skipif(not BUSYBOX.exists(), reason="busybox-static is not installed"),
    # ps lists /proc with getdents64 (kernel/fs/dir.py, from the file-system calls work).
    pytest.mark.skipif(not _has_getdents64(), reason="getdents64 is not implemented yet"),
]


def sh(script: str, **kw):
    r = run_tinyunix(BUSYBOX, ["sh", "-c", script], options=["--timeout", "150"], **kw)
    assert r.status == 0, r.stderr.decode(errors="replace")[-3000:]
    return r.stdout.decode()


def parts(out: str) -> list[str]:
    """The output split at lines that are just "--" (the script's echo --)."""
    return re.split(r"^--$\n?", out, flags=re.M)


def table(text: str) -> list[dict[str, str]]:
    """Rows of a ps-style table, keyed by its header."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    head = lines[0].split()
    rows = []
    for ln in lines[1:]:
        parts = ln.split(None, len(head) - 1)
        rows.append(dict(zip(head, parts)))
    return rows


def test_ps_shows_kernel_threads_in_brackets_and_the_tree():
    out = sh("busybox sleep 30 & busybox ps; echo --; busybox ps -o pid,ppid,stat,comm; "
             "echo --; echo $$ $!; kill $!; wait")
    full, cols, ids = parts(out)
    shell, sleeper = map(int, ids.split())
    names = {int(r["PID"]): r["COMMAND"] for r in table(full)}
    assert names[2] == "[kthreadd]"
    assert "[oom_reaper]" in names.values() and "[kworker/0:0]" in names.values()
    assert names[sleeper] == "busybox sleep 30"
    rows = {int(r["PID"]): r for r in table(cols)}
    assert rows[2]["PPID"] == "0" and rows[2]["COMMAND"] == "kthreadd"
    kthreads = [p for p, r in rows.items() if r["PPID"] == "2"]
    assert {rows[p]["COMMAND"] for p in kthreads} >= {"oom_reaper", "kworker/0:0"}
    assert all(rows[p]["STAT"].endswith("W") for p in kthreads)   # no memory of their own
    assert rows[sleeper]["PPID"] == str(shell) and rows[sleeper]["STAT"] == "S"
    me = [r for p, r in rows.items() if r["PPID"] == str(shell) and r["STAT"] == "R"]
    assert len(me) == 1 and me[0]["COMMAND"] == "busybox"      # ps itself, running


def test_pidof_and_kill_by_name(tmp_path):
    # A `sleep` that is busybox under that name: its comm is "sleep".
    (tmp_path / "sleep").symlink_to(BUSYBOX)
    out = sh(f"PATH={tmp_path}:$PATH; sleep 30 & a=$!; sleep 31 & b=$!; "
             "echo $a $b; busybox pidof sleep; busybox killall sleep; wait; "
             "echo after; busybox pidof sleep; echo status $?")
    lines = out.splitlines()
    assert set(lines[1].split()) == set(lines[0].split())
    assert lines[2] == "after" and lines[-1] == "status 1"


def test_pstree_from_proc_stat():
    """Each /proc/PID/stat's ppid field builds the tree: kthreadd under 0,
    the kernel threads under kthreadd, the shell's children under it."""
    out = sh("busybox sleep 30 & busybox sh -c 'busybox sleep 30; true' & "
             "busybox sleep 0.1; for f in /proc/[0-9]*/stat; do busybox cat $f; echo; done; "
             "echo --; echo $$; busybox killall sleep; wait")
    stats, me = parts(out)
    tree: dict[int, list[int]] = {}
    comm = {}
    for ln in stats.splitlines():
        m = re.match(r"(\d+) \((.*)\) (\S) (\d+)", ln)
        if m:
            pid, ppid = int(m.group(1)), int(m.group(4))
            comm[pid] = m.group(2)
            tree.setdefault(ppid, []).append(pid)
    shell = int(me)
    assert tree[0] == [1, 2]                         # init and kthreadd, children of swapper
    assert {comm[p] for p in tree[2]} >= {"oom_reaper", "kworker/0:0"}
    kids = tree[shell]
    assert sorted(comm[p] for p in kids) == ["busybox", "busybox"]     # a sleep, the sh
    inner = [p for p in kids if p in tree]
    assert len(inner) == 1 and [comm[p] for p in tree[inner[0]]] == ["busybox"]


def test_top_batch():
    out = sh("busybox top -b -n 1")
    assert out.startswith("Mem: ") and "\nCPU:" in out and "\nLoad average: " in out
    assert re.search(r"\n\s+PID\s+PPID\s+USER\s+STAT\s+VSZ", out)
    assert "[kthreadd]" in out and "busybox top -b -n 1" in out


def test_unshare_pid_namespace():
    """busybox unshare -p -f: the command is pid 1 of a new namespace, and
    /proc (the reader's namespace) shows only its tasks."""
    out = sh("busybox unshare -p -f busybox sh -c "
             "'echo pid $$; busybox ps -o pid,ppid,comm; true'")
    lines = out.splitlines()
    assert lines[0] == "pid 1"
    rows = table("\n".join(lines[1:]))
    assert [(r["PID"], r["PPID"]) for r in rows] == [("1", "0"), ("2", "1")]
