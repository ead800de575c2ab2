"""Exceptions from guest code (arch/x86/kernel/traps.c, mm/fault.c): the
#PF handler and the signal each other trap becomes."""
from __future__ import annotations

import struct
from typing import Callable

from emu.paging import PF_INSTR, PF_USER, PF_WRITE

from . import state
from .mm.memory import FAULT_EXEC, FAULT_WRITE, Segv, handle_mm_fault
from .panic import BUG, OutOfMemory
from .percpu import cpu_struct
from .signal import force_sig_fault, send_signal
from .task import task_struct
from .uapi import (
    FPE_INTDIV, ILL_ILLOPN, SEGV_MAPERR, SI_KERNEL, SIGBUS, SIGFPE, SIGILL, SIGKILL, SIGSEGV,
    SIGTRAP, TRAP_BRKPT,
)

_TRAP = struct.Struct("<4Q")
_TRAP_OFF = 9 * 8

# intno -> (signal, si_code) for traps other than #PF.
_TRAP_SIGNALS = {
    0: (SIGFPE, FPE_INTDIV),     # #DE
    1: (SIGTRAP, 2),             # #DB
    3: (SIGTRAP, TRAP_BRKPT),    # int3
    4: (SIGSEGV, SI_KERNEL),     # #OF
    5: (SIGSEGV, SI_KERNEL),     # #BR
    6: (SIGILL, ILL_ILLOPN),     # #UD
    7: (SIGFPE, 0),              # #NM
    13: (SIGSEGV, SI_KERNEL),    # #GP
    16: (SIGFPE, 0),             # #MF
    17: (SIGBUS, 2),             # #AC
    19: (SIGFPE, 0),             # #XM
}


def make_trap_entry(cpu: cpu_struct) -> Callable[[], None]:
    unpack = _TRAP.unpack_from
    K = state.K

    def do_trap() -> None:
        intno, cr2, err, rip = unpack(cpu.hw.shared, _TRAP_OFF)
        tsk = cpu.curr
        if intno == 14:
            exc_page_fault(cpu, tsk, cr2, err, rip)
            return
        sig, code = _TRAP_SIGNALS.get(intno, (SIGSEGV, SI_KERNEL))
        if K.listeners:
            K.emit("trap", task=tsk, intno=intno, rip=rip, signo=sig)
        force_sig_fault(tsk, sig, code, rip)
        cpu.need_resched = True
        cpu.hw.glue.stop()

    return do_trap


def exc_page_fault(cpu: cpu_struct, tsk: task_struct, addr: int, err: int, rip: int) -> None:
    K = state.K
    if not err & PF_USER:
        raise BUG(f"exc_page_fault: supervisor fault at {addr:#x} rip {rip:#x} err {err:#x}")
    flags = (FAULT_WRITE if err & PF_WRITE else 0) | (FAULT_EXEC if err & PF_INSTR else 0)
    try:
        handle_mm_fault(tsk.mm, addr, flags)
    except Segv as s:
        if K.listeners:
            K.emit("segv", task=tsk, addr=addr, rip=rip, err=err)
        force_sig_fault(tsk, SIGSEGV, s.code, addr)
        cpu.need_resched = True
        cpu.hw.glue.stop()
        return
    except OutOfMemory:
        oom_kill(cpu, tsk)
        return
    if K.listeners:
        K.emit("fault", task=tsk, addr=addr, rip=rip, err=err)
    cpu.hw.glue.flush_tlb()


def oom_kill(cpu: cpu_struct, tsk: task_struct) -> None:
    """Out of frames: the faulting process is the victim (SIGKILL)."""
    K = state.K
    if K.listeners:
        K.emit("oom", task=tsk)
    send_signal(SIGKILL, tsk, {"signo": SIGKILL, "code": SI_KERNEL}, True)
    cpu.need_resched = True
    cpu.hw.glue.stop()


def handle_emu_error(tsk: task_struct, err: int) -> None:
    """emu_start returned an error instead of delivering a trap: the
    instruction could not run (Unicorn reports #UD this way)."""
    cpu = state.K.cpus[tsk.cpu]
    rip = cpu.hw.rip()
    if err == 10:            # UC_ERR_INSN_INVALID
        sig, code = SIGILL, ILL_ILLOPN
    elif err in (6, 7, 8):   # unmapped physical access: treat as a bus error
        sig, code = SIGBUS, 2
    else:
        sig, code = SIGSEGV, SEGV_MAPERR
    if state.K.listeners:
        state.K.emit("trap", task=tsk, intno=-err, rip=rip, signo=sig)
    force_sig_fault(tsk, sig, code, rip)
