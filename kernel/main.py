"""start_kernel: build the machine, the frame allocator, init (pid 1) and
kthreadd (pid 2), then exec the first guest as init's child and run."""
from __future__ import annotations

import os
import random
from typing import Callable, Optional

from emu.machine import Machine

from . import state
from .entry import make_syscall_entry
from .fs.console import console_file
from .fs.file import files_struct
from .fs.inode import drop_caches
from .fs.namei import Overlay
from .mm.page_alloc import FrameAllocator
from .mm.pgtable import PageTables
from .percpu import cpu_struct, set_running_cpu
from .pid import PidAllocator
from .pid_namespace import pid_namespace
from .sched.core import make_rdtsc_entry, run
from .sched.wait import wait_queue_head
from .time.timekeeping import timekeeping_init
from .state import KernelState, Options
from .task import PF_KTHREAD, TASK_INTERRUPTIBLE, TASK_RUNNING, fs_struct, sighand_struct, signal_struct, task_struct
from .cred import init_cred
from .traps import make_trap_entry
from .uapi import O_RDONLY, O_WRONLY, SIGCHLD

# Register every syscall by importing the modules that define them.
from . import exec as _exec, exit as _exit, fork as _fork, futex as _futex, signal as _signal  # noqa: F401,E402
from . import nsproxy as _nsproxy  # noqa: F401,E402
from . import sys as _sys  # noqa: F401,E402
from .sched import syscalls as _sched_syscalls  # noqa: F401,E402
from .mm import memfd as _memfd, mlock as _mlock, mremap as _mremap, msync as _msync  # noqa: F401,E402
from . import capability as _capability, groups as _groups  # noqa: F401,E402
from .time import hrtimer as _hrtimer, itimer as _itimer, posix_timers as _posix_timers  # noqa: F401,E402
from .time import posix_cpu_timers as _posix_cpu_timers, time as _time  # noqa: F401,E402
from .fs import timerfd as _timerfd  # noqa: F401,E402
from . import setid as _setid, signal_64 as _signal_64, signal_sys as _signal_sys  # noqa: F401,E402
from .fs import file as _file, open as _open, pipe as _pipe, read_write as _rw, stat as _stat  # noqa: F401,E402
from .fs import attr as _attr, dir as _dir, locks as _locks, namei_sys as _namei_sys  # noqa: F401,E402
from .fs import statfs as _statfs  # noqa: F401,E402
from .fs import eventfd as _eventfd, eventpoll as _eventpoll, select as _select, signalfd as _signalfd  # noqa: F401,E402


def _kernel_task(pid: int, comm: str) -> task_struct:
    t = task_struct(pid=pid, tgid=pid, comm=comm, state=TASK_INTERRUPTIBLE)
    t.flags = PF_KTHREAD
    t.group_leader = t
    t.real_parent = t.parent = t
    t.signal = signal_struct(threads=[t], pgrp=pid, session=pid, wait_chldexit=wait_queue_head())
    t.sighand = sighand_struct()
    t.fs = fs_struct()
    t.cred = init_cred()
    return t


def boot(opts: Options) -> KernelState:
    """A new machine and its kernel, ready for start_guest.  Boot enters
    the new kernel and leaves it again: the caller's state.K is as before."""
    machine = Machine(opts.memory)
    alloc = FrameAllocator(machine, opts.fail_alloc)
    K = KernelState(opts=opts, machine=machine, alloc=alloc, pids=PidAllocator(opts.pid_max))
    K.init_pid_ns = pid_namespace(0, None, K.pids, K.tasks)
    K.rng = random.Random(opts.seed)
    with state.entered(K):
        start_kernel(K)
    return K


def start_kernel(K: KernelState) -> None:
    machine = K.machine
    # The kernel-only address space CPUs use between tasks (swapper_pg_dir).
    K.swapper_pt = PageTables(K.alloc, machine.kernel_pml4e)
    K.swapper_cr3 = K.swapper_pt.cr3
    K.overlay = Overlay()
    timekeeping_init(K)

    def tlb_flush_mm(mm) -> None:
        for idx in mm.cpus:
            K.cpus[idx].hw.glue.flush_tlb()
    K.tlb_flush_mm = tlb_flush_mm

    cpu = cpu_struct(0)
    K.cpus.append(cpu)
    cpu.hw = machine.add_cpu(make_syscall_entry(cpu), make_trap_entry(cpu), make_rdtsc_entry(cpu))
    cpu.hw.start_paging(K.swapper_cr3)
    set_running_cpu(cpu)
    # The idle task (pid 0, swapper/N) is the parent of init and kthreadd;
    # it is in no pid map, as in Linux.
    swapper = _kernel_task(0, f"swapper/{cpu.index}")
    swapper.state = TASK_RUNNING
    cpu.idle = swapper
    init = _kernel_task(K.pids.alloc_pid(), "init")
    init.real_parent = init.parent = swapper
    K.init_task = init
    K.tasks[init.pid] = init
    K.init_pid_ns.child_reaper = init
    from .kthread import kthreadd_start
    kthreadd_start(K, _kernel_task(K.pids.alloc_pid(), "kthreadd"), swapper)
    start_kthreads(K)


def start_kthreads(K: KernelState) -> None:
    """The kernel threads that do this kernel's background work."""
    from .kthread import kthread_run
    from .mm.oom_reaper import oom_reaper
    from .mm.prezero import prezero_worker, wake_prezero
    K.kthreads["oom_reaper"] = kthread_run(oom_reaper, "oom_reaper")
    K.kthreads["kworker"] = kthread_run(prezero_worker, "kworker/0:0")
    K.alloc.on_dirty = wake_prezero


def start_guest(K: KernelState, gpath: str, argv: list[bytes], envp: list[bytes],
                cwd: str) -> task_struct:
    """Create init's child that runs `gpath` (raises on exec failure)."""
    with state.entered(K):
        return _start_guest(K, gpath, argv, envp, cwd)


def _start_guest(K: KernelState, gpath: str, argv: list[bytes], envp: list[bytes],
                 cwd: str) -> task_struct:
    from .exec import exec_binprm, prepare_binprm
    init = K.init_task
    pid = K.pids.alloc_pid()
    t = task_struct(pid=pid, tgid=pid, comm=os.path.basename(gpath)[:15])
    t.group_leader = t
    t.real_parent = t.parent = init
    t.exit_signal = SIGCHLD
    t.signal = signal_struct(threads=[t], pgrp=pid, session=pid, wait_chldexit=wait_queue_head())
    from .sys import host_rlimits
    t.signal.rlim = host_rlimits()     # inherited from the shell, as a native run would
    t.sighand = sighand_struct()
    t.fs = fs_struct(cwd=cwd)
    t.cred = init_cred(K.opts.user)
    files = files_struct()
    for fd, fl in ((0, O_RDONLY), (1, O_WRONLY), (2, O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            files.fd.append(None)
            continue
        files.fd.append(console_file(fd, fl if fd else O_RDONLY))
    t.files = files
    cpu = K.cpus[0]
    cpu.curr = t
    try:
        exec_binprm(t, prepare_binprm(gpath, gpath, argv), envp)
    finally:
        cpu.curr = None
    init.children.append(t)
    K.tasks[pid] = t
    K.nr_user_tasks += 1
    K.main_task = t
    from .sched.core import wake_up_new_task
    wake_up_new_task(t)
    return t


def run_kernel(K: KernelState, until: Optional[Callable[[], bool]] = None) -> bool:
    """Run machine K until no user task is left (or the run is stopped);
    True when it is over.  With `until`, return False early, between two
    scheduling decisions, once until() is true: a later run_kernel goes on
    exactly as one uninterrupted run would (same schedule, same output)."""
    with state.entered(K, K.cpus[0]):
        run(K.cpus[0], until)
        if until is not None and K.nr_user_tasks > 0 and not K.stop_reason:
            return False
        if K.listeners:
            K.emit("halt")   # the run loop is done: --check audits what is left
    return True


def shutdown(K: KernelState) -> None:
    """After the last task: drop caches so every frame is free again."""
    with state.entered(K):
        drop_caches()
        K.swapper_pt.free_tables()

