"""The booted kernel's global state: one instance, K, set by start_kernel.
Everything here is per machine; per-CPU state lives in percpu.cpu_struct."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

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
    slice_blocks: int = 50_000


@dataclass(eq=False)
class KernelState:
    opts: Options
    machine: "Machine"
    alloc: "FrameAllocator"
    pids: "PidAllocator"
    cpus: list = field(default_factory=list)
    init_task: Optional["task_struct"] = None
    tasks: dict = field(default_factory=dict)      # pid -> task_struct
    nr_user_tasks: int = 0
    main_task: Optional["task_struct"] = None
    main_status: Optional[int] = None               # wait status of the main guest
    rng: random.Random = field(default_factory=random.Random)
    swapper_pt: Any = None                          # kernel-only address space (swapper_pg_dir)
    swapper_cr3: int = 0
    tlb_flush_mm: Optional[Callable] = None         # flush every CPU that has an mm loaded
    overlay: Any = None                             # fs.namei.Overlay: the guest's writes
    timers: list = field(default_factory=list)      # heap of (deadline, seq, task)
    timer_seq: int = 0
    idle_ns: int = 0                                # virtual time not counted by the glue (idle, rdtsc)
    # Observers: callables(event: str, **fields).  The tracer, the stats
    # and later the debugger subscribe here.
    listeners: list = field(default_factory=list)
    stop_reason: str = ""
    oom_victims: list = field(default_factory=list)  # killed by the OOM killer, memory not yet back
    sigpending_queued: int = 0                      # queued siginfo, against RLIMIT_SIGPENDING
    runaway: bool = False                           # stopped by --timeout/--max-instructions
    counters: dict = field(default_factory=lambda: {
        "forks": 0, "execs": 0})

    def emit(self, event: str, **fields: Any) -> None:
        for fn in self.listeners:
            fn(event, fields)


K: KernelState = None  # type: ignore[assignment]


def set_state(k: KernelState) -> None:
    global K
    K = k

