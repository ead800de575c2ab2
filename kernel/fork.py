"""Process creation: fork, vfork, clone, clone3 -> kernel_clone ->
copy_process.  What the child shares with its parent is decided flag by
flag as Linux does; each piece copy_process builds is undone by a cleanup
list if a later step fails, so no half-built task survives.
"""
from __future__ import annotations

import contextlib
import struct
from dataclasses import dataclass

from unicorn import x86_const as X

from . import state
from .fs.file import copy_files, exit_files
from .mm.uaccess import copy_from_user, put_user_u32
from .panic import Errno, OutOfMemory
from .percpu import current, this_cpu
from .sched.core import wake_up_new_task
from .sched.wait import BlockOn, wait_queue_head
from .syscalls import syscall
from .task import (
    PF_FORKNOEXEC, TASK_NEW, fs_struct, k_sigaction, sighand_struct, signal_struct, task_struct,
)
from .types import UPtr, c_ulong, size_t
from .uapi import (
    CLONE_ARGS_SIZE_VER0, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_CLEAR_SIGHAND,
    CLONE_DETACHED, CLONE_FS, CLONE_INTO_CGROUP, CLONE_NEWCGROUP,
    CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER,
    CLONE_NEWUTS, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SETTLS,
    CLONE_SIGHAND, CLONE_THREAD, CLONE_VFORK, CLONE_VM, CSIGNAL,
    E2BIG, EAGAIN, EINVAL, ENOMEM, EPERM, RLIMIT_NPROC, SIGCHLD,
)

_NS_FLAGS = (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID
             | CLONE_NEWNET | CLONE_NEWCGROUP)


@dataclass
class kernel_clone_args:
    flags: int = 0
    exit_signal: int = 0
    stack: int = 0
    stack_size: int = 0
    tls: int = 0
    child_tid: int = 0
    parent_tid: int = 0
    pidfd: int = 0


def copy_fs(clone_flags: int, tsk: task_struct, parent: task_struct) -> None:
    if clone_flags & CLONE_FS:
        parent.fs.users += 1          # dropped by exit_fs
        tsk.fs = parent.fs
    else:
        p = parent.fs
        tsk.fs = fs_struct(p.cwd, p.root, p.umask)


def exit_fs(tsk: task_struct) -> None:
    if tsk.fs is not None:
        tsk.fs.users -= 1
        tsk.fs = None


def copy_sighand(clone_flags: int, tsk: task_struct, parent: task_struct) -> None:
    if clone_flags & CLONE_SIGHAND:
        parent.sighand.count += 1     # dropped by exit_sighand
        tsk.sighand = parent.sighand
        return
    sh = sighand_struct()
    for i, ka in enumerate(parent.sighand.action):
        sh.action[i] = k_sigaction(ka.handler, ka.flags, ka.restorer, ka.mask)
    if clone_flags & CLONE_CLEAR_SIGHAND:
        for ka in sh.action:
            if ka.handler > 1:        # neither SIG_DFL nor SIG_IGN
                ka.handler, ka.flags, ka.mask = 0, 0, 0
    tsk.sighand = sh


def exit_sighand(tsk: task_struct) -> None:
    if tsk.sighand is not None:
        tsk.sighand.count -= 1


def copy_signal(clone_flags: int, tsk: task_struct, parent: task_struct) -> None:
    if clone_flags & CLONE_THREAD:
        sig = parent.signal
        sig.nr_threads += 1
        sig.live += 1
        sig.threads.append(tsk)
        tsk.signal = sig
        return
    p = parent.signal
    sig = signal_struct(threads=[tsk], pgrp=p.pgrp, session=p.session,
                        has_child_subreaper=p.has_child_subreaper or p.is_child_subreaper,
                        rlim=[list(r) for r in p.rlim], wait_chldexit=wait_queue_head())
    tsk.signal = sig


def check_clone_flags(clone_flags: int) -> None:
    """copy_process's flag checks, errno for errno."""
    if clone_flags & (CLONE_NEWNS | CLONE_FS) == (CLONE_NEWNS | CLONE_FS):
        raise Errno(EINVAL)
    if clone_flags & (CLONE_NEWUSER | CLONE_FS) == (CLONE_NEWUSER | CLONE_FS):
        raise Errno(EINVAL)
    if clone_flags & CLONE_THREAD and not clone_flags & CLONE_SIGHAND:
        raise Errno(EINVAL)
    if clone_flags & CLONE_SIGHAND and not clone_flags & CLONE_VM:
        raise Errno(EINVAL)
    if clone_flags & CLONE_PARENT and current().pid == 1:
        raise Errno(EINVAL)
    if clone_flags & CLONE_THREAD and clone_flags & (CLONE_NEWUSER | CLONE_NEWPID):
        raise Errno(EINVAL)
    if clone_flags & CLONE_PIDFD and clone_flags & (CLONE_DETACHED | CLONE_THREAD):
        raise Errno(EINVAL)
    if clone_flags & _NS_FLAGS:
        raise Errno(EPERM)            # namespaces arrive with the PID-namespace issue
    if clone_flags & CLONE_PIDFD:
        raise Errno(EINVAL)           # pidfds are not implemented yet


def copy_process(args: kernel_clone_args) -> task_struct:
    """Build the child of the current task.  Returns it in TASK_NEW,
    linked into the task tree, its context ready; raises Errno with
    nothing left behind on failure."""
    K = state.K
    parent = current()
    flags = args.flags
    check_clone_flags(flags)
    if parent.signal.flags & 0x4:     # SIGNAL_GROUP_EXIT: the group is dying
        raise Errno(4)                # EINTR (restart_syscall in Linux)
    if K.nr_user_tasks >= parent.signal.rlim[RLIMIT_NPROC][0]:
        raise Errno(EAGAIN)
    with contextlib.ExitStack() as undo:
        pid = K.pids.alloc_pid()
        undo.callback(K.pids.free_pid, pid)
        tsk = task_struct(pid=pid, tgid=pid, comm=parent.comm, state=TASK_NEW)
        tsk.flags = PF_FORKNOEXEC
        tsk.blocked = parent.blocked
        tsk.cpu = parent.cpu
        try:
            copy_files(flags, tsk, parent)
        except OutOfMemory:
            raise Errno(ENOMEM) from None
        undo.callback(exit_files, tsk)
        copy_fs(flags, tsk, parent)
        undo.callback(exit_fs, tsk)
        copy_sighand(flags, tsk, parent)
        undo.callback(exit_sighand, tsk)
        if flags & CLONE_VM:
            tsk.mm = parent.mm.mmget()
        else:
            try:
                tsk.mm = parent.mm.dup_mmap(K.machine.kernel_pml4e)
            except OutOfMemory:
                raise Errno(ENOMEM) from None
        undo.callback(tsk.mm.mmput)
        tsk.active_mm = tsk.mm
        # The child's CPU state: the parent's at this syscall, returning 0.
        tsk.ctx = child_context(args, flags)
        if flags & CLONE_PARENT_SETTID:
            put_user_u32(args.parent_tid, pid)
        if flags & CLONE_CHILD_SETTID:
            tsk.set_child_tid = args.child_tid
            from .mm.uaccess import copy_to_user
            copy_to_user(args.child_tid, struct.pack("<I", pid), tsk.mm)
        if flags & CLONE_CHILD_CLEARTID:
            tsk.clear_child_tid = args.child_tid
        # Nothing can fail from here on: let go of the undo steps.
        undo.pop_all()
    copy_signal(flags, tsk, parent)
    if flags & CLONE_THREAD:
        tsk.tgid = parent.tgid
        tsk.group_leader = parent.group_leader
        tsk.exit_signal = -1
    else:
        tsk.group_leader = tsk
        tsk.exit_signal = args.exit_signal
    if flags & (CLONE_PARENT | CLONE_THREAD):
        tsk.real_parent = parent.real_parent
        if not flags & CLONE_THREAD:
            tsk.exit_signal = parent.group_leader.exit_signal
    else:
        tsk.real_parent = parent
    tsk.parent = tsk.real_parent
    tsk.parent.children.append(tsk)
    K.tasks[pid] = tsk
    K.nr_user_tasks += 1
    K.counters["forks"] += 1
    tsk.start_time = 0
    return tsk


def child_context(args: kernel_clone_args, flags: int):
    """Save the CPU state at the parent's syscall as the child's, with the
    child's return value, stack and TLS."""
    cpu = this_cpu()
    uc = cpu.hw.uc
    regs = struct.unpack_from("<9Q", cpu.hw.shared)
    next_rip, rflags = regs[7], regs[8]
    ctx = uc.context_save()
    ctx.reg_write(X.UC_X86_REG_RIP, next_rip)
    ctx.reg_write(X.UC_X86_REG_RAX, 0)
    ctx.reg_write(X.UC_X86_REG_RCX, next_rip)
    ctx.reg_write(X.UC_X86_REG_R11, rflags)
    if args.stack:
        ctx.reg_write(X.UC_X86_REG_RSP, args.stack + args.stack_size)
    if flags & CLONE_SETTLS:
        ctx.reg_write(X.UC_X86_REG_FS_BASE, args.tls)
    return ctx


def kernel_clone(args: kernel_clone_args) -> int:
    """Create the child and make it runnable.  With CLONE_VFORK the parent
    sleeps until the child exits or execs, then returns the child's pid."""
    K = state.K
    tsk = copy_process(args)
    pid = tsk.pid
    if K.listeners:
        K.emit("fork", parent=current(), child=tsk, flags=args.flags)
    if args.flags & CLONE_VFORK:
        done = wait_queue_head()
        tsk.vfork_done = done
        wake_up_new_task(tsk)

        def vfork_wait() -> int:
            if tsk.vfork_done is None:
                return pid
            raise BlockOn([done], vfork_wait, interruptible=False)
        return vfork_wait()
    wake_up_new_task(tsk)
    return pid


@syscall("fork")
def sys_fork() -> int:
    return kernel_clone(kernel_clone_args(exit_signal=SIGCHLD))


@syscall("vfork")
def sys_vfork() -> int:
    return kernel_clone(kernel_clone_args(flags=CLONE_VFORK | CLONE_VM, exit_signal=SIGCHLD))


@syscall("clone")
def sys_clone(clone_flags: c_ulong, newsp: UPtr, parent_tidptr: UPtr, child_tidptr: UPtr,
              tls: c_ulong) -> int:
    # x86-64 argument order: flags, stack, parent_tid, child_tid, tls.
    sig = clone_flags & CSIGNAL
    if sig > 64:
        raise Errno(EINVAL)
    return kernel_clone(kernel_clone_args(flags=clone_flags & ~CSIGNAL & 0xFFFFFFFF,
                                          exit_signal=sig, stack=newsp, tls=tls,
                                          child_tid=child_tidptr, parent_tid=parent_tidptr))


_CLONE_ARGS = struct.Struct("<11Q")  # up to VER2 (88 bytes)


@syscall("clone3")
def sys_clone3(uargs: UPtr, size: size_t) -> int:
    if size < CLONE_ARGS_SIZE_VER0:
        raise Errno(EINVAL)
    if size > 4096:
        raise Errno(E2BIG)
    raw = copy_from_user(uargs, size)
    if size > _CLONE_ARGS.size and any(raw[_CLONE_ARGS.size:]):
        raise Errno(E2BIG)
    raw = raw[:_CLONE_ARGS.size].ljust(_CLONE_ARGS.size, b"\0")
    (flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
     set_tid, set_tid_size, cgroup) = _CLONE_ARGS.unpack(raw)
    if flags & ~(0xFFFFFFFF | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) or flags & CSIGNAL:
        raise Errno(EINVAL)
    if exit_signal & ~CSIGNAL or exit_signal > 64:
        raise Errno(EINVAL)
    if (stack == 0) != (stack_size == 0) and not (stack == 0 and stack_size == 0):
        raise Errno(EINVAL)
    if set_tid_size or set_tid:
        raise Errno(EINVAL)
    if flags & (CLONE_DETACHED | CLONE_INTO_CGROUP):
        raise Errno(EINVAL)
    if flags & (CLONE_THREAD | CLONE_PARENT) and exit_signal:
        raise Errno(EINVAL)
    return kernel_clone(kernel_clone_args(flags=flags, exit_signal=exit_signal, stack=stack,
                                          stack_size=stack_size, tls=tls, child_tid=child_tid,
                                          parent_tid=parent_tid, pidfd=pidfd))

