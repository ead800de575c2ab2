"""Process creation: fork, vfork, clone, clone3 -> kernel_clone ->
copy_process.  What the child shares with its parent is decided flag by
flag as Linux does; each piece copy_process builds is undone by a cleanup
list if a later step fails, so no half-built task survives.
"""
from __future__ import annotations

import contextlib
import struct
from dataclasses import dataclass, field

from unicorn import x86_const as X

from . import state
from .cred import CAP_SYS_ADMIN, CAP_SYS_RESOURCE, capable
from .fs.file import copy_files, exit_files
from .mm.mmap import TASK_SIZE
from .mm.uaccess import copy_from_user, copy_to_user, put_user_u32
from .panic import Errno, OutOfMemory
from .percpu import current, this_cpu
from .pid_namespace import alloc_pid, attach_pid, task_pid_vnr
from .sched.core import ktime_get_ns, wake_up_new_task
from .sched.syscalls import sched_fork
from .sched.wait import BlockOn, wait_queue_head
from .syscalls import syscall
from .task import (
    PF_FORKNOEXEC, SIGNAL_GROUP_EXIT, SIGNAL_UNKILLABLE, TASK_NEW, fs_struct, sighand_struct, signal_struct, task_struct,
)
from .types import UPtr, c_ulong, size_t
from .uapi import (
    CLONE_ARGS_SIZE_VER0, CLONE_ARGS_SIZE_VER2, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID,
    CLONE_CLEAR_SIGHAND, CLONE_DETACHED, CLONE_FS, CLONE_INTO_CGROUP, CLONE_NEWCGROUP,
    CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER,
    CLONE_NEWUTS, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SETTLS,
    CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD, CLONE_VFORK, CLONE_VM, CSIGNAL,
    E2BIG, EAGAIN, EBADF, EINTR, EINVAL, ENOMEM, EPERM, RLIMIT_NPROC, SIGCHLD, _NSIG,
)

# CLONE_NEWTIME shares its bit with the exit signal: only clone3 can ask for it.
_NS_FLAGS = (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID
             | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME)
CLONE_LEGACY_FLAGS = 0xFFFFFFFF
PAGE_SIZE = 4096


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
    set_tid: list[int] = field(default_factory=list)   # clone3: the pid asked for
    cgroup: int = 0
    entry_regs: bytes = b""      # the syscall's registers, kept for a retry after sleeping


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
    sh = sighand_struct(action=list(parent.sighand.action))
    if clone_flags & CLONE_CLEAR_SIGHAND:
        for i, ka in enumerate(sh.action):
            if ka.handler > 1:        # neither SIG_DFL nor SIG_IGN
                sh.action[i] = ka._replace(handler=0, flags=0, mask=0)
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


def is_global_init(tsk: task_struct) -> bool:
    return tsk.tgid == 1


def capable_sys_admin() -> bool:
    return capable(CAP_SYS_ADMIN)


def check_clone_flags(clone_flags: int, parent: task_struct) -> None:
    """The checks copy_process makes of the flags alone, in Linux's order,
    before it builds anything: each failure is EINVAL."""
    # Sharing the root with a task in another mount or user namespace.
    if clone_flags & (CLONE_NEWNS | CLONE_FS) == (CLONE_NEWNS | CLONE_FS):
        raise Errno(EINVAL)
    if clone_flags & (CLONE_NEWUSER | CLONE_FS) == (CLONE_NEWUSER | CLONE_FS):
        raise Errno(EINVAL)
    # Thread groups share handlers, and shared handlers imply a shared VM.
    if clone_flags & CLONE_THREAD and not clone_flags & CLONE_SIGHAND:
        raise Errno(EINVAL)
    if clone_flags & CLONE_SIGHAND and not clone_flags & CLONE_VM:
        raise Errno(EINVAL)
    # init may not create siblings: they would have no reaper (a pid
    # namespace's init neither: SIGNAL_UNKILLABLE).
    if clone_flags & CLONE_PARENT and (is_global_init(parent) or (
            parent.signal is not None and parent.signal.flags & SIGNAL_UNKILLABLE)):
        raise Errno(EINVAL)
    # A thread stays in its group's pid and user namespace.
    if clone_flags & CLONE_THREAD and clone_flags & (CLONE_NEWUSER | CLONE_NEWPID):
        raise Errno(EINVAL)
    # ... and in its pid namespace: not once unshare(CLONE_NEWPID) or setns
    # named another for children.
    if clone_flags & CLONE_THREAD and parent.pid_ns_for_children is not None:
        from .pid_namespace import task_active_pid_ns
        if parent.pid_ns_for_children is not task_active_pid_ns(parent):
            raise Errno(EINVAL)
    # CLONE_DETACHED is kept free for a later pidfd meaning (since 6.9
    # CLONE_THREAD is allowed with CLONE_PIDFD).
    if clone_flags & CLONE_PIDFD and clone_flags & CLONE_DETACHED:
        raise Errno(EINVAL)


def copy_namespaces(clone_flags: int, parent: task_struct):
    """copy_creds (CLONE_NEWUSER) and copy_namespaces: the pid namespace
    the child lives in (a new one for CLONE_NEWPID, whose init it is).
    Of the other namespaces none is implemented: where Linux would make
    one we refuse with EPERM, which is what an unprivileged caller gets;
    the checks Linux makes before that give its errno."""
    from .pid_namespace import create_pid_namespace, task_active_pid_ns
    ns = clone_flags & _NS_FLAGS
    pid_ns = parent.pid_ns_for_children or task_active_pid_ns(parent)
    if not ns:
        return pid_ns
    # Inside a new user namespace the caller holds CAP_SYS_ADMIN.
    if ns & ~CLONE_NEWUSER and not (clone_flags & CLONE_NEWUSER or capable_sys_admin()):
        raise Errno(EPERM)
    # CLONE_SYSVSEM shares the semaphore undo list, which a new IPC
    # namespace must not see.
    if clone_flags & (CLONE_NEWIPC | CLONE_SYSVSEM) == (CLONE_NEWIPC | CLONE_SYSVSEM):
        raise Errno(EINVAL)
    if ns & ~CLONE_NEWPID:
        raise Errno(EPERM)            # only pid namespaces are implemented
    return create_pid_namespace(pid_ns)


def copy_thread_tls(clone_flags: int, tls: int) -> None:
    """x86's copy_thread: CLONE_SETTLS goes through ARCH_SET_FS, which
    refuses a base outside the user range."""
    if clone_flags & CLONE_SETTLS and tls >= TASK_SIZE:
        raise Errno(EPERM)


def check_set_tid(set_tid: list[int], pid_ns) -> None:
    """alloc_pid's checks of clone3's set_tid: at most one pid per level
    of the child's namespace, innermost first, each below pid_max (the
    caller then takes them, EEXIST if one is in use)."""
    if len(set_tid) > pid_ns.level + 1:   # more levels than namespaces
        raise Errno(EINVAL)
    for ns, tid in zip(pid_ns.ancestors(), set_tid):
        if tid < 1 or tid >= ns.pids.pid_max:
            raise Errno(EINVAL)
    if not capable_sys_admin():       # checkpoint_restore_ns_capable
        raise Errno(EPERM)


def copy_process(args: kernel_clone_args) -> task_struct:
    """Build the child of the current task.  Returns it in TASK_NEW,
    linked into the task tree, its context ready; raises Errno with
    nothing left behind on failure."""
    K = state.K
    parent = current()
    flags = args.flags
    check_clone_flags(flags, parent)
    if parent.signal.flags & SIGNAL_GROUP_EXIT:   # the group is dying
        raise Errno(EINTR)                        # (restart_syscall in Linux)
    # RLIMIT_NPROC counts the user's tasks; root (INIT_USER, and anyone
    # with CAP_SYS_RESOURCE/CAP_SYS_ADMIN) is exempt, as in Linux.
    if K.nr_user_tasks >= parent.signal.rlim[RLIMIT_NPROC][0] and parent.cred.uid != 0:
        if not capable(CAP_SYS_RESOURCE) and not capable(CAP_SYS_ADMIN):
            raise Errno(EAGAIN)
    # The checks that need no object built, in copy_process's order:
    # namespaces, then the TLS (copy_thread), then the pid asked for.
    pid_ns = copy_namespaces(flags, parent)
    copy_thread_tls(flags, args.tls)
    if args.set_tid:
        check_set_tid(args.set_tid, pid_ns)
    with contextlib.ExitStack() as undo:
        nrs = alloc_pid(pid_ns, args.set_tid)
        undo.callback(_free_nrs, pid_ns, nrs)
        pid = nrs[0]
        if flags & CLONE_PIDFD:
            raise Errno(EINVAL)       # pidfds are not implemented yet
        if flags & CLONE_INTO_CGROUP:
            # cgroup_css_set_fork: the fd must name a cgroup2 directory,
            # and there is no cgroup2 filesystem here.
            raise Errno(EBADF)
        tsk = task_struct(pid=pid, tgid=pid, comm=parent.comm, state=TASK_NEW)
        tsk.cred = parent.cred            # copy_creds: shared until one of them changes it
        tsk.flags = PF_FORKNOEXEC
        tsk.blocked = parent.blocked
        # The fault record and the alternate stack are copied; a thread
        # with its own stack in the same mm gets none (sas_ss_reset).
        tsk.trap_nr, tsk.error_code, tsk.cr2 = parent.trap_nr, parent.error_code, parent.cr2
        if flags & (CLONE_VM | CLONE_VFORK) != CLONE_VM:
            tsk.sas_ss_sp, tsk.sas_ss_size = parent.sas_ss_sp, parent.sas_ss_size
            tsk.sas_ss_flags = parent.sas_ss_flags
        tsk.cpu = parent.cpu
        sched_fork(tsk, parent)
        tsk.cpus_mask = parent.cpus_mask
        copy_files(flags, tsk, parent)    # OutOfMemory: kernel_clone decides
        undo.callback(exit_files, tsk)
        copy_fs(flags, tsk, parent)
        undo.callback(exit_fs, tsk)
        copy_sighand(flags, tsk, parent)
        undo.callback(exit_sighand, tsk)
        if flags & CLONE_VM:
            tsk.mm = parent.mm.mmget()
        else:
            tsk.mm = parent.mm.dup_mmap(K.machine.kernel_pml4e)
        undo.callback(tsk.mm.mmput)
        tsk.active_mm = tsk.mm
        # The child's CPU state: the parent's at this syscall, returning 0.
        tsk.ctx = child_context(args, flags)
        if flags & CLONE_CHILD_SETTID:
            # Linux writes it from the child (schedule_tail) and ignores a
            # fault; the child's memory is already its own here.
            tsk.set_child_tid = args.child_tid
            try:
                copy_to_user(args.child_tid, struct.pack("<I", nrs[-1]), tsk.mm)
            except Errno:
                pass
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
    if not flags & CLONE_THREAD:
        tsk.parent.children.append(tsk)   # only group leaders: threads share it
    attach_pid(tsk, pid_ns, nrs)
    if nrs[-1] == 1 and pid_ns.level and pid_ns.child_reaper is None:
        # The first task of a new namespace is its init.
        pid_ns.child_reaper = tsk
        tsk.signal.flags |= SIGNAL_UNKILLABLE
    K.nr_user_tasks += 1
    K.counters["forks"] += 1
    tsk.start_time = ktime_get_ns()
    return tsk


def _free_nrs(pid_ns, nrs: tuple[int, ...]) -> None:
    for ns, nr in zip(reversed(list(pid_ns.ancestors())), nrs):
        ns.pids.free_pid(nr)


def child_context(args: kernel_clone_args, flags: int):
    """Save the CPU state at the parent's syscall as the child's, with the
    child's return value, stack and TLS."""
    cpu = this_cpu()
    regs = struct.unpack_from("<9Q", args.entry_regs or cpu.hw.shared)
    next_rip, rflags = regs[7], regs[8]
    ids = [X.UC_X86_REG_RIP, X.UC_X86_REG_RAX, X.UC_X86_REG_RCX, X.UC_X86_REG_R11]
    vals = [next_rip, 0, next_rip, rflags]
    if args.stack:
        ids.append(X.UC_X86_REG_RSP)
        vals.append(args.stack)
    if flags & CLONE_SETTLS:
        ids.append(X.UC_X86_REG_FS_BASE)
        vals.append(args.tls)
    # One batch into the saved context (per-register writes through the
    # binding cost microseconds each).
    return cpu.hw.save_context((tuple(ids), tuple(vals)))


OOM_RETRIES = 8
OOM_WAIT_NS = 1_000_000


def kernel_clone(args: kernel_clone_args, tries: int = 0) -> int:
    """Create the child and make it runnable.  With CLONE_VFORK the parent
    sleeps until the child exits or execs, then returns the child's pid.
    Out of frames, it sleeps too: see below."""
    K = state.K
    # For legacy clone CLONE_PIDFD returns the pidfd through parent_tid, so
    # the two cannot both be asked for at one address.
    if args.flags & CLONE_PIDFD and args.flags & CLONE_PARENT_SETTID \
            and args.pidfd == args.parent_tid:
        raise Errno(EINVAL)
    try:
        tsk = copy_process(args)
    except OutOfMemory as e:
        # copy_process undid everything.  The page allocator would not
        # fail yet (__alloc_pages_may_oom): it kills a victim and, after
        # a tick for it to die (schedule_timeout_killable), tries again.
        # A retry runs after a sleep, when the CPU's syscall registers are
        # another task's: child_context then reads the kept copy.
        if e.injected or tries >= OOM_RETRIES:
            raise
        from .traps import oom_kill
        args.entry_regs = args.entry_regs or bytes(this_cpu().hw.shared[:72])
        oom_kill(this_cpu(), current())
        raise BlockOn([], lambda: kernel_clone(args, tries + 1),
                      deadline=ktime_get_ns() + OOM_WAIT_NS, interruptible=False,
                      killable=True) from None
    pid = task_pid_vnr(tsk)           # as the parent's namespace sees it
    if args.flags & CLONE_PARENT_SETTID:
        try:                          # put_user, its fault ignored
            put_user_u32(args.parent_tid, pid)
        except Errno:
            pass
    if K.listeners:
        K.emit("fork", parent=current(), child=tsk, flags=args.flags)
    if args.flags & CLONE_VFORK:
        done = wait_queue_head()
        tsk.vfork_done = done
        wake_up_new_task(tsk)

        def vfork_wait() -> int:
            if tsk.vfork_done is None:
                return pid
            raise BlockOn([done], vfork_wait, interruptible=False, killable=True)
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
    # x86-64 argument order: flags, stack, parent_tid, child_tid, tls.  Only
    # the low 32 bits count; the low byte is the exit signal, not checked
    # (a child whose exit signal is not valid signals nobody).
    flags = clone_flags & 0xFFFFFFFF
    return kernel_clone(kernel_clone_args(flags=flags & ~CSIGNAL, exit_signal=flags & CSIGNAL,
                                          stack=newsp, tls=tls, child_tid=child_tidptr,
                                          parent_tid=parent_tidptr, pidfd=parent_tidptr))


_CLONE_ARGS = struct.Struct("<11Q")  # struct clone_args up to VER2 (88 bytes)
MAX_PID_NS_LEVEL = 32
INT_MAX = 0x7FFFFFFF


def copy_struct_from_user(uaddr: int, ksize: int, usize: int) -> bytes:
    """An extensible struct: a longer user struct must be zero past what
    we know (E2BIG otherwise), a shorter one is zero-extended."""
    if usize > ksize and any(copy_from_user(uaddr + ksize, usize - ksize)):
        raise Errno(E2BIG)
    return copy_from_user(uaddr, min(usize, ksize)).ljust(ksize, b"\0")


def copy_clone_args_from_user(uargs: int, usize: int) -> kernel_clone_args:
    if usize > PAGE_SIZE:
        raise Errno(E2BIG)
    if usize < CLONE_ARGS_SIZE_VER0:
        raise Errno(EINVAL)
    (flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
     set_tid, set_tid_size, cgroup) = _CLONE_ARGS.unpack(
        copy_struct_from_user(uargs, _CLONE_ARGS.size, usize))
    if set_tid_size > MAX_PID_NS_LEVEL:
        raise Errno(EINVAL)
    if (set_tid == 0) != (set_tid_size == 0):
        raise Errno(EINVAL)
    if exit_signal & ~CSIGNAL or exit_signal > _NSIG:      # valid_signal
        raise Errno(EINVAL)
    if flags & CLONE_INTO_CGROUP and (cgroup > INT_MAX or usize < CLONE_ARGS_SIZE_VER2):
        raise Errno(EINVAL)
    tids = list(struct.unpack(f"<{set_tid_size}i", copy_from_user(set_tid, 4 * set_tid_size))) \
        if set_tid else []
    return kernel_clone_args(flags=flags, pidfd=pidfd, child_tid=child_tid,
                             parent_tid=parent_tid, exit_signal=exit_signal, stack=stack,
                             stack_size=stack_size, tls=tls, set_tid=tids, cgroup=cgroup)


def clone3_stack_valid(kargs: kernel_clone_args) -> bool:
    """A stack is given with its size or not at all, and lies in the user
    range; the child starts at its top."""
    if kargs.stack == 0:
        return kargs.stack_size == 0
    end = kargs.stack + kargs.stack_size
    if kargs.stack_size == 0 or end > TASK_SIZE:           # access_ok
        return False
    kargs.stack = end
    return True


def clone3_args_valid(kargs: kernel_clone_args) -> bool:
    flags = kargs.flags
    if flags & ~(CLONE_LEGACY_FLAGS | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP):
        return False
    # CLONE_DETACHED and the CSIGNAL byte (but CLONE_NEWTIME) are free for
    # new meanings in clone3.
    if flags & (CLONE_DETACHED | (CSIGNAL & ~CLONE_NEWTIME)):
        return False
    if flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND) == (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND):
        return False
    if flags & (CLONE_THREAD | CLONE_PARENT) and kargs.exit_signal:
        return False
    return clone3_stack_valid(kargs)


@syscall("clone3")
def sys_clone3(uargs: UPtr, size: size_t) -> int:
    kargs = copy_clone_args_from_user(uargs, size)
    if not clone3_args_valid(kargs):
        raise Errno(EINVAL)
    return kernel_clone(kargs)
