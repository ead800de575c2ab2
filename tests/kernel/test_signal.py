"""Signal delivery's pieces against Linux's rules, where a guest cannot
show them: the restart table, siginfo layouts, the FXSAVE tag
conversion, --check's signal invariants, the core-dump flag under a
raised RLIMIT_CORE, and the strace-format trace lines.  The guests
guest/sig_*.c check the rest natively and under tinyunix."""
from __future__ import annotations

import os
import re
import resource
import struct
import subprocess

import pytest

from conftest import GUEST_BUILD, REPO, TINYUNIX
from kernel.siginfo import kernel_siginfo, siginfo_from_bytes
from kernel.signal_64 import abridged_tag, full_tag, restart_regs
from kernel.task import k_sigaction, signal_struct, task_struct
from tinyunix.strace.fmt import siginfo as siginfo_str, sigset as sigset_str
from kernel.uapi import (
    CLD_EXITED, CLD_KILLED, EINTR, ERESTART_RESTARTBLOCK, ERESTARTNOHAND, ERESTARTNOINTR,
    ERESTARTSYS, SA_RESTART, SEGV_MAPERR, SI_KERNEL, SI_QUEUE, SI_TKILL, SI_USER, SIGCHLD,
    SIGSEGV, SIGUSR1,
)

from test_check import _boot, _violation  # noqa: E402

M64 = (1 << 64) - 1
NR_READ, NR_RESTART = 0, 219
RESTART, EINTR_ = "restart", "eintr"

# (code the syscall left, handler flags or None for no handler) -> outcome,
# as handle_signal and arch_do_signal_or_restart decide.
RESTART_TABLE = [
    (ERESTARTSYS, 0, EINTR_), (ERESTARTSYS, SA_RESTART, RESTART), (ERESTARTSYS, None, RESTART),
    (ERESTARTNOINTR, 0, RESTART), (ERESTARTNOINTR, SA_RESTART, RESTART),
    (ERESTARTNOINTR, None, RESTART),
    (ERESTARTNOHAND, 0, EINTR_), (ERESTARTNOHAND, SA_RESTART, EINTR_),
    (ERESTARTNOHAND, None, RESTART),
    (ERESTART_RESTARTBLOCK, 0, EINTR_), (ERESTART_RESTARTBLOCK, SA_RESTART, EINTR_),
    (ERESTART_RESTARTBLOCK, None, "restart_syscall"),
]


@pytest.mark.parametrize("code, flags, outcome", RESTART_TABLE)
def test_restart_rules(code: int, flags, outcome: str) -> None:
    tsk = task_struct(pid=1, tgid=1)
    tsk.orig_rax = NR_READ
    ka = None if flags is None else k_sigaction(handler=0x401000, flags=flags)
    rax, rip = restart_regs(tsk, ka, -code & M64, 0x401002)
    assert tsk.orig_rax == -1
    if outcome == EINTR_:
        assert (rax, rip) == (-EINTR & M64, 0x401002)
    elif outcome == RESTART:
        assert (rax, rip) == (NR_READ, 0x401000)         # rip back on the syscall
    else:
        assert (rax, rip) == (NR_RESTART, 0x401000)


def test_no_restart_outside_a_syscall_or_for_other_values() -> None:
    tsk = task_struct(pid=1, tgid=1)
    assert restart_regs(tsk, None, -ERESTARTSYS & M64, 0x1002) == (-ERESTARTSYS & M64, 0x1002)
    tsk.orig_rax = NR_READ
    assert restart_regs(tsk, None, -EINTR & M64, 0x1002) == (-EINTR & M64, 0x1002)
    assert tsk.orig_rax == -1                            # consumed either way


def test_siginfo_layouts() -> None:
    """The union member siginfo_layout picks, at Linux's offsets."""
    kill = kernel_siginfo(SIGUSR1, SI_USER, pid=7, uid=1000).pack()
    assert len(kill) == 128 and struct.unpack_from("<iii4xiI", kill) == (SIGUSR1, 0, SI_USER, 7, 1000)
    assert kill[24:] == bytes(104)
    q = kernel_siginfo(34, SI_QUEUE, pid=7, uid=0, value=0x1122334455).pack()
    assert struct.unpack_from("<iIQ", q, 16) == (7, 0, 0x1122334455)
    chld = kernel_siginfo(SIGCHLD, CLD_EXITED, pid=9, uid=0, status=3, utime=4, stime=5).pack()
    assert struct.unpack_from("<iIi4xqq", chld, 16) == (9, 0, 3, 4, 5)
    fault = kernel_siginfo(SIGSEGV, SEGV_MAPERR, addr=0xdead000).pack()
    assert struct.unpack_from("<Q", fault, 16) == (0xdead000,)
    kern = kernel_siginfo(SIGSEGV, SI_KERNEL, addr=0x1234).pack()   # SIL_KILL: no address
    assert kern[16:] == bytes(112)
    back = siginfo_from_bytes(chld)
    assert (back.signo, back.code, back.pid, back.status) == (SIGCHLD, CLD_EXITED, 9, 3)
    raw = bytes(range(128))
    assert kernel_siginfo(SIGUSR1, raw=raw).pack() == raw


@pytest.mark.parametrize("ftag, abridged", [(0xFFFF, 0), (0x0000, 0xFF), (0x3FFF, 0x80),
                                            (0xFFFC, 0x01), (0x5AFF, 0xF0)])
def test_fxsave_tag_word(ftag: int, abridged: int) -> None:
    assert abridged_tag(ftag) == abridged
    back = full_tag(abridged)
    assert all(((back >> 2 * i) & 3 == 3) == ((ftag >> 2 * i) & 3 == 3) for i in range(8))


def test_trace_formats() -> None:
    f = kernel_siginfo(SIGCHLD, CLD_EXITED, pid=4, uid=0, status=0).fields()
    assert siginfo_str(f) == ("{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=4, si_uid=0, "
                              "si_status=0, si_utime=0, si_stime=0}")
    f = kernel_siginfo(SIGCHLD, CLD_KILLED, pid=4, uid=0, status=15).fields()
    assert "si_status=SIGTERM" in siginfo_str(f)
    f = kernel_siginfo(SIGSEGV, SEGV_MAPERR, addr=0).fields()
    assert siginfo_str(f) == "{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL}"
    f = kernel_siginfo(SIGUSR1, SI_TKILL, pid=3, uid=0).fields()
    assert siginfo_str(f) == "{si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=3, si_uid=0}"
    assert sigset_str(0) == "[]"
    assert sigset_str((1 << 9) | (1 << 14)) == "[USR1 TERM]"
    assert sigset_str(((1 << 64) - 1) & ~(1 << 8)) == "~[KILL]"


# --- --check's signal invariants ------------------------------------------------------

@pytest.fixture
def booted(guests):
    K, chk = _boot("hello")
    t = K.main_task
    yield K, chk, t


def test_audit_clean(booted):
    K, chk, t = booted
    chk.check_signals()


def test_audit_blocked_sigkill(booted):
    K, chk, t = booted
    t.blocked |= 1 << 8
    _violation(chk, "sig-blocked")


def test_audit_queued_not_pending(booted):
    K, chk, t = booted
    t.sigqueue.append(kernel_siginfo(SIGUSR1))
    K.sigpending_queued += 1
    _violation(chk, "sig-queue")


def test_audit_count(booted):
    K, chk, t = booted
    t.pending |= 1 << (SIGUSR1 - 1)
    t.sigqueue.append(kernel_siginfo(SIGUSR1))
    _violation(chk, "sig-rlimit")


def test_audit_standard_signal_queued_twice(booted):
    K, chk, t = booted
    t.signal.shared_pending |= 1 << (SIGUSR1 - 1)
    t.signal.shared_sigqueue += [kernel_siginfo(SIGUSR1), kernel_siginfo(SIGUSR1)]
    K.sigpending_queued += 2
    _violation(chk, "sig-queue")


# --- the core-dump flag --------------------------------------------------------------

def _raise_core_limit() -> None:
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        os._exit(77)


def test_core_flag_follows_rlimit_core(guests, tmp_path):
    """With RLIMIT_CORE raised (as a shell's `ulimit -c unlimited`), a
    child killed by SIGABRT has WCOREDUMP and CLD_DUMPED, as do_coredump
    gives when it writes the core (no core file is written here).  Under
    tinyunix only: natively this would write core files."""
    if not TINYUNIX.exists():
        pytest.skip("tinyunix is not built")
    p = subprocess.run([str(TINYUNIX), "run", str(GUEST_BUILD / "sig_status"), "core"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120,
                       preexec_fn=_raise_core_limit)
    if p.returncode == 77:
        pytest.skip("cannot raise RLIMIT_CORE here")
    assert p.returncode == 0, p.stderr
    line = [l for l in p.stdout.splitlines() if l.startswith("abort()")][0]
    assert "status 0x0086" in line and "core 1" in line and "si_code 3" in line, line
    assert not list(tmp_path.iterdir()), "no core file is written"


def test_trace_shows_deliveries_and_sigreturn(guests):
    if not TINYUNIX.exists():
        pytest.skip("tinyunix is not built")
    p = subprocess.run([str(TINYUNIX), "run", "--trace", str(GUEST_BUILD / "sig_status")],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    err = p.stderr
    assert "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=" in err
    assert "si_status=3, si_utime=0, si_stime=0} ---" in err
    assert "+++ killed by SIGTERM +++" in err and "+++ killed by SIGABRT +++" in err
    assert re.search(r"rt_sigreturn\(\{mask=\[CHLD\]\}\) +=", err)
