"""A booted kernel's state, KernelState: everything here belongs to one
machine; per-CPU state lives in percpu.cpu_struct.  Several machines can
live in one Python process, each independent.

`state.K` is the kernel whose code is running now on this host thread, as
Linux's `current` is a per-CPU pointer: kernel code spells it `state.K`
(and reaches the running task through percpu.current()), never keeps it
across an entry, and never stores it in module globals.  Every way into a
machine's kernel sets it, together with percpu's running CPU, and puts the
previous pair back on the way out:

- the per-CPU hooks the machine calls (syscall, trap, rdtsc): when they
  find another kernel (or none) current, they enter theirs for the call;
- the run loop, boot, start_guest, shutdown and --stats (kernel.main and
  kernel.stats), through enter_kernel/leave_kernel or `with entered(K)`;
- any other caller of kernel functions from outside (tests, the Machine
  API, the debugger): `with entered(K): ...`.

Entries nest (a hook inside the run loop finds its kernel already current
and pays one comparison).  The outermost entry on a host thread takes
kernel_lock, a process-wide re-entrant lock, so machines driven from
several host threads take turns entry by entry instead of seeing each
other's K; one host thread may drive any number of machines in turn.
"""
from __future__ import annotations

import random
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from . import percpu
from .mm.vmstat import VmStat

if TYPE_CHECKING:
    from emu.machine import Machine

    from .mm.page_alloc import FrameAllocator
    from .pid import PidAllocator
    from .task import task_struct


@dataclass
class Options:
    root: str = "/"
    seed: int = 0
    memory: int = 1 << 30
    trace: bool = False
    trace_file: Any = None
    stats: bool = False
    check: bool = False
    max_instructions: int = 0       # in basic blocks counted; 0 = no limit
    timeout: float = 0.0            # wall-clock seconds; 0 = no limit
    fail_alloc: int = 0
    pid_max: int = 32768
    user: Optional[tuple] = None    # --user UID[:GID]: the first guest's ids
    slice_blocks: int = 50_000
    realtime: bool = False          # the clocks follow the host's (not repeatable)


@dataclass(eq=False)
class KernelState:
    opts: Options
    machine: "Machine"
    alloc: "FrameAllocator"
    pids: "PidAllocator"
    cpus: list = field(default_factory=list)
    init_task: Optional["task_struct"] = None
    tasks: dict = field(default_factory=dict)      # pid -> task_struct
    init_pid_ns: Any = None                         # pid_namespace.pid_namespace (level 0)
    ns_inum_next: int = 0xF0000000                  # the last namespace inode number given
    kthreadd_task: Optional["task_struct"] = None
    kthreads: dict = field(default_factory=dict)    # name -> a kernel thread doing kernel work
    boot_ns: int = 0                                # ktime at boot (start times are after it)
    nr_user_tasks: int = 0
    main_task: Optional["task_struct"] = None
    main_status: Optional[int] = None               # wait status of the main guest
    rng: random.Random = field(default_factory=random.Random)
    swapper_pt: Any = None                          # kernel-only address space (swapper_pg_dir)
    swapper_cr3: int = 0
    tlb_flush_mm: Optional[Callable] = None         # flush every CPU that has an mm loaded
    overlay: Any = None                             # fs.namei.Overlay: the guest's writes
    page_cache: dict = field(default_factory=dict)  # id(overlay node) -> mm.filemap.address_space
    icache: dict = field(default_factory=dict)      # host file identity -> fs.inode.Inode
    icache_recent: list = field(default_factory=list)  # exec'd Inodes kept warm (fs.inode)
    timers: list = field(default_factory=list)      # hrtimer heap of (expires, seq, hrtimer)
    timer_seq: int = 0
    idle_ns: int = 0                                # virtual time not counted by the glue (idle, rdtsc)
    realtime_base: int = 0                          # --realtime: host monotonic ns at boot (else 0)
    real_offset: int = 0                            # CLOCK_REALTIME - CLOCK_MONOTONIC
    # Observers: callables(event: str, fields: dict).  The tracer, --events,
    # --check, the Machine API and the debugger subscribe here.  The event
    # names and fields are a contract (README, Tracing: the --events
    # schema); every emit point is behind `if K.listeners`.
    listeners: list = field(default_factory=list)
    stop_reason: str = ""
    oom_victims: list = field(default_factory=list)  # killed by the OOM killer, memory not yet back
    oom_reaper_list: list = field(default_factory=list)  # victims' mms for the oom_reaper
    sigpending_queued: int = 0                      # queued siginfo, against RLIMIT_SIGPENDING
    runaway: bool = False                           # stopped by --timeout/--max-instructions
    counters: dict = field(default_factory=lambda: {
        "forks": 0, "execs": 0})
    vmstat: VmStat = field(default_factory=VmStat)  # fault counters (--stats)
    futex_queues: dict = field(default_factory=dict)  # futex key -> wait_queue_head
    futex_q: dict = field(default_factory=dict)       # task asleep in futex_wait -> futex_q
    host_input: dict = field(default_factory=dict)    # host fd -> wait_queue_head (fs/console.py)

    def emit(self, event: str, **fields: Any) -> None:
        for fn in self.listeners:
            fn(event, fields)


# The kernel whose code runs now on this host thread (see the docstring).
K: KernelState = None  # type: ignore[assignment]

kernel_lock = threading.RLock()


def enter_kernel(k: KernelState, cpu: Optional["percpu.cpu_struct"] = None) -> tuple:
    """Make `k` (and `cpu`, by default k's boot CPU) current on this host
    thread; returns what leave_kernel needs to put the previous back."""
    global K
    kernel_lock.acquire()
    prev = (K, percpu._running)
    K = k
    percpu._running = cpu if cpu is not None else (k.cpus[0] if k.cpus else None)
    return prev


def leave_kernel(prev: tuple) -> None:
    global K
    K, percpu._running = prev
    kernel_lock.release()


@contextmanager
def entered(k: KernelState, cpu: Optional["percpu.cpu_struct"] = None) -> Iterator[KernelState]:
    """`with entered(K): ...` runs kernel code of machine K from outside."""
    prev = enter_kernel(k, cpu)
    try:
        yield k
    finally:
        leave_kernel(prev)


def call_entered(k: KernelState, cpu: "percpu.cpu_struct", fn: Callable, *args: Any) -> Any:
    """fn(*args) with `k` and `cpu` current: a hook that found another
    kernel current enters its own this way for one call."""
    prev = enter_kernel(k, cpu)
    try:
        return fn(*args)
    finally:
        leave_kernel(prev)

