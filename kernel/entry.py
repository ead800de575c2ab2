"""Syscall entry and exit: the function the C glue calls for every
`syscall` instruction, and the return path of a syscall that slept.

This is the one place an Errno becomes -errno in rax, the one place the
tracer sees every syscall, and nothing raised here escapes into Unicorn
except a kernel bug, which the glue records and re-raises after the
engine stops.
"""
from __future__ import annotations

import struct
from typing import Callable, Optional

from unicorn import x86_const as X

from . import state
from .mm.memory import Segv
from .panic import Errno, OutOfMemory
from .percpu import cpu_struct
from .sched.core import sleep_on
from .sched.wait import BlockOn
from .signal import fatal_signal_pending, signal_pending
from .signal_64 import exit_to_user_mode_in_syscall
from .syscall_table import NR_syscalls
from .syscalls import SYSCALL_CALLS, SYSCALL_TABLE, syscall_name
from .task import TASK_RUNNING, task_struct
from .uapi import EFAULT, ENOMEM, ENOSYS, ERESTART_RESTARTBLOCK, ERESTARTSYS

_REGS = struct.Struct("<9Q")
_RIP_RFLAGS = (X.UC_X86_REG_RIP, X.UC_X86_REG_RFLAGS)
_RAX_RCX_R11 = (X.UC_X86_REG_RAX, X.UC_X86_REG_RCX, X.UC_X86_REG_R11)
_MASK = 0xFFFF_FFFF_FFFF_FFFF


def make_syscall_entry(cpu: cpu_struct) -> Callable[[], Optional[int]]:
    """Build the per-CPU entry the glue calls with the registers in
    cpu.hw.regs (rax rdi rsi rdx r10 r8 r9 next-rip rflags).  It returns
    the value for rax, or None when rax must be left alone (the task
    slept, exited or exec'd)."""
    table = SYSCALL_TABLE
    calls = SYSCALL_CALLS
    K = state.K

    def entry_SYSCALL_64() -> Optional[int]:
        # Hot path: one Python frame here plus the generated call, which
        # reads only the argument registers its handler takes.
        if state.K is not K:
            return state.call_entered(K, cpu, entry_SYSCALL_64)
        regs = cpu.hw.regs
        nr = regs[0]
        tsk = cpu.curr
        tsk.nsyscalls += 1
        if K.listeners:
            # Before the handler runs: a debugger stops here to show the
            # call, then at the "syscall" event below to show its result.
            _nr, a0, a1, a2, a3, a4, a5, _rip, _fl = _REGS.unpack_from(regs)
            K.emit("syscall_enter", task=tsk, nr=nr, name=syscall_name(nr),
                   args=(a0, a1, a2, a3, a4, a5))
        try:
            ret: Optional[int] = calls[nr](regs) if nr < NR_syscalls else -ENOSYS
        except Errno as e:
            ret = -e.errno
            if e.errno >= ERESTARTSYS:
                # A -ERESTART* code: the way back to user mode decides.
                tsk.orig_rax = nr
                cpu.need_resched = True
        except BlockOn as b:
            ret = block_syscall(tsk, b, nr)
            cpu.need_resched = True
        except OutOfMemory:
            ret = -ENOMEM
        except Segv:
            ret = -EFAULT
        if K.listeners:
            _nr, a0, a1, a2, a3, a4, a5, _rip, _fl = _REGS.unpack_from(regs)
            K.emit("syscall", task=tsk, nr=nr, name=syscall_name(nr),
                   args=(a0, a1, a2, a3, a4, a5),
                   ent=table[nr] if nr < NR_syscalls else None, ret=ret,
                   blocked=ret is None and tsk.restart is not None)
        if tsk.state != TASK_RUNNING or tsk.exit_state or tsk.entry is not None:
            cpu.need_resched = True
        elif (tsk.pending or tsk.signal.shared_pending) and \
                (tsk.pending | tsk.signal.shared_pending) & ~tsk.blocked:
            # Deliver it on the way back to user mode: here, unless the
            # CPU stops anyway (the run loop then does it).
            if not cpu.need_resched and ret is not None and tsk.orig_rax < 0:
                ret = exit_to_user_mode_in_syscall(cpu, tsk, ret)
            else:
                cpu.need_resched = True
        if cpu.need_resched:
            cpu.hw.glue.stop()
        return ret if ret is None else ret & _MASK

    return entry_SYSCALL_64


def is_restart_code(ret: Optional[int]) -> bool:
    return ret is not None and -ERESTART_RESTARTBLOCK <= ret <= -ERESTARTSYS


def block_syscall(tsk: task_struct, b: BlockOn, nr: int) -> Optional[int]:
    """The syscall `nr` must wait as `b` says.  Put tsk to sleep and return
    None, or, when a pending signal already ends that wait, return the
    syscall's result now (b.interrupted_result(), usually -ERESTART*).
    tsk.orig_rax keeps nr while the syscall sleeps or must be restarted."""
    if (signal_pending(tsk) if b.interruptible else
            b.killable and fatal_signal_pending(tsk)):
        ret = b.interrupted_result()
        tsk.orig_rax = nr if is_restart_code(ret) else -1
        return ret
    tsk.orig_rax = nr
    sleep_on(tsk, b)
    return None


def finish_syscall_after_sleep(tsk: task_struct) -> None:
    """The task slept inside a syscall and now runs again with its context
    loaded: finish the syscall through its continuation, which re-checks
    what it waits for (it may sleep again, or a signal ends the wait)."""
    K = state.K
    cpu = K.cpus[tsk.cpu]
    cont = tsk.restart
    tsk.restart = None
    nr = tsk.orig_rax
    try:
        ret: Optional[int] = cont()
    except Errno as e:
        ret = -e.errno
    except BlockOn as b:
        ret = block_syscall(tsk, b, tsk.orig_rax)
        if ret is None:
            return
    except OutOfMemory:
        ret = -ENOMEM
    if not is_restart_code(ret):
        tsk.orig_rax = -1
    if K.listeners:
        K.emit("syscall_resume", task=tsk, nr=nr, name=syscall_name(nr), ret=ret,
               blocked=ret is None and tsk.restart is not None)
    if ret is not None and tsk.state == TASK_RUNNING and not tsk.exit_state and tsk.entry is None:
        set_syscall_return(cpu, ret)


def set_syscall_return(cpu: cpu_struct, ret: int) -> None:
    """rax = ret for a task whose context is loaded and stands just after
    its syscall instruction (rcx/r11 as the instruction leaves them)."""
    glue = cpu.hw.glue
    rip, rflags = glue.reg_read_batch(_RIP_RFLAGS)
    glue.reg_write_batch(_RAX_RCX_R11, (ret & _MASK, rip, rflags))

