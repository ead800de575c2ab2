"""tinyunix --trace against the real strace -f on the same static guests.

Each program runs natively under `strace -f -ff -o DIR/t` (one file per
process, every line complete) and under `tinyunix run --trace-file`.
The tinyunix trace is split per task ([pid N] prefixes, <unfinished ...>
joined with its <... resumed> half), and both sides are normalised:
pids by order of creation, addresses (hex of 5 digits or more) and
times.  Then each process's lines must be the same, in the same order.

Known differences, removed before comparing (each a real difference of
the kernel, not of the trace format): tinyunix has no rseq (ENOSYS, so
glibc skips it).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, TINYUNIX

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")

# Guests whose every line must match (stdout goes to a regular file on both sides).
# (pipes is left out: how much one read gets depends on the host's schedule.)
GUESTS = ["hello", "fork_wait", "brk_mmap", "exit_status", "waitflags", "vfork",
          "sig_calls", "zombie_orphan", "rlimits", "efault", "segfault", "stdio_fork", "cow",
          "clone_raw"]

_PREFIX = re.compile(r"^\[pid +(\d+)\] (.*)$")
_RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
# Where pids appear: as the value of these calls, as these arguments, in
# siginfo and clone3's parent_tid.
_PID_RET = re.compile(r"^(?:clone3?|fork|vfork|wait4|waitid|getpid|gettid|getppid|set_tid_address"
                      r"|getpgrp|getpgid|getsid|setsid)\(.*\) = (\d+)$")
_PID_ARGS = [re.compile(r) for r in (
    r"^(?:wait4|kill|tkill|tgkill|getpgid|getsid|setpgid|prlimit64)\((-?\d+)",
    r"^(?:tgkill|setpgid)\(\S+, (\d+)", r"^waitid\(P_P(?:ID|GID), (\d+)", r"si_pid=(\d+)",
    r"parent_tid=\[(\d+)\]")]
# Differences of the kernel, not of the trace: tinyunix has no rseq and
# no PR_SET_DUMPABLE; its guest leads its own session, so setpgid(0, 0)
# is EPERM there; a native fork may be interrupted by a SIGCHLD and
# restarted (invisible to the program).
_KNOWN = re.compile(r"^rseq\(|^prctl\(PR_SET_DUMPABLE|^setpgid\(0, 0\)|.*= \? ERESTARTNOINTR")
_HEX = re.compile(r"0x[0-9a-f]{5,}")


def split_tinyunix(text: str) -> dict[int, list[str]]:
    """Per-pid lines of a --trace-pid-prefix trace, halves joined."""
    per: dict[int, list[str]] = {}
    heads: dict[int, str] = {}
    for line in text.splitlines():
        m = _PREFIX.match(line)
        assert m, f"line without [pid N]: {line!r}"
        pid, rest = int(m.group(1)), m.group(2)
        if rest.endswith(" <unfinished ...>"):
            heads[pid] = rest[:-len(" <unfinished ...>")]
            continue
        r = _RESUMED.match(rest)
        if r and pid in heads:
            rest = heads.pop(pid) + r.group(2)
        per.setdefault(pid, []).append(rest)
    return per


def _collapse(line: str) -> str:
    """Padding before `= ` does not count (it depends on the [pid] prefix)."""
    return re.sub(r"\)\s+= ", ") = ", line)


def normalise(per: dict[int, list[str]]) -> list[list[str]]:
    pids = sorted(per)
    names = {p: f"P{i}" for i, p in enumerate(pids)}
    # The guest's process group: its own under tinyunix (the guest leads
    # a new session), the caller's natively.
    pgrp = next((int(m.group(1)) for x in per[pids[0]]
                 if (m := re.match(r"^getpgrp\(\)\s+= (\d+)$", x))), None)

    def pid(s: str) -> str:
        n = int(s)
        if n < -1:
            return "-PGRP" if -n == pgrp else "-" + pid(str(-n))
        return names.get(n, "P?") if n > 0 else s

    out = []
    for p in pids:
        lines = []
        for line in per[p]:
            line = _collapse(line)
            if _KNOWN.match(line):
                continue
            m = _PID_RET.match(line)
            if m:
                line = line[:m.start(1)] + ("PGRP" if line.startswith("getpgrp(")
                                            else pid(m.group(1)))
            for r in _PID_ARGS:
                line = r.sub(lambda m: m.group(0)[:m.start(1) - m.start(0)] + pid(m.group(1))
                             + m.group(0)[m.end(1) - m.start(0):], line)
            line = re.sub(r"(si_[us]time|tv_n?sec|tv_usec)=\d+( /\* [^*]* \*/)?", r"\1=N", line)
            line = re.sub(r'getrandom\("[^"]*"', 'getrandom("..."', line)
            line = _HEX.sub("0xADDR", line)
            lines.append(line)
        lines = _join_restarts(lines)
        out.append(lines)
    return out


def without_sigchld(lines: list[str]) -> tuple[list[str], set[str]]:
    """When a SIGCHLD reaches its parent depends on how the host ran the
    processes, and two that arrive together are one (a standard signal
    is pending once): the other lines, and the SIGCHLDs apart."""
    return ([x for x in lines if not x.startswith("--- SIGCHLD ")],
            {x for x in lines if x.startswith("--- SIGCHLD ")})


def _join_restarts(lines: list[str]) -> list[str]:
    """A call that a SIGCHLD interrupted and that was restarted (by
    restart_syscall or again), as one call.  Under ptrace Linux queues even an ignored SIGCHLD, so the
    native sleep is interrupted where a process that is not traced (and
    tinyunix) sleeps on."""
    out: list[str] = []
    cut = None
    for i, line in enumerate(lines):
        if (re.search(r"= \? ERESTART(SYS|NOINTR|NOHAND) ", line) and
                lines[i + 1:i + 2] and lines[i + 1].startswith("--- SIGCHLD ") and
                lines[i + 2:i + 3] and lines[i + 2].startswith(line.split("(")[0] + "(")):
            continue         # restarted after the ignored SIGCHLD: one call

        m = re.match(r"^restart_syscall\(<\.\.\. resuming interrupted \w+ \.\.\.>\) = (.*)$", line)
        if m and cut is not None:
            out[cut] = out[cut].rsplit(" = ", 1)[0] + " = " + m.group(1)
            cut = None
            continue
        if line.endswith("= ? ERESTART_RESTARTBLOCK (Interrupted by signal)"):
            cut = len(out)
        out.append(line)
    return out


def native_trace(prog: Path, tmp: Path) -> dict[int, list[str]]:
    d = tmp / "native"
    d.mkdir()
    with open(tmp / "native.out", "wb") as sink:
        subprocess.run(["strace", "-ff", "-q", "-o", str(d / "t"), str(prog)],
                       stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.DEVNULL,
                       cwd=prog.parent, timeout=60)
    per = {}
    for f in d.iterdir():
        per[int(f.name.split(".")[1])] = f.read_text().splitlines()
    return per


def tinyunix_trace(prog: Path, tmp: Path) -> dict[int, list[str]]:
    out = tmp / "tiny.trace"
    with open(tmp / "tiny.out", "wb") as sink:
        subprocess.run([str(TINYUNIX), "run", "--timeout", "60", "--trace-file", str(out),
                        "--trace-pid-prefix", str(prog)],
                       stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.DEVNULL,
                       cwd=prog.parent, timeout=120)
    return split_tinyunix(out.read_text())


@pytest.mark.parametrize("name", GUESTS)
def test_trace_matches_strace(guests: Path, tmp_path: Path, name: str) -> None:
    prog = guests / name
    native = normalise(native_trace(prog, tmp_path))
    tiny = normalise(tinyunix_trace(prog, tmp_path))
    assert len(tiny) == len(native), f"{len(tiny)} processes traced, strace saw {len(native)}"
    for i, (t, n) in enumerate(zip(tiny, native)):
        (t_lines, t_chld), (n_lines, n_chld) = without_sigchld(t), without_sigchld(n)
        assert t_lines == n_lines, f"process P{i} differs"
        assert n_chld <= t_chld, f"process P{i}: SIGCHLDs strace saw that tinyunix did not show"


def test_split_joins_unfinished_and_resumed() -> None:
    text = ("[pid    10] read(3,  <unfinished ...>\n"
            "[pid    11] write(4, \"x\", 1)           = 1\n"
            "[pid    10] <... read resumed>\"x\", 4096) = 1\n")
    assert split_tinyunix(text) == {10: ['read(3, "x", 4096) = 1'],
                                    11: ['write(4, "x", 1)           = 1']}
    assert REPO.exists()
