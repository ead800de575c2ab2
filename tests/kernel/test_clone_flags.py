"""clone's argument checks (kernel/fork.py) against Linux's rules, errno for
errno: copy_process's flag checks, the namespace step (EPERM where a
namespace would be made, EINVAL where Linux refuses first), CLONE_SETTLS,
clone3_args_valid and set_tid.  The table's errnos are Linux's (kernel/fork.c,
kernel/nsproxy.c, 6.x); guest/clone_flags.c checks the same against the host
kernel, end to end."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Optional

import pytest

from kernel import fork, state
from kernel.fork import (
    check_clone_flags, check_set_tid, clone3_args_valid, copy_namespaces, copy_thread_tls,
    kernel_clone_args,
)
from kernel.panic import Errno
from kernel.pid import PidAllocator
from kernel.pid_namespace import pid_namespace
from kernel.task import task_struct
from kernel.uapi import (
    CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_CLEAR_SIGHAND, CLONE_DETACHED, CLONE_FILES,
    CLONE_FS, CLONE_INTO_CGROUP, CLONE_IO, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET,
    CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS, CLONE_PARENT,
    CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_PTRACE, CLONE_SETTLS, CLONE_SIGHAND, CLONE_SYSVSEM,
    CLONE_THREAD, CLONE_UNTRACED, CLONE_VFORK, CLONE_VM, EINVAL, EPERM,
)

TVS = CLONE_THREAD | CLONE_VM | CLONE_SIGHAND
OK = None


def _task(pid: int) -> task_struct:
    return task_struct(pid=pid, tgid=pid)


@pytest.fixture(autouse=True)
def kernel_state(monkeypatch):
    """The little of a kernel the checks read: the initial pid namespace."""
    k = SimpleNamespace(pids=PidAllocator(32768), tasks={}, ns_inum_next=0xF0000000,
                        opts=SimpleNamespace(pid_max=32768))
    k.init_pid_ns = pid_namespace(0, None, k.pids, k.tasks)
    monkeypatch.setattr(state, "K", k, raising=False)
    return k


def clone_errno(flags: int, parent: task_struct, tls: int = 0) -> Optional[int]:
    """The errno copy_process's checks give, in its order, or None."""
    try:
        check_clone_flags(flags, parent)
        copy_namespaces(flags, parent)
        copy_thread_tls(flags, tls)
    except Errno as e:
        return e.errno
    return None


# (flags, errno as root) -- every case is what Linux gives a root caller,
# except where a namespace other than a pid namespace would be made: there
# we give EPERM (not implemented), which is what Linux gives a caller
# without CAP_SYS_ADMIN.
FLAG_TABLE = [
    (0, OK),
    (CLONE_VM, OK),
    (CLONE_FS | CLONE_FILES, OK),
    (CLONE_SIGHAND, EINVAL),
    (CLONE_SIGHAND | CLONE_VM, OK),
    (CLONE_THREAD, EINVAL),
    (CLONE_THREAD | CLONE_VM, EINVAL),
    (CLONE_THREAD | CLONE_SIGHAND, EINVAL),
    (TVS, OK),
    (TVS | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID
     | CLONE_CHILD_CLEARTID, OK),
    (CLONE_VFORK | CLONE_VM, OK),
    (CLONE_PARENT, OK),
    (CLONE_DETACHED, OK),
    (CLONE_PTRACE | CLONE_UNTRACED | CLONE_IO | CLONE_CHILD_SETTID, OK),
    (CLONE_NEWNS | CLONE_FS, EINVAL),
    (CLONE_NEWUSER | CLONE_FS, EINVAL),
    (CLONE_NEWNS | CLONE_NEWUSER | CLONE_FS, EINVAL),
    (CLONE_NEWPID | CLONE_NEWNS | CLONE_FS, EINVAL),
    (CLONE_NEWNET | CLONE_SIGHAND, EINVAL),             # SIGHAND without VM first
    (CLONE_NEWUTS | CLONE_THREAD | CLONE_VM, EINVAL),   # THREAD without SIGHAND first
    (TVS | CLONE_NEWUSER, EINVAL),
    (TVS | CLONE_NEWPID, EINVAL),
    (TVS | CLONE_NEWNS, EPERM),                         # allowed by Linux: a namespace
    (CLONE_PIDFD | CLONE_DETACHED, EINVAL),
    (CLONE_PIDFD | CLONE_SIGHAND, EINVAL),
    (CLONE_NEWIPC | CLONE_SYSVSEM, EINVAL),             # after the capability check
    (CLONE_NEWNS, EPERM),
    (CLONE_NEWUTS, EPERM),
    (CLONE_NEWIPC, EPERM),
    (CLONE_NEWPID, OK),
    (CLONE_NEWPID | CLONE_NEWUTS, EPERM),
    (CLONE_NEWNET, EPERM),
    (CLONE_NEWCGROUP, EPERM),
    (CLONE_NEWUSER, EPERM),
    (CLONE_NEWTIME, EPERM),
    (CLONE_NEWUSER | CLONE_NEWNS, EPERM),
]


def _name(flags: int) -> str:
    import kernel.uapi as u
    names = [n for n in dir(u) if n.startswith("CLONE_") and not n.startswith("CLONE_ARGS")
             and flags & getattr(u, n) == getattr(u, n) and getattr(u, n)]
    return "|".join(sorted(names)) or "0"


@pytest.fixture
def root(monkeypatch):
    monkeypatch.setattr(fork, "capable_sys_admin", lambda: True)


@pytest.fixture
def user(monkeypatch):
    monkeypatch.setattr(fork, "capable_sys_admin", lambda: False)


@pytest.mark.parametrize("flags, errno", FLAG_TABLE, ids=[_name(f) for f, _ in FLAG_TABLE])
def test_flag_table_as_root(root, flags: int, errno: Optional[int]) -> None:
    assert clone_errno(flags, _task(300)) == errno


@pytest.mark.parametrize("flags, errno", [
    (CLONE_NEWIPC | CLONE_SYSVSEM, EPERM),          # the capability check comes first
    (CLONE_NEWUSER | CLONE_NEWIPC | CLONE_SYSVSEM, EINVAL),  # capable in the new userns
    (CLONE_NEWNS | CLONE_FS, EINVAL),               # flag checks before any capability
    (TVS | CLONE_NEWPID, EINVAL),
    (CLONE_NEWNS, EPERM),
    (TVS, OK),
])
def test_without_cap_sys_admin(user, flags: int, errno: Optional[int]) -> None:
    assert clone_errno(flags, _task(300)) == errno


def test_clone_parent_from_init_is_einval(root) -> None:
    assert clone_errno(CLONE_PARENT, _task(1)) == EINVAL
    assert clone_errno(CLONE_PARENT, _task(2)) is None
    # A thread of init is init too (SIGNAL_UNKILLABLE is per group).
    t = _task(40)
    t.tgid = 1
    assert clone_errno(CLONE_PARENT, t) == EINVAL


@pytest.mark.parametrize("tls, errno", [
    (0, OK), (0x7fff_ffff_efff, OK), (0x7fff_ffff_f000, EPERM),
    (0x0000_8000_0000_0000, EPERM), (0xffff_8000_0000_0000, EPERM),
])
def test_settls_outside_user_range_is_eperm(root, tls: int, errno: Optional[int]) -> None:
    assert clone_errno(CLONE_SETTLS, _task(300), tls) == errno
    assert clone_errno(0, _task(300), tls) is None       # tls unused without the flag


def _args(flags: int = 0, exit_signal: int = 17, stack: int = 0, stack_size: int = 0):
    return kernel_clone_args(flags=flags, exit_signal=exit_signal, stack=stack,
                             stack_size=stack_size)


@pytest.mark.parametrize("kargs, valid", [
    (_args(), True),
    (_args(exit_signal=0), True),
    (_args(CLONE_CLEAR_SIGHAND), True),
    (_args(CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM), False),
    (_args(CLONE_DETACHED), False),
    (_args(17, exit_signal=0), False),                 # CSIGNAL bits in flags
    (_args(CLONE_NEWTIME), True),                      # the one CSIGNAL bit clone3 takes
    (_args(1 << 34), False),
    (_args(1 << 63), False),
    (_args(CLONE_INTO_CGROUP), True),
    (_args(TVS), False),                               # CLONE_THREAD with an exit signal
    (_args(TVS, exit_signal=0), True),
    (_args(CLONE_PARENT), False),
    (_args(CLONE_PARENT, exit_signal=0), True),
    (_args(stack=0x10000), False),
    (_args(stack_size=4096), False),
    (_args(stack=0x10000, stack_size=4096), True),
    (_args(stack=0x7fff_ffff_e000, stack_size=0x1000), True),
    (_args(stack=0x7fff_ffff_f000, stack_size=0x2000), False),
    (_args(stack=0xffff_8000_0000_0000, stack_size=4096), False),
])
def test_clone3_args_valid(kargs: kernel_clone_args, valid: bool) -> None:
    assert clone3_args_valid(kargs) is valid


def test_clone3_stack_starts_at_its_top() -> None:
    k = _args(stack=0x10000, stack_size=0x3000)
    assert clone3_args_valid(k)
    assert k.stack == 0x13000


@pytest.mark.parametrize("set_tid, errno", [
    ([400], OK), ([1], OK),                 # taking the pid (EEXIST if used) comes later
    ([0], EINVAL), ([-5], EINVAL), ([32768], EINVAL), ([400, 401], EINVAL),
])
def test_set_tid(kernel_state, root, set_tid: list[int], errno: Optional[int]) -> None:
    try:
        check_set_tid(set_tid, kernel_state.init_pid_ns)
    except Errno as e:
        assert e.errno == errno
    else:
        assert errno is None


def test_set_tid_needs_privilege(kernel_state, user) -> None:
    with pytest.raises(Errno) as ei:
        check_set_tid([400], kernel_state.init_pid_ns)
    assert ei.value.errno == EPERM


def test_set_tid_one_per_namespace_level(kernel_state, root) -> None:
    """In a namespace two levels down, set_tid may name three pids,
    innermost first, each checked against its level's pid_max."""
    ns1 = pid_namespace(1, kernel_state.init_pid_ns, PidAllocator(32768))
    ns2 = pid_namespace(2, ns1, PidAllocator(100))
    check_set_tid([5, 400, 401], ns2)
    for bad in ([5, 400, 401, 402], [100, 400, 401], [5, 0]):
        with pytest.raises(Errno) as ei:
            check_set_tid(bad, ns2)
        assert ei.value.errno == EINVAL


def test_nesting_stops_at_linux_depth(kernel_state) -> None:
    from kernel.pid_namespace import MAX_PID_NS_LEVEL, create_pid_namespace
    from kernel.uapi import ENOSPC
    ns = kernel_state.init_pid_ns
    for _ in range(MAX_PID_NS_LEVEL):
        ns = create_pid_namespace(ns)
    assert ns.level == MAX_PID_NS_LEVEL
    with pytest.raises(Errno) as ei:
        create_pid_namespace(ns)
    assert ei.value.errno == ENOSPC
