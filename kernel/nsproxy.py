"""unshare and setns (kernel/fork.c ksys_unshare, kernel/nsproxy.c setns),
for the one namespace kind implemented, the pid namespace.

Neither moves the caller: unshare(CLONE_NEWPID) and setns(fd,
CLONE_NEWPID) only choose the namespace the caller's next children are
born in (nsproxy->pid_ns_for_children); the first child born in a new
one is its init.
"""
from __future__ import annotations

from .fork import _NS_FLAGS, capable_sys_admin
from .fs.file import exit_files
from .panic import Errno
from .percpu import current
from .pid_namespace import create_pid_namespace, is_ancestor_ns, task_active_pid_ns
from .syscalls import syscall
from .task import fs_struct
from .types import c_int, c_ulong
from .uapi import (
    CLONE_FILES, CLONE_FS, CLONE_NEWIPC, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, CLONE_SIGHAND,
    CLONE_SYSVSEM, CLONE_THREAD, CLONE_VM, EINVAL, EPERM,
)

UNSHARE_FLAGS = (CLONE_THREAD | CLONE_FS | CLONE_SIGHAND | CLONE_VM | CLONE_FILES
                 | CLONE_SYSVSEM | _NS_FLAGS)


def check_unshare_flags(flags: int) -> None:
    """What unshare may undo: threads, handlers and the VM only when they
    are not shared with anyone (else EINVAL)."""
    tsk = current()
    if flags & ~UNSHARE_FLAGS:
        raise Errno(EINVAL)
    if flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) and tsk.signal.nr_threads > 1:
        raise Errno(EINVAL)
    if flags & (CLONE_SIGHAND | CLONE_VM) and tsk.sighand.count > 1:
        raise Errno(EINVAL)
    if flags & CLONE_VM and tsk.mm is not None and tsk.mm.mm_users > 1:
        raise Errno(EINVAL)


@syscall("unshare")
def sys_unshare(unshare_flags: c_ulong) -> int:
    flags = unshare_flags & 0xFFFFFFFF
    # CLONE_NEWUSER implies CLONE_THREAD; a new mount namespace, CLONE_FS.
    if flags & CLONE_NEWUSER:
        flags |= CLONE_THREAD | CLONE_FS
    if flags & CLONE_NEWNS:
        flags |= CLONE_FS
    check_unshare_flags(flags)
    tsk = current()
    ns_flags = flags & _NS_FLAGS
    if ns_flags:
        if not capable_sys_admin():
            raise Errno(EPERM)
        if ns_flags & ~CLONE_NEWPID:
            raise Errno(EPERM)           # only pid namespaces are implemented
        if flags & (CLONE_NEWIPC | CLONE_SYSVSEM) == (CLONE_NEWIPC | CLONE_SYSVSEM):
            raise Errno(EINVAL)
    new_pid_ns = None
    if flags & CLONE_NEWPID:
        # copy_pid_ns: only from the namespace the caller lives in (a
        # second unshare before a child was born there is EINVAL).
        active = task_active_pid_ns(tsk)
        if (tsk.pid_ns_for_children or active) is not active:
            raise Errno(EINVAL)
        new_pid_ns = create_pid_namespace(active)
    if flags & CLONE_FS and tsk.fs.users > 1:
        old = tsk.fs
        tsk.fs = fs_struct(old.cwd, old.root, old.umask)
        old.users -= 1
    if flags & CLONE_FILES and tsk.files.count > 1:
        new = tsk.files.dup_fd()
        exit_files(tsk)
        tsk.files = new
    if new_pid_ns is not None:
        tsk.pid_ns_for_children = new_pid_ns
    return 0


@syscall("setns")
def sys_setns(fd: c_int, flags: c_int) -> int:
    """Join the pid namespace an open /proc/PID/ns/pid names for the
    caller's next children: it must be the caller's own or one below it."""
    from .fs.proc import ProcNsFile
    tsk = current()
    f = tsk.files.fget(fd)               # EBADF
    if not isinstance(f.private, ProcNsFile):
        raise Errno(EINVAL)               # not a namespace file (pidfds are not modelled)
    if flags and flags != CLONE_NEWPID:
        raise Errno(EINVAL)
    if not capable_sys_admin():
        raise Errno(EPERM)
    target = f.private.ns
    active = task_active_pid_ns(tsk)
    if not is_ancestor_ns(active, target):
        raise Errno(EINVAL)               # pidns_install: only into one's own subtree
    tsk.pid_ns_for_children = None if target is active else target
    return 0

