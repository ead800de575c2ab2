"""Exceptions from guest code (arch/x86/kernel/traps.c, mm/fault.c): the
#PF handler and the signal each other trap becomes."""
from __future__ import annotations

import struct
import sys
from typing import Callable

from emu.paging import PF_INSTR, PF_PROT, PF_USER, PF_WRITE

from . import state
from .mm.memory import FAULT_EXEC, FAULT_WRITE, Segv, handle_mm_fault
from .mm.mmap import TASK_SIZE
from .panic import BUG, OutOfMemory
from .percpu import cpu_struct
from .signal import force_sig_fault, send_signal
from .task import PF_KTHREAD, SIGNAL_GROUP_EXIT, task_struct
from .uapi import (
    BUS_ADRALN, BUS_ADRERR, FPE_INTDIV, ILL_ILLOPN, SEGV_MAPERR, SI_KERNEL, SIGBUS, SIGFPE, SIGILL,
    SIGKILL, SIGSEGV, SIGTRAP, TRAP_TRACE,
)

_TRAP = struct.Struct("<4Q")
_TRAP_OFF = 9 * 8

# intno -> (signal, si_code, si_addr is the faulting rip) for traps other
# than #PF, as arch/x86/kernel/traps.c sends them from user mode: do_trap
# without a code is force_sig (SI_KERNEL, no address).
_TRAP_SIGNALS = {
    0: (SIGFPE, FPE_INTDIV, True),      # #DE
    1: (SIGTRAP, TRAP_TRACE, True),     # #DB
    3: (SIGTRAP, SI_KERNEL, False),     # int3 (rip is past it)
    4: (SIGSEGV, SI_KERNEL, False),     # #OF
    5: (SIGSEGV, SI_KERNEL, False),     # #BR
    6: (SIGILL, ILL_ILLOPN, True),      # #UD
    10: (SIGSEGV, SI_KERNEL, False),    # #TS
    11: (SIGBUS, SI_KERNEL, False),     # #NP
    12: (SIGBUS, SI_KERNEL, False),     # #SS
    13: (SIGSEGV, SI_KERNEL, False),    # #GP
    16: (SIGFPE, SI_KERNEL, True),      # #MF
    17: (SIGBUS, BUS_ADRALN, False),    # #AC
    19: (SIGFPE, SI_KERNEL, True),      # #XM
}


def make_trap_entry(cpu: cpu_struct) -> Callable[[], None]:
    unpack = _TRAP.unpack_from
    K = state.K

    def do_trap() -> None:
        if state.K is not K:
            return state.call_entered(K, cpu, do_trap)
        intno, cr2, err, rip = unpack(cpu.hw.shared, _TRAP_OFF)
        tsk = cpu.curr
        if intno == 14:
            exc_page_fault(cpu, tsk, cr2, err, rip)
            return
        sig, code, at_rip = _TRAP_SIGNALS.get(intno, (SIGSEGV, SI_KERNEL, False))
        if K.listeners:
            K.emit("trap", task=tsk, intno=intno, rip=rip, signo=sig)
        tsk.trap_nr, tsk.error_code = intno, err
        force_sig_fault(tsk, sig, code, rip if at_rip else 0)
        cpu.need_resched = True
        cpu.hw.glue.stop()

    return do_trap


def exc_page_fault(cpu: cpu_struct, tsk: task_struct, addr: int, err: int, rip: int) -> None:
    K = state.K
    if not err & PF_USER:
        raise BUG(f"exc_page_fault: supervisor fault at {addr:#x} rip {rip:#x} err {err:#x}")
    flags = (FAULT_WRITE if err & PF_WRITE else 0) | (FAULT_EXEC if err & PF_INSTR else 0)
    try:
        how = handle_mm_fault(tsk.mm, addr, flags)
    except Segv as s:
        if K.listeners:
            K.emit("segv", task=tsk, addr=addr, rip=rip, err=err, access=_access(err),
                   vma=tsk.mm.find_vma(addr), signo=s.signo, code=s.code)
        # set_signal_archinfo: a user access to the kernel half always
        # reads as a protection fault.
        if addr >= TASK_SIZE:
            err |= PF_PROT
        tsk.trap_nr, tsk.error_code, tsk.cr2 = 14, err | PF_USER, addr
        force_sig_fault(tsk, s.signo, s.code, addr)
        cpu.need_resched = True
        cpu.hw.glue.stop()
        return
    except OutOfMemory:
        oom_kill(cpu, tsk)
        return
    if K.listeners:
        K.emit("fault", task=tsk, addr=addr, rip=rip, err=err, access=_access(err),
               vma=tsk.mm.find_vma(addr), how=how)
    cpu.hw.glue.flush_tlb()


def _access(err: int) -> str:
    """The access a #PF error code describes."""
    return "exec" if err & PF_INSTR else "write" if err & PF_WRITE else "read"


def oom_kill(cpu: cpu_struct, tsk: task_struct) -> None:
    """A user fault found no free frame (mm/oom_kill.c out_of_memory, then
    pagefault_out_of_memory): kill the process oom_badness rates worst with
    SIGKILL, and every other process sharing its mm.  The faulting task
    retries the fault when it runs again; by then the victim has exited
    (it dies before it could run user code) and its frames are back.
    While an earlier victim still holds its memory, nobody else is killed:
    the faulting task just yields to let it die (oom_evaluate_task's abort
    on tsk_is_oom_victim).  Before any of that, clean page-cache frames
    nothing maps are dropped (reclaim); if that freed some, nobody dies."""
    K = state.K
    cpu.need_resched = True
    cpu.hw.glue.stop()
    from .mm.filemap import shrink_page_cache
    if shrink_page_cache(K):
        return      # clean page-cache frames went first; the fault retries
    K.oom_victims = [v for v in K.oom_victims if _dying_with_mm(v)]
    if any(v.signal is not tsk.signal for v in K.oom_victims):
        return
    victim = select_bad_process()
    if victim is None:
        # Nothing else is killable (Linux would panic): the faulting
        # process goes, so the run keeps going.
        victim = tsk
    if K.listeners:
        K.emit("oom", task=tsk, victim=victim.tgid, comm=victim.comm)
    mm = _task_mm(victim)
    if mm is not None:
        sys.stderr.write(f"tinyunix: Out of memory: Killed process {victim.tgid} ({victim.comm}) "
                         f"total-vm:{mm.total_vm() * 4}kB, rss:{mm.get_mm_rss() * 4}kB, "
                         f"pgtables:{mm.pt.nr_tables * 4}kB\n")
        sys.stderr.flush()
    info = {"signo": SIGKILL, "code": SI_KERNEL}
    send_signal(SIGKILL, victim, info, True)
    K.oom_victims.append(victim.group_leader)
    if mm is not None:
        from .mm.oom_reaper import wake_oom_reaper
        wake_oom_reaper(mm)
    if mm is not None:
        # Processes sharing the victim's mm would keep it alive.
        for t in list(K.tasks.values()):
            if (t.thread_group_leader and t.signal is not victim.signal and _task_mm(t) is mm
                    and not _oom_unkillable(t)):
                send_signal(SIGKILL, t, info, True)
                K.oom_victims.append(t)


def _task_mm(p: task_struct):
    """find_lock_task_mm: the mm of any live thread of p's group."""
    for t in p.signal.threads:
        if t.mm is not None:
            return t.mm
    return None


def _oom_unkillable(p: task_struct) -> bool:
    """init and kernel threads are never chosen (oom_unkillable_task)."""
    return bool(p.flags & PF_KTHREAD) or p is state.K.init_task


def _dying_with_mm(p: task_struct) -> bool:
    """A process killed (SIGKILL, group exit) that has not yet released its
    memory: it will free frames as soon as it runs."""
    return (p.thread_group_leader and not p.exit_state and bool(p.signal.flags & SIGNAL_GROUP_EXIT)
            and _task_mm(p) is not None)


def oom_badness(p: task_struct) -> int:
    """mm/oom_kill.c oom_badness: pages the process would free if killed
    (resident pages plus page tables); -1 when it must not be chosen
    (init, kernel threads, no mm, a vfork child whose memory is its
    parent's).  No oom_score_adj yet: it counts as 0."""
    if _oom_unkillable(p):
        return -1
    mm = _task_mm(p)
    if mm is None:
        return -1
    if p.vfork_done is not None and p.real_parent is not None and p.real_parent.mm is mm:
        return -1               # in_vfork: killing it frees nothing
    return mm.get_mm_rss() + mm.pt.nr_tables


def select_bad_process():
    """The process with the highest oom_badness, or None.  Processes are
    visited in creation order and a tie goes to the later one, as
    oom_evaluate_task does (it skips only lower scores)."""
    chosen, chosen_points = None, -1
    for p in list(state.K.tasks.values()):
        if not p.thread_group_leader or p.exit_state:
            continue
        points = oom_badness(p)
        if points < 0 or points < chosen_points:
            continue
        chosen, chosen_points = p, points
    return chosen


def handle_emu_error(tsk: task_struct, err: int) -> None:
    """emu_start returned an error instead of delivering a trap: the
    instruction could not run (Unicorn reports #UD this way)."""
    cpu = state.K.cpus[tsk.cpu]
    rip = cpu.hw.rip()
    if err == 10:            # UC_ERR_INSN_INVALID: #UD
        sig, code = SIGILL, ILL_ILLOPN
        tsk.trap_nr, tsk.error_code = 6, 0
    elif err in (6, 7, 8):   # unmapped physical access: treat as a bus error
        sig, code = SIGBUS, BUS_ADRERR
    else:
        sig, code = SIGSEGV, SEGV_MAPERR
    if state.K.listeners:
        state.K.emit("trap", task=tsk, intno=-err, rip=rip, signo=sig)
    force_sig_fault(tsk, sig, code, rip)
