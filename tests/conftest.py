"""Shared test helpers: where things are, building the guests once, and a
run_native/run_tinyunix pair that run a program the same way (stdin from
/dev/null, stdout and stderr through pipes, no core dumps) and return its
output and exit status in the shell's encoding (128+N for signal N)."""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import pytest

REPO = Path(__file__).resolve().parent.parent
GUEST_DIR = REPO / "guest"
GUEST_BUILD = GUEST_DIR / "build"
TINYUNIX = REPO / ".venv" / "bin" / "tinyunix"

NATIVE_TIMEOUT = 60.0
TINYUNIX_TIMEOUT = 120.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "threads: guest programs that use threads or clone (issue 4)")


def guest_programs(kind: str) -> list[str]:
    """Names of the guest programs of one kind, "procs" or "threads", as the
    guest Makefile lists them."""
    out = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(GUEST_DIR),
                          f"list-{kind}"],
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.fixture(scope="session")
def guests() -> Path:
    """Build every guest program (once per session); returns guest/build."""
    r = subprocess.run(["make", "-s", "-C", str(GUEST_DIR)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"make -C guest failed:\n{r.stdout}{r.stderr}", pytrace=False)
    return GUEST_BUILD


@pytest.fixture(scope="session")
def fault_paths(guests: Path) -> str:
    """The fault-path guest of the Machine API tests (guest/fault_paths.c)."""
    return str(guests / "fault_paths")


@dataclass
class Run:
    stdout: bytes
    stderr: bytes
    status: int        # exit code, or 128+N when killed by signal N

    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")


def _no_core_dumps() -> None:
    # Runs in the child between fork and exec: no core file, so a death by
    # signal has no 0x80 bit in its wait status.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _run(cmd: Sequence[str], timeout: float, stdout_file: Optional[Path] = None) -> Run:
    """Run cmd in its own session; on timeout kill the whole session (forked
    grandchildren too, which would otherwise hold the pipes open).  stdout
    goes through a pipe, or to a regular file when stdout_file is given (its
    contents are then returned as the stdout)."""
    sink = open(stdout_file, "w+b") if stdout_file else None
    p = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL,
                         stdout=sink if sink else subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=REPO,
                         preexec_fn=_no_core_dumps, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        out = out or b""
        pytest.fail(f"timed out after {timeout:.0f} s: {' '.join(cmd)}\n"
                    f"stdout so far:\n{out.decode('utf-8', 'replace')[-2000:]}\n"
                    f"stderr so far:\n{err.decode('utf-8', 'replace')[-2000:]}", pytrace=False)
    finally:
        if sink:
            sink.close()
    if stdout_file:
        out = stdout_file.read_bytes()
    rc = p.returncode
    return Run(out, err, 128 - rc if rc < 0 else rc)


def run_native(prog: Path, args: Sequence[str] = (), timeout: float = NATIVE_TIMEOUT,
               stdout_file: Optional[Path] = None) -> Run:
    """Run a guest program directly on the host."""
    return _run([str(prog), *args], timeout, stdout_file)


def tinyunix_command() -> Optional[list[str]]:
    """The command that runs tinyunix, or None when it is not there yet."""
    if TINYUNIX.exists():
        return [str(TINYUNIX)]
    if (REPO / "tinyunix" / "cli.py").exists():
        return [sys.executable, "-m", "tinyunix"]
    return None


def run_tinyunix(prog: Path, args: Sequence[str] = (), options: Sequence[str] = (),
                 timeout: float = TINYUNIX_TIMEOUT, stdout_file: Optional[Path] = None,
                 check: bool = True) -> Run:
    """Run a guest program under `tinyunix run [options] prog args`.  With
    `check` (the default) --check audits the kernel's invariants after every
    syscall and fault; a broken one ends the run with status 70 and a report
    on stderr.  Pass check=False only where the audit's cost would swamp
    what the test measures (TINYUNIX_TEST_CHECK=0 turns it off everywhere,
    to time the suite without it)."""
    cmd = tinyunix_command()
    if cmd is None:
        pytest.skip("tinyunix is not built (no .venv/bin/tinyunix, no tinyunix/cli.py)")
    opts = list(options)
    if check and os.environ.get("TINYUNIX_TEST_CHECK", "1") != "0" and "--check" not in opts:
        opts.insert(0, "--check")
    return _run([*cmd, "run", *opts, str(prog), *args], timeout, stdout_file)
