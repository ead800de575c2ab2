"""Random syscall programs (hypothesis, derandomized) run by the guest
fuzz_syscalls under `tinyunix run --check`: wild pointers, huge sizes,
negative fds, random clone flag words, fork/exit/wait interleavings,
mmap/munmap/mprotect/brk with odd values, pipes, dup2, futex ops.  The
guest may fail, die by a signal or deadlock; the kernel may not: a Python
traceback, a kernel BUG (exit 70) or a hang fails the test.

TINYUNIX_FUZZ_EXAMPLES=N runs N examples instead of the quick default.
The guest is never run natively (it sends kill(-1, SIGKILL) and worse).
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from .fuzzprog import Record, check_program, programs, signal_programs, tinyunix_available

EXAMPLES = int(os.environ.get("TINYUNIX_FUZZ_EXAMPLES", "40"))

pytestmark = pytest.mark.usefixtures("guests")


@pytest.fixture(autouse=True)
def _need_tinyunix(guests) -> None:
    if not tinyunix_available():
        pytest.skip("tinyunix or guest/build/fuzz_syscalls missing")


@settings(derandomize=True, max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(prog=programs())
def test_random_syscall_programs(prog: list[Record]) -> None:
    check_program(prog)


@settings(derandomize=True, max_examples=max(10, EXAMPLES // 4), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(prog=programs(max_size=60, min_size=15))
def test_long_syscall_programs(prog: list[Record]) -> None:
    check_program(prog)


@settings(derandomize=True, max_examples=max(10, EXAMPLES // 2), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(prog=signal_programs())
def test_signal_programs(prog: list[Record]) -> None:
    """Handlers, masks, kill/tgkill/sigqueueinfo, sigtimedwait, sigaltstack
    and forks mixed: frames are built on wild stacks, SIGSEGV is forced,
    restarts and sigreturns happen, all under --check."""
    check_program(prog)
