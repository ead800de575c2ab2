"""The scheduler: per-CPU runqueues, wake-ups, virtual time, and the loop
that hands each vCPU to the task it picks.

A task on cpu.rq is runnable and not running; the running task is
cpu.curr.  Tasks run until they sleep, exit, or their time slice (counted
in basic blocks by the C glue, never wall-clock time) ends.  When only one
task is runnable and no timer is pending there is no slice and no block
counting: a lone task runs at full speed.  The same program, inputs and
seed give the same schedule.
"""
from __future__ import annotations

import time as host_time
from typing import Callable, Optional

from emu.machine import EMU_UNTIL

from .. import state
from ..percpu import cpu_struct, set_running_cpu
from ..task import (
    TASK_DEAD, TASK_INTERRUPTIBLE, TASK_KILLABLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE, task_struct,
)
from ..time.timekeeping import (  # noqa: F401  (ktime_get_ns: imported from here too)
    BLOCK_NS, COUNTERS as _COUNTERS, COUNTERS_OFF as _COUNTERS_OFF, ktime_get_ns,
)
from ..time.hrtimer import (
    HRTIMER_NORESTART, hrtimer, hrtimer_next_expiry, hrtimer_run_queues, hrtimer_start,
)
from .wait import BlockOn, add_wait, remove_wait

RDTSC_NS = 20

MIN_SLICE = 64           # blocks: the shortest slice a timer asks for
SOLO_RUNS = 4            # long slices alone before the block hook goes
SOLO_SLICE = 1_000_000   # blocks
UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED, UC_ERR_FETCH_UNMAPPED = 6, 7, 8
UC_ERR_INSN_INVALID = 10


def rdtsc_virtual() -> int:
    """The time-stamp counter the guest reads: virtual ns (a 1 GHz TSC),
    so rdtsc repeats from run to run like every other clock.  Each read
    costs RDTSC_NS of virtual time, so two reads never show the same value."""
    state.K.idle_ns += RDTSC_NS
    return ktime_get_ns()


def make_rdtsc_entry(cpu: cpu_struct) -> Callable[[], int]:
    """The rdtsc hook of one CPU: enters its kernel when another is current."""
    K = state.K

    def rdtsc_entry() -> int:
        if state.K is not K:
            return state.call_entered(K, cpu, rdtsc_virtual)
        return rdtsc_virtual()
    return rdtsc_entry


def blocks_run() -> int:
    return sum(_COUNTERS.unpack_from(c.hw.shared, _COUNTERS_OFF)[0] for c in state.K.cpus)


def syscalls_run() -> int:
    return sum(_COUNTERS.unpack_from(c.hw.shared, _COUNTERS_OFF)[2] for c in state.K.cpus)


# --- wake-ups and sleeping --------------------------------------------------

def wake_up_process(tsk: task_struct) -> bool:
    """Make a sleeping task runnable; False if it was not sleeping."""
    return wake_up_state(tsk, TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)


def wake_up_state(tsk: task_struct, mask: int) -> bool:
    """Make tsk runnable if its state has a bit of `mask` (TASK_WAKEKILL
    wakes killable and stopped tasks for a fatal signal, __TASK_STOPPED
    is SIGCONT's); False if it was not in such a state."""
    if not tsk.state & mask:
        return False
    remove_wait(tsk)
    t = tsk.sleep_timer
    if t is not None:
        t.seq = 0                # hrtimer_cancel: woken before its timeout
    tsk.state = TASK_RUNNING
    cpu = state.K.cpus[tsk.cpu]
    cpu.rq.append(tsk)
    if cpu.curr is not None and cpu.curr is not tsk:
        cpu.need_resched = True
    return True


def wake_up_new_task(tsk: task_struct) -> None:
    tsk.state = TASK_RUNNING
    cpu = state.K.cpus[tsk.cpu]
    cpu.rq.append(tsk)
    cpu.need_resched = True


def sleep_on(tsk: task_struct, b: BlockOn) -> None:
    """Put `tsk` to sleep as BlockOn says (called from the syscall entry)."""
    tsk.restart = b.cont
    tsk.state = (TASK_INTERRUPTIBLE if b.interruptible else
                 TASK_KILLABLE if b.killable else TASK_UNINTERRUPTIBLE)
    add_wait(tsk, b.queues)
    tsk.timed_out = False
    if b.deadline >= 0:
        tsk.timeout = b.deadline
        t = tsk.sleep_timer
        if t is None:
            t = tsk.sleep_timer = hrtimer(hrtimer_wakeup, tsk)
        hrtimer_start(t, b.deadline)
    else:
        tsk.timeout = -1


def hrtimer_wakeup(t: hrtimer) -> int:
    """A sleeper's timeout: wake it with timed_out set."""
    tsk = t.data
    if tsk.state & (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE):
        tsk.timed_out = True
        tsk.timeout = -1
        wake_up_process(tsk)
    return HRTIMER_NORESTART


# --- the loop --------------------------------------------------------------

def idle_until(expiry: int) -> None:
    """No task can run: let time pass up to the next timer.  The virtual
    clock jumps there; under --realtime the host's clock is waited for
    (in short steps, so --timeout is still checked)."""
    K = state.K
    if K.realtime_base:
        left = expiry - ktime_get_ns()
        if left > 0:
            host_time.sleep(min(left, 50_000_000) / 1e9)
        return
    K.idle_ns += max(0, expiry - ktime_get_ns())


def pick_next_task(cpu: cpu_struct) -> task_struct | None:
    rq = cpu.rq
    while rq:
        tsk = rq.popleft()
        if tsk.state == TASK_RUNNING and not tsk.exit_state:
            return tsk
    return None


def context_switch(cpu: cpu_struct, nxt: task_struct) -> None:
    """Load `nxt`'s CPU state into the vCPU, saving the previous owner's."""
    hw = cpu.hw
    prev = cpu.loaded
    if prev is nxt and nxt.entry is None:
        return
    save = None
    if prev is not None and prev.state != TASK_DEAD and not prev.exit_state and prev.entry is None:
        if prev.ctx is None:
            prev.ctx = hw.uc.context_save()
        else:
            save = prev.ctx
    if prev is not None and prev.mm is not None:
        prev.mm.cpus.discard(cpu.index)
    if nxt.entry is not None:
        if save is not None:
            hw.uc.context_update(save)
        rip, rsp = nxt.entry
        hw.load_user_context(nxt.mm.pt.cr3, rip, rsp)
        nxt.entry = None
    else:
        # Save prev, restore nxt, write CR3 (restoring a context does not
        # flush the TLB): one call into the glue.
        hw.switch_context(save, nxt.ctx, nxt.mm.pt.cr3)
    nxt.mm.cpus.add(cpu.index)
    cpu.loaded = nxt
    cpu.nr_switches += 1


def switch_reason(prev: Optional[task_struct]) -> str:
    """Why `prev` left the CPU (the sched event's reason): it exited, went
    to sleep, was stopped, or was preempted (its slice ended, or a wake-up
    asked for a reschedule) while still runnable."""
    if prev is None:
        return "idle"
    if prev.exit_state or prev.state & TASK_DEAD:
        return "exit"
    if prev.state & (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE):
        return "sleep"
    if prev.state != TASK_RUNNING:
        return "stop"
    return "preempt"


def finish_mm_drop(cpu: cpu_struct) -> None:
    """Release address spaces a task left while running on them."""
    K = state.K
    cpu.hw.set_cr3(K.swapper_cr3)
    for mm in cpu.deferred_mm:
        mm.cpus.discard(cpu.index)
        mm.mmput()
    cpu.deferred_mm.clear()


def run(cpu: cpu_struct, until: Optional[Callable[[], bool]] = None) -> None:
    """Drive `cpu` until no user task is left (or the run is stopped:
    deadlock, --max-instructions, --timeout), or, with `until`, until
    until() is true at the top of the loop, where nothing of the schedule
    is in flight: calling run again goes on as if it had not returned."""
    K = state.K
    watchdog = None
    if K.opts.timeout > 0:
        # Wall-clock safety net: stops the engine even inside a lone
        # task's unsliced run; checked below after each return.
        from emu.watchdog import Watchdog
        watchdog = Watchdog([c.hw.uch for c in K.cpus], K.opts.timeout)
    try:
        _run(cpu, watchdog, until)
    finally:
        if watchdog is not None:
            watchdog.cancel()
    if cpu.deferred_mm:
        finish_mm_drop(cpu)


def _run(cpu: cpu_struct, watchdog, until: Optional[Callable[[], bool]]) -> None:
    from ..entry import finish_syscall_after_sleep
    from ..fs.console import host_input_waiting, idle_on_host_input, wake_host_input
    from ..signal import signal_pending
    from ..signal_64 import exit_to_user_mode
    from ..traps import handle_emu_error
    from ..time.posix_cpu_timers import posix_cpu_timers_left, run_posix_cpu_timers
    from .cputime import account_start, account_stop

    K = state.K
    hw = cpu.hw
    glue = hw.glue
    set_running_cpu(cpu)
    slice_blocks = K.opts.slice_blocks
    rng = K.rng if K.opts.seed else None
    while K.nr_user_tasks > 0 and not K.stop_reason:
        if until is not None and until():
            break
        if watchdog is not None and watchdog.expired():
            K.stop_reason = f"timeout after {K.opts.timeout:g} s"
            K.runaway = True
            break
        if cpu.deferred_mm:      # a task died outside a hook (signal delivery)
            finish_mm_drop(cpu)
        expiry = hrtimer_next_expiry()
        if expiry is not None:
            now = ktime_get_ns()
            if expiry <= now:
                hrtimer_run_queues(now)
        host_wait = bool(K.host_input) and host_input_waiting()
        if host_wait:
            wake_host_input()
        tsk = pick_next_task(cpu)
        if tsk is None:
            expiry = hrtimer_next_expiry()
            # Every task sleeps and some wait on host input: the clock
            # follows the wall clock until input or a timer.
            if host_wait and idle_on_host_input(
                    max(0, expiry - ktime_get_ns()) if expiry is not None else -1):
                continue
            if expiry is not None:
                idle_until(expiry)
                continue
            K.stop_reason = "deadlock: every task is asleep with nothing to wake it"
            break
        if tsk.kthread is not None:
            # A kernel thread: Python code, no user context to load.
            from ..kthread import run_kthread
            run_kthread(cpu, tsk)
            continue
        if K.listeners and cpu.loaded is not tsk:
            K.emit("sched", cpu=cpu.index, prev=cpu.loaded, next=tsk,
                   reason=switch_reason(cpu.loaded))
        cpu.curr = tsk
        cpu.need_resched = False
        context_switch(cpu, tsk)
        if tsk.restart is not None:
            finish_syscall_after_sleep(tsk)
            if tsk.state != TASK_RUNNING or tsk.exit_state:
                continue
            if tsk.entry is not None:
                # The syscall was an execve (de_thread slept first): the
                # CPU still holds the old program's context and tables.
                # Let go of the old mm, then enter the new program.
                if cpu.deferred_mm:
                    finish_mm_drop(cpu)
                context_switch(cpu, tsk)
        if tsk.pending_regs is not None or tsk.orig_rax >= 0 or signal_pending(tsk):
            exit_to_user_mode(tsk)
            if tsk.state != TASK_RUNNING or tsk.exit_state:
                continue
        # Slice only when someone else could use the CPU.  Adding or
        # removing the block hook retranslates all code, so once on it
        # stays on while the CPU keeps alternating between one and several
        # runnable tasks (fork/exit, create/join), and goes only after
        # SOLO_RUNS consecutive long slices with nobody else to run.
        expiry = hrtimer_next_expiry()
        sig = tsk.signal
        cpu_left = posix_cpu_timers_left(tsk) if tsk.cpu_timers or sig.cpu_timers else -1
        if cpu.rq or expiry is not None or cpu_left >= 0 or sig.cputime_watched or host_wait:
            n = slice_blocks if rng is None else rng.randint(slice_blocks // 2, slice_blocks * 3 // 2)
            # Up to the next expiry, but never less than MIN_SLICE: a timer
            # re-armed every nanosecond must not stop the guest after
            # every block (Linux's hrtimer has a minimum delta too).
            if expiry is not None and not K.realtime_base:
                n = max(MIN_SLICE, min(n, (expiry - ktime_get_ns()) // BLOCK_NS))
            if cpu_left >= 0:
                n = max(MIN_SLICE, min(n, cpu_left // BLOCK_NS))
            cpu.solo_runs = 0
            cpu.block_hook = True
            glue.set_slice(n)
        elif K.opts.max_instructions:
            cpu.block_hook = True
            glue.set_slice(max(1, K.opts.max_instructions - blocks_run()))
        elif cpu.block_hook and cpu.solo_runs < SOLO_RUNS:
            cpu.solo_runs += 1
            glue.set_slice(SOLO_SLICE)
        else:
            cpu.block_hook = False
            glue.set_slice(0)
        if K.alloc.tb_dirty:
            # A frame that held code was freed: translations keyed by its
            # physical address must not outlive it (see free_frame).
            K.alloc.tb_dirty = False
            for c in K.cpus:
                c.hw.glue.flush_tb()
        account_start(cpu, tsk)
        err = hw.resume(EMU_UNTIL)
        account_stop(cpu, tsk)
        if (tsk.cpu_timers or sig.cpu_timers) and not tsk.exit_state:
            run_posix_cpu_timers(tsk)
        if cpu.deferred_mm:
            finish_mm_drop(cpu)
        if err:
            handle_emu_error(tsk, err)
        if K.opts.max_instructions and blocks_run() >= K.opts.max_instructions:
            K.stop_reason = f"--max-instructions reached ({K.opts.max_instructions} blocks)"
            K.runaway = True
            break
        if tsk.state == TASK_RUNNING and not tsk.exit_state:
            tsk.nivcsw += 1
            cpu.rq.append(tsk)
        cpu.curr = None
