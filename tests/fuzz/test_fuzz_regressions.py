"""Fixed syscall programs: what the fuzzer (or reading the code it
pointed at) found, one test per bug, named after what broke.  Each runs
guest/fuzz_syscalls under tinyunix only."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .fuzzprog import (
    FUZZ_GUEST,
    K_BUF,
    K_LIT,
    K_RES,
    K_RESOFF,
    STR_OFFS,
    TREE,
    check_option,
    check_program,
    encode,
    failure,
    resoff,
    resolve,
    results,
    tinyunix_available,
    tinyunix_cmd,
)

pytestmark = pytest.mark.usefixtures("guests")

ENOSPC, EFAULT = 28, 14
TMP_FILE = STR_OFFS[3]          # "/tmp/fz_file"
DEV_NULL = STR_OFFS[0]
O_WRONLY_CREAT = 0o101


@pytest.fixture(autouse=True)
def _need_tinyunix(guests) -> None:
    if not tinyunix_available():
        pytest.skip("tinyunix or guest/build/fuzz_syscalls missing")


def test_overlay_write_far_past_end_is_bounded() -> None:
    """lseek to 1 TiB then write(1 byte) grew the overlay file's host
    buffer to 1 TiB: MemoryError (a traceback).  The overlay now holds at
    most half of RAM, like tmpfs, and says ENOSPC past that."""
    prog = resolve([
        ("open", [(K_BUF, TMP_FILE), (K_LIT, O_WRONLY_CREAT), (K_LIT, 0o644)]),
        ("lseek", [(K_RES, 0), (K_LIT, 1 << 40), (K_LIT, 0)]),
        ("write", [(K_RES, 0), (K_BUF, 0), (K_LIT, 1)]),
        ("lseek", [(K_RES, 0), (K_LIT, 100), (K_LIT, 0)]),
        ("write", [(K_RES, 0), (K_BUF, 0), (K_LIT, 1)]),
    ])
    status, _out, err = check_program(prog, verbose=True)
    res = {i: v for (_pid, i), v in results(err).items()}
    assert status == 0 and res[1] == 1 << 40
    assert res[2] in (1, -ENOSPC) and res[4] == 1, err


def run_measured(prog: list, tmp_path: Path) -> tuple[int, str, float]:
    """Run a program verbosely; (exit status, stderr, peak RSS in MiB) of
    that one tinyunix process, from its own wait4 rusage."""
    path = tmp_path / "prog.bin"
    path.write_bytes(encode(prog))
    env = dict(os.environ)
    if TREE:
        env["PYTHONPATH"] = TREE
    with open(tmp_path / "err", "w+b") as errf:
        p = subprocess.Popen([*tinyunix_cmd(), "run", "--memory", "64M", *check_option(),
                              str(FUZZ_GUEST), str(path), "-v"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=errf, cwd=tmp_path, env=env)
        _pid, wstatus, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(wstatus)   # reaped here, not by Popen
        errf.seek(0)
        err = errf.read().decode("utf-8", "replace")
    return p.returncode, err, ru.ru_maxrss / 1024


def test_huge_write_from_zero_pages_does_not_copy_it_all(tmp_path: Path) -> None:
    """write(fd, p, 2 GiB) over 512 MiB of never-touched anonymous memory
    copied all of it into one host buffer before writing.  Now it goes
    out a MiB at a time (and stops short at the end of the mapping)."""
    size = 512 << 20
    prog = resolve([
        ("mmap", [(K_LIT, 0), (K_LIT, size), (K_LIT, 3), (K_LIT, 0x4022), (K_LIT, -1),
                  (K_LIT, 0)]),                                  # MAP_NORESERVE
        ("open", [(K_BUF, DEV_NULL), (K_LIT, 1), (K_LIT, 0)]),
        # fd 1 is the host's /dev/null through the console: the bytes are
        # read from guest memory (the guest's own /dev/null would not read
        # them at all, as Linux's write_null does not).
        ("write", [(K_LIT, 1), (K_RES, 0), (K_LIT, 0x7FFF_F000)]),
        ("writev", [(K_LIT, 1), (K_BUF, 0x5300), (K_LIT, 1)]),   # iovec of zeros: 0 bytes
    ])
    status, err, rss = run_measured(prog, tmp_path)
    assert failure(status, err) is None, err
    res = {i: v for (_pid, i), v in results(err).items()}
    assert status == 0 and res[2] == size, err
    # Peak host memory of the run: far below the 512 MiB it used to copy.
    assert rss < 300, rss


def test_write_faulting_midway_is_short() -> None:
    """A large write whose buffer ends in the guard page: the bytes before
    it are written (Linux returns the short count), no EFAULT after output."""
    prog = resolve([
        ("open", [(K_BUF, TMP_FILE), (K_LIT, O_WRONLY_CREAT), (K_LIT, 0o644)]),
        ("write", [(K_RES, 0), (K_BUF, 0), (K_LIT, 4 << 20)]),
        ("write", [(K_RES, 0), (K_LIT, 0x1000), (K_LIT, 4 << 20)]),
    ])
    status, _out, err = check_program(prog, verbose=True)
    res = {i: v for (_pid, i), v in results(err).items()}
    assert status == 0 and res[1] == 64 * 1024 and res[2] == -EFAULT, err


def test_huge_sparse_mapping_tears_down_quickly() -> None:
    """fork, then brk(2^46) succeeded: 64 TiB of heap, which exit then
    zapped 2 MiB at a time (33 million steps: a 30 s timeout in the
    fuzzer).  brk past all of RAM now fails as Linux's overcommit check
    does, and page-table walks skip missing tables whole; a 64 TiB
    MAP_NORESERVE mapping with two pages touched, forked and unmapped,
    takes a few steps."""
    size = 1 << 46
    prog = resolve([
        ("brk", [(K_LIT, 0)]),
        ("brk", [(K_LIT, size)]),
        ("mmap", [(K_LIT, 0), (K_LIT, size), (K_LIT, 3), (K_LIT, 0x4022), (K_LIT, -1),
                  (K_LIT, 0)]),                                  # MAP_NORESERVE
        (-2, [(K_RES, 2), (K_LIT, 1)]),                          # touch the first page
        (-2, [(K_RESOFF, resoff(2, size - 4096)), (K_LIT, 1)]),  # and the last
        ("fork", []),
        ("mprotect", [(K_RES, 2), (K_LIT, size), (K_LIT, 1)]),
        ("munmap", [(K_RES, 2), (K_LIT, size)]),
        ("wait4", [(K_LIT, -1), (K_LIT, 0), (K_LIT, 0), (K_LIT, 0)]),
    ])
    status, _out, err = check_program(prog, verbose=True, timeout=20)
    res = results(err)
    main = min(pid for pid, _i in res)
    assert status == 0, err
    assert res[(main, 1)] == res[(main, 0)], "brk(2^46) must fail: more than RAM"
    assert res[(main, 2)] > 0 and res[(main, 6)] == 0 and res[(main, 7)] == 0, err
