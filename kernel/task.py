"""task_struct and the objects tasks share by clone flags: signal_struct
(CLONE_THREAD), sighand_struct (CLONE_SIGHAND), files (CLONE_FILES, in
fs/file.py), fs_struct (CLONE_FS), mm_struct (CLONE_VM, in mm/mmap.py)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional

from .uapi import RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_STACK, RLIMIT_CORE

if TYPE_CHECKING:
    from .fs.file import files_struct
    from .mm.mmap import mm_struct
    from .sched.wait import wait_queue_head


class TaskState(enum.IntFlag):
    TASK_RUNNING = 0
    TASK_INTERRUPTIBLE = 1
    TASK_UNINTERRUPTIBLE = 2
    __TASK_STOPPED = 4
    __TASK_TRACED = 8
    TASK_PARKED = 0x40
    TASK_WAKEKILL = 0x100
    TASK_NOLOAD = 0x400
    TASK_DEAD = 0x80
    TASK_NEW = 0x800


class ExitState(enum.IntEnum):
    NONE = 0
    EXIT_ZOMBIE = 16
    EXIT_DEAD = 32


TASK_RUNNING = TaskState.TASK_RUNNING
TASK_INTERRUPTIBLE = TaskState.TASK_INTERRUPTIBLE
TASK_UNINTERRUPTIBLE = TaskState.TASK_UNINTERRUPTIBLE
TASK_WAKEKILL = TaskState.TASK_WAKEKILL
TASK_KILLABLE = TaskState.TASK_WAKEKILL | TaskState.TASK_UNINTERRUPTIBLE
TASK_DEAD = TaskState.TASK_DEAD
TASK_NEW = TaskState.TASK_NEW
TASK_PARKED = TaskState.TASK_PARKED
TASK_IDLE = TaskState.TASK_UNINTERRUPTIBLE | TaskState.TASK_NOLOAD
TASK_STOPPED = TaskState.TASK_WAKEKILL | TaskState(4)   # __TASK_STOPPED: group stop (kernel/jobctl.py)
EXIT_ZOMBIE = ExitState.EXIT_ZOMBIE
EXIT_DEAD = ExitState.EXIT_DEAD

PF_EXITING = 0x4
PF_KTHREAD = 0x200000
PF_FORKNOEXEC = 0x40

SIGNAL_GROUP_EXIT = 0x4
SIGNAL_UNKILLABLE = 0x40       # a pid namespace's init: default actions ignored
# Job control (kernel/jobctl.py): the group is stopped / was continued and
# wait has not yet reported it; the parent is still to be told (CLD_*).
SIGNAL_STOP_STOPPED, SIGNAL_STOP_CONTINUED = 0x1, 0x2
SIGNAL_CLD_STOPPED, SIGNAL_CLD_CONTINUED = 0x10, 0x20


class k_sigaction(NamedTuple):
    """One signal's disposition.  Immutable: sigaction replaces the entry,
    so copy_sighand copies the table as one list."""
    handler: int = 0
    flags: int = 0
    restorer: int = 0
    mask: int = 0


SIG_DEFAULT_ACTION = k_sigaction()


@dataclass(eq=False, slots=True)
class sighand_struct:
    action: list = field(default_factory=lambda: [SIG_DEFAULT_ACTION] * 65)
    count: int = 1
    signalfd_wqh: Optional["wait_queue_head"] = None   # readers/pollers of signalfds (fs/signalfd.py)


def default_rlimits() -> list[list[int]]:
    r = [[RLIM_INFINITY, RLIM_INFINITY] for _ in range(RLIM_NLIMITS)]
    r[RLIMIT_STACK] = [8 << 20, RLIM_INFINITY]
    r[RLIMIT_NOFILE] = [1024, 1048576]
    r[RLIMIT_NPROC] = [63_000, 63_000]
    r[RLIMIT_CORE] = [0, RLIM_INFINITY]
    return r


@dataclass(eq=False, slots=True)
class signal_struct:
    """Shared by a thread group (CLONE_THREAD)."""
    nr_threads: int = 1
    live: int = 1
    threads: list = field(default_factory=list)   # tasks of the group, leader first
    flags: int = 0
    group_exit_code: int = 0
    group_exit_task: Any = None
    shared_pending: int = 0                       # sigset of group-wide pending signals
    shared_sigqueue: list = field(default_factory=list)   # their kernel_siginfo, in order
    curr_target: Any = None                       # complete_signal's last choice
    group_stop_count: int = 0                     # threads still to join a group stop
    pgrp: int = 0
    session: int = 0
    is_child_subreaper: bool = False
    has_child_subreaper: bool = False
    rlim: list = field(default_factory=default_rlimits)
    wait_chldexit: Optional["wait_queue_head"] = None
    count: int = 1
    # Timers and CPU time (kernel/time/, sched/cputime.py): ITIMER_REAL
    # (an hrtimer and its interval), ITIMER_PROF/VIRTUAL and the process
    # CPU-clock timers, the POSIX timers by id; CPU time of dead threads
    # and of reaped children (ns), their context switches.
    real_timer: Any = None
    it_real_incr: int = 0
    cpu_timers: list = field(default_factory=list)
    posix_timers: dict = field(default_factory=dict)
    next_posix_timer_id: int = 0
    utime: int = 0
    stime: int = 0
    cutime: int = 0
    cstime: int = 0
    nvcsw: int = 0
    nivcsw: int = 0
    cnvcsw: int = 0
    cnivcsw: int = 0
    cputime_watched: bool = False   # it read its own CPU time: count its blocks


@dataclass(eq=False, slots=True)
class fs_struct:
    cwd: str = "/"
    root: str = "/"
    umask: int = 0o022
    users: int = 1


@dataclass(eq=False, slots=True)
class task_struct:
    pid: int
    tgid: int
    comm: str = ""
    state: TaskState = TASK_NEW
    exit_state: ExitState = ExitState.NONE
    exit_code: int = 0
    exit_signal: int = 0
    flags: int = 0
    jobctl: int = 0                               # JOBCTL_* (kernel/jobctl.py)
    # Process tree.  real_parent is who forked us (or the reaper we were
    # reparented to); parent receives SIGCHLD and reaps.  `children` lists
    # tasks whose parent is this one.
    real_parent: Optional["task_struct"] = None
    parent: Optional["task_struct"] = None
    children: list = field(default_factory=list)
    group_leader: Optional["task_struct"] = None
    # PID namespaces (pid_namespace.py): the namespace the task lives in
    # (None: the initial one) and its number at each level, 0 first;
    # nsproxy's pid_ns_for_children once unshare(CLONE_NEWPID) set it.
    pid_ns: Any = None
    nspids: tuple = ()
    pid_ns_for_children: Any = None
    # A kernel thread (kthread.py): its work, as a generator stepped by
    # the run loop, and the kthread flags (should_stop, park).
    kthread: Any = None
    # Shared by clone flags.
    mm: Optional["mm_struct"] = None
    active_mm: Optional["mm_struct"] = None
    files: Optional["files_struct"] = None
    fs: Optional[fs_struct] = None
    sighand: Optional[sighand_struct] = None
    signal: Optional[signal_struct] = None
    cred: Any = None                              # kernel.cred.cred, immutable, shared
    # Signals: sets as int bitmaps, bit (sig-1).  sigqueue holds the
    # kernel_siginfo of each queued instance of `pending`, in order.
    blocked: int = 0
    real_blocked: int = 0                         # blocked before rt_sigtimedwait
    saved_sigmask: Optional[int] = None           # restored after sigsuspend
    pending: int = 0
    sigqueue: list = field(default_factory=list)
    sas_ss_sp: int = 0                            # sigaltstack
    sas_ss_size: int = 0
    sas_ss_flags: int = 0                         # never set: 0 (not SS_DISABLE)
    # thread_struct: the last fault that raised a signal (sigcontext's
    # trapno, err, cr2).
    trap_nr: int = 0
    error_code: int = 0
    cr2: int = 0
    # Registers rt_sigreturn restores, loaded on the way back to user
    # mode: (register ids, 16-byte slots).
    pending_regs: Optional[tuple] = None
    # Thread bookkeeping.
    set_child_tid: int = 0
    clear_child_tid: int = 0
    robust_list: int = 0
    robust_list_len: int = 0
    # CPU state.  `ctx` is the saved Unicorn context while not running;
    # `entry` = (rip, rsp) for a fresh user context after exec.
    ctx: Any = None
    entry: Optional[tuple] = None
    fs_base: int = 0
    # Sleeping inside a syscall: `restart` finishes the syscall when the
    # task runs again (returns the result or raises BlockOn again).
    restart: Optional[Callable[[], int]] = None
    # Syscall restart (pt_regs->orig_ax, current->restart_block): the
    # number of the syscall the task is in while it sleeps or returns a
    # -ERESTART* code, else -1; restart_syscall(2) calls restart_block.
    orig_rax: int = -1
    restart_block: Optional[Callable[[], int]] = None
    wait_on: list = field(default_factory=list)   # wait queues we are on
    timeout: int = -1                              # virtual ns deadline, -1 none
    timed_out: bool = False
    sleep_timer: Any = None                        # the hrtimer of a timed sleep
    # CPU time in virtual ns (sched/cputime.py): user = basic blocks run,
    # system = syscalls and traps; acct_snap = the glue's counters when it
    # went on the CPU (None while off it); its thread CPU-clock timers.
    utime: int = 0
    stime: int = 0
    acct_snap: Optional[tuple] = None
    cpu_timers: list = field(default_factory=list)
    futex_bitset: int = 0xFFFFFFFF
    vfork_done: Optional["wait_queue_head"] = None
    in_vfork_wait: bool = False
    cpu: int = 0
    # Policy and priorities (kernel/sched/syscalls.py; None: SCHED_NORMAL,
    # nice 0) and the affinity asked for (0: every CPU).  Stored, not honoured.
    sched_params: Any = None
    cpus_mask: int = 0
    # Counters.
    nvcsw: int = 0
    nivcsw: int = 0
    nsyscalls: int = 0
    start_time: int = 0

    def __repr__(self) -> str:
        return f"<task {self.pid} {self.comm}>"

    @property
    def thread_group_leader(self) -> bool:
        return self.group_leader is self
