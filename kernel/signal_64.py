"""x86-64 signal delivery (arch/x86/kernel/signal.c, signal_64.c and
fpu/signal.c): the syscall restart rules, the rt_sigframe a handler runs
on, and rt_sigreturn, which undoes it.

All of it runs on the way back to user mode with the task's context
loaded in its CPU, and touches the registers through the glue's batch
calls: one read of every register a frame holds, one write.

The frame, from the handler's stack pointer up (sizes in bytes):
    pretcode (8)          return address: sa_restorer
    ucontext (304)        uc_flags, uc_link, uc_stack, uc_mcontext (struct
                          sigcontext, 256), uc_sigmask
    siginfo (128)         written only for SA_SIGINFO handlers
    ... padding ...
    fpstate (512)         FXSAVE layout, 64-byte aligned; the guest's CPUID
                          shows no OSXSAVE, so no XSAVE frame (as Linux
                          booted with noxsave)
The handler enters with rsp = frame (rsp % 16 == 8, as after a call),
rdi = signal, rsi = &info, rdx = &uc, rax = 0, and the FPU in its initial
state; the red zone below the interrupted rsp is left alone.
"""
from __future__ import annotations

import struct
from typing import Optional

from unicorn import x86_const as X

from emu.machine import USER_CS, USER_DS

from . import state
from .mm.mmap import TASK_SIZE
from .mm.uaccess import copy_from_user, copy_to_user
from .panic import Errno
from .percpu import current
from .siginfo import kernel_siginfo
from .signal import (
    NR_restart_syscall, force_sig, force_sigsegv, get_signal, set_current_blocked, sigmask,
    signal_pending,
)
from .syscalls import syscall
from .task import TASK_RUNNING, k_sigaction, task_struct
from .uapi import (
    EFAULT, EINTR, EINVAL, ENOMEM, EPERM, ERESTART_RESTARTBLOCK, ERESTARTNOHAND, ERESTARTSYS, MINSIGSTKSZ,
    SA_NODEFER, SA_ONSTACK, SA_RESTART, SA_RESTORER, SA_SIGINFO, SIGSEGV, SS_AUTODISARM,
    SS_DISABLE, SS_ONSTACK,
)

_M64 = (1 << 64) - 1

# The general registers in struct sigcontext's order, then rip and rflags.
_GPRS = (X.UC_X86_REG_R8, X.UC_X86_REG_R9, X.UC_X86_REG_R10, X.UC_X86_REG_R11,
         X.UC_X86_REG_R12, X.UC_X86_REG_R13, X.UC_X86_REG_R14, X.UC_X86_REG_R15,
         X.UC_X86_REG_RDI, X.UC_X86_REG_RSI, X.UC_X86_REG_RBP, X.UC_X86_REG_RBX,
         X.UC_X86_REG_RDX, X.UC_X86_REG_RAX, X.UC_X86_REG_RCX, X.UC_X86_REG_RSP,
         X.UC_X86_REG_RIP, X.UC_X86_REG_RFLAGS)
_I_RDI, _I_RSI, _I_RDX, _I_RAX, _I_RSP, _I_RIP, _I_FLAGS = 8, 9, 12, 13, 15, 16, 17
# The FPU in FXSAVE's order (FPSW before ST0-7: it sets the stack top).
_FPU = ((X.UC_X86_REG_FPCW, X.UC_X86_REG_FPSW, X.UC_X86_REG_FPTAG, X.UC_X86_REG_FOP,
         X.UC_X86_REG_FIP, X.UC_X86_REG_FDP, X.UC_X86_REG_MXCSR)
        + tuple(X.UC_X86_REG_ST0 + i for i in range(8))
        + tuple(X.UC_X86_REG_XMM0 + i for i in range(16)))
_ALL_REGS = _GPRS + _FPU
# 16-byte slots as the glue's reg_read_bytes returns them.
_SLOTS = struct.Struct("<" + "Q8x" * 18 + "H14x" * 4 + "Q8x" * 2 + "I12x"
                       + "10s6x" * 8 + "16s" * 16)
_RAX_RIP = (X.UC_X86_REG_RAX, X.UC_X86_REG_RIP)
_RSP = (X.UC_X86_REG_RSP,)

# struct rt_sigframe / ucontext / sigcontext (arch/x86/include/uapi/asm).
# Offsets from the frame's start (the handler's rsp).
FRAME_SIZE, UC_OFF, MCTX_OFF, SIGMASK_OFF, INFO_OFF = 440, 8, 48, 304, 312
FPSTATE_SIZE = 512
UC_FP_XSTATE, UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS = 1, 2, 4
_UC_HEAD = struct.Struct("<QQQQI4xQ")   # pretcode, uc_flags, uc_link, uc_stack (sp, flags, size)
_SIGCONTEXT = struct.Struct("<18Q4H5Q")        # ... cs gs fs ss, err trapno oldmask cr2 fpstate
_FXSAVE = struct.Struct("<HHBxHQQII" + "10s6x" * 8 + "16s" * 16 + "48x" + "IIQI28x")
FP_XSTATE_MAGIC1 = 0x46505853
MXCSR_DEFAULT, MXCSR_MASK, FCW_DEFAULT = 0x1F80, 0xFFFF, 0x37F
# eflags a frame may change (FIX_EFLAGS: the arithmetic flags, TF, DF, AC,
# RF); IOPL, IF, VM, NT and the rest stay as they are.
FIX_EFLAGS = 0x40DD5 | 0x10000
X86_EFLAGS_TF, X86_EFLAGS_DF, X86_EFLAGS_RF = 0x100, 0x400, 0x10000

# The FPU a handler starts with (fpu__clear_user_states): FNINIT's, MXCSR
# at its default, SSE registers zero.
_FPU_INIT = _SLOTS.pack(*([0] * 18), FCW_DEFAULT, 0, 0xFFFF, 0, 0, 0, MXCSR_DEFAULT,
                        *([b""] * 24))[18 * 16:]


def restart_regs(tsk: task_struct, ka: Optional[k_sigaction], rax: int, rip: int) -> tuple[int, int]:
    """The restart rules, for a task leaving syscall tsk.orig_rax with rax:
    handle_signal's when the handler `ka` is about to run (ERESTARTSYS
    restarts under SA_RESTART, ERESTARTNOINTR always, the others are
    EINTR), arch_do_signal_or_restart's when no handler runs (all
    restart, ERESTART_RESTARTBLOCK through restart_syscall).  Restarting
    rewinds rip over the 2-byte syscall instruction and puts the number
    back in rax.  Returns the new (rax, rip)."""
    nr = tsk.orig_rax
    if nr < 0:
        return rax, rip
    tsk.orig_rax = -1
    err = (-rax) & _M64
    if not ERESTARTSYS <= err <= ERESTART_RESTARTBLOCK:
        return rax, rip
    if ka is not None and (err in (ERESTARTNOHAND, ERESTART_RESTARTBLOCK)
                           or (err == ERESTARTSYS and not ka.flags & SA_RESTART)):
        return (-EINTR) & _M64, rip
    if ka is None and err == ERESTART_RESTARTBLOCK:
        nr = NR_restart_syscall
    return nr, rip - 2


def do_signal(tsk: task_struct) -> None:
    """arch_do_signal_or_restart: on the way back to user mode (tsk's
    context loaded), run a handler for the first pending signal that has
    one, or settle an interrupted syscall.  May not return to the guest
    (a fatal signal ends the task)."""
    ksig = get_signal(tsk)
    if tsk.exit_state or tsk.state:
        return
    if ksig is not None:
        handle_signal(tsk, *ksig)
        return
    if tsk.orig_rax >= 0:
        glue = state.K.cpus[tsk.cpu].hw.glue
        rax, rip = glue.reg_read_batch(_RAX_RIP)
        new = restart_regs(tsk, None, rax, rip)
        if new != (rax, rip):
            glue.reg_write_batch(_RAX_RIP, new)
    restore_saved_sigmask(tsk)


def restore_saved_sigmask(tsk: task_struct) -> None:
    """sigsuspend's mask ends when no handler ran (TIF_RESTORE_SIGMASK)."""
    if tsk.saved_sigmask is not None:
        set_current_blocked(tsk, tsk.saved_sigmask)
        tsk.saved_sigmask = None


def sigmask_to_save(tsk: task_struct) -> int:
    return tsk.blocked if tsk.saved_sigmask is None else tsk.saved_sigmask


def handle_signal(tsk: task_struct, info: kernel_siginfo, ka: k_sigaction) -> None:
    """Run ka's handler for info.signo: restart rules, frame, then the
    handler's mask (signal_delivered), or SIGSEGV if no frame fits."""
    glue = state.K.cpus[tsk.cpu].hw.glue
    raw = glue.reg_read_bytes(_ALL_REGS)
    vals = list(_SLOTS.unpack(raw))
    vals[_I_RAX], vals[_I_RIP] = restart_regs(tsk, ka, vals[_I_RAX], vals[_I_RIP])
    sig = info.signo
    handler_regs = setup_rt_frame(tsk, info, ka, vals)
    if handler_regs is None:
        force_sigsegv(sig, tsk)
        return
    glue.reg_write_bytes(_HANDLER_IDS, handler_regs)
    # signal_delivered: the handler runs with sa_mask (and the signal
    # itself, unless SA_NODEFER) blocked; the frame holds the old mask.
    blocked = tsk.blocked | ka.mask
    if not ka.flags & SA_NODEFER:
        blocked |= sigmask(sig)
    set_current_blocked(tsk, blocked)
    tsk.saved_sigmask = None
    if tsk.sas_ss_flags & SS_AUTODISARM:
        sas_ss_reset(tsk)


_HANDLER_IDS = (X.UC_X86_REG_RDI, X.UC_X86_REG_RSI, X.UC_X86_REG_RDX, X.UC_X86_REG_RAX,
                X.UC_X86_REG_RSP, X.UC_X86_REG_RIP, X.UC_X86_REG_RFLAGS) + _FPU
_HANDLER_GPRS = struct.Struct("<" + "Q8x" * 7)


# --- sigaltstack -----------------------------------------------------------------

def __on_sig_stack(tsk: task_struct, sp: int) -> bool:
    return sp > tsk.sas_ss_sp and sp - tsk.sas_ss_sp <= tsk.sas_ss_size


def on_sig_stack(tsk: task_struct, sp: int) -> bool:
    """Is sp on the alternate stack?  With SS_AUTODISARM the stack is given
    up when a handler starts on it, so nothing counts as on it."""
    if tsk.sas_ss_flags & SS_AUTODISARM:
        return False
    return __on_sig_stack(tsk, sp)


def sas_ss_flags(tsk: task_struct, sp: int) -> int:
    if not tsk.sas_ss_size:
        return SS_DISABLE
    return SS_ONSTACK if on_sig_stack(tsk, sp) else 0


def sas_ss_reset(tsk: task_struct) -> None:
    tsk.sas_ss_sp = tsk.sas_ss_size = 0
    tsk.sas_ss_flags = SS_DISABLE


def do_sigaltstack(tsk: task_struct, ss: Optional[tuple[int, int, int]], sp: int,
                   min_ss_size: int = MINSIGSTKSZ) -> tuple[int, int, int]:
    """Install ss = (ss_sp, ss_flags, ss_size) if given; returns the old
    (ss_sp, ss_flags, ss_size) as sigaltstack reports it."""
    old = (tsk.sas_ss_sp, sas_ss_flags(tsk, sp) | (tsk.sas_ss_flags & SS_AUTODISARM),
           tsk.sas_ss_size)
    if ss is not None:
        ss_sp, ss_flags, ss_size = ss
        if on_sig_stack(tsk, sp):
            raise Errno(EPERM)
        mode = ss_flags & ~SS_AUTODISARM
        if mode not in (SS_DISABLE, SS_ONSTACK, 0):
            raise Errno(EINVAL)
        if (tsk.sas_ss_sp, tsk.sas_ss_size, tsk.sas_ss_flags) == (ss_sp, ss_size, ss_flags):
            return old
        if mode == SS_DISABLE:
            ss_sp = ss_size = 0
        elif ss_size < min_ss_size:
            raise Errno(ENOMEM)
        tsk.sas_ss_sp, tsk.sas_ss_size, tsk.sas_ss_flags = ss_sp, ss_size, ss_flags
    return old


# --- the frame ------------------------------------------------------------------------

def get_sigframe(tsk: task_struct, ka: k_sigaction, rsp: int) -> Optional[tuple[int, int]]:
    """(frame, fpstate) addresses for a handler interrupting rsp, or None
    when the alternate stack would overflow (the task then gets SIGSEGV)."""
    nested = on_sig_stack(tsk, rsp)
    entering = False
    sp = (rsp - 128) & _M64                       # the red zone
    if ka.flags & SA_ONSTACK and sas_ss_flags(tsk, sp) == 0:
        sp = tsk.sas_ss_sp + tsk.sas_ss_size
        entering = True
    fp = (sp - FPSTATE_SIZE) & ~63 & _M64
    sp = (((fp - FRAME_SIZE) & ~15) - 8) & _M64
    if (nested or entering) and not __on_sig_stack(tsk, sp):
        return None
    return sp, fp


def fxsave(vals: list) -> bytes:
    """The FXSAVE image of the FPU registers in vals (with Linux's software
    bytes: magic, sizes, FP|SSE), from _SLOTS' FPU part."""
    fcw, fsw, ftag, fop, fip, fdp, mxcsr = vals[18:25]
    abridged = 0
    for i in range(8):
        if (ftag >> (2 * i)) & 3 != 3:
            abridged |= 1 << i
    return _FXSAVE.pack(fcw, fsw, abridged, fop, fip, fdp, mxcsr, MXCSR_MASK, *vals[25:49],
                        FP_XSTATE_MAGIC1, FPSTATE_SIZE, 3, FPSTATE_SIZE)


def fxrstor_slots(buf: bytes) -> Optional[bytes]:
    """The FPU slots (for reg_write_bytes) an FXSAVE image restores, or
    None if FXRSTOR would fault on it (reserved MXCSR bits)."""
    fcw, fsw, abridged, fop, fip, fdp, mxcsr, _mask, *regs = _FXSAVE.unpack(buf)[:32]
    if mxcsr & ~MXCSR_MASK:
        return None
    ftag = 0
    for i in range(8):
        if not abridged & (1 << i):
            ftag |= 3 << (2 * i)
    return _SLOTS.pack(*([0] * 18), fcw, fsw, ftag, fop, fip, fdp, mxcsr, *regs)[18 * 16:]


def setup_rt_frame(tsk: task_struct, info: kernel_siginfo, ka: k_sigaction,
                   vals: list) -> Optional[bytes]:
    """Write the frame for ka's handler over the registers `vals` (_SLOTS
    order); returns the handler's registers (_HANDLER_IDS slots), or None
    if the frame cannot be written (no SA_RESTORER, a bad or overflowing
    stack)."""
    if not ka.flags & SA_RESTORER:
        return None
    rsp = vals[_I_RSP]
    where = get_sigframe(tsk, ka, rsp)
    if where is None:
        return None
    frame, fp = where
    mask = sigmask_to_save(tsk)
    uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
    head = _UC_HEAD.pack(ka.restorer, uc_flags, 0, tsk.sas_ss_sp, tsk.sas_ss_flags,
                         tsk.sas_ss_size)
    sc = _SIGCONTEXT.pack(*vals[:18], USER_CS, 0, 0, USER_DS, tsk.error_code, tsk.trap_nr,
                          mask & 0xFFFFFFFFFFFFFFFF, tsk.cr2, fp)
    body = head + sc + bytes(64) + struct.pack("<Q", mask)
    try:
        copy_to_user(fp, fxsave(vals))
        copy_to_user(frame, body)
        if ka.flags & SA_SIGINFO:
            copy_to_user(frame + INFO_OFF, info.pack())
    except Errno:
        return None
    flags = vals[_I_FLAGS] & ~(X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF)
    return _HANDLER_GPRS.pack(info.signo, frame + INFO_OFF, frame + UC_OFF, 0, frame,
                              ka.handler & _M64, flags) + _FPU_INIT


# --- rt_sigreturn ---------------------------------------------------------------------

def _canonical(addr: int) -> bool:
    return addr < (1 << 47) or addr >= (1 << 64) - (1 << 47)


@syscall("rt_sigreturn")
def sys_rt_sigreturn() -> Optional[int]:
    """Return from a handler: restore the registers, FPU, mask and
    alternate stack of the frame at rsp - 8 (the handler may have edited
    them).  rax is the frame's, and rcx/r11 are the frame's too, so the
    registers are loaded on the way back to user mode (tsk.pending_regs)
    and the entry leaves them alone.  A frame that cannot be read gets
    SIGSEGV and returns 0; one whose return to user mode would fault (a
    kernel or foreign code or stack segment, a non-canonical rip) is
    loaded and gets SIGSEGV, as the IRET's #GP gives on Linux."""
    tsk = current()
    cpu = state.K.cpus[tsk.cpu]
    rsp = cpu.hw.glue.reg_read_batch(_RSP)[0]
    frame = (rsp - 8) & _M64
    try:
        if frame + FRAME_SIZE > TASK_SIZE:
            raise Errno(EFAULT)
        buf = copy_from_user(frame, SIGMASK_OFF + 8)
    except Errno:
        return signal_fault(tsk)
    uc_flags = struct.unpack_from("<Q", buf, UC_OFF)[0]
    set_current_blocked(tsk, struct.unpack_from("<Q", buf, SIGMASK_OFF)[0])
    ss_sp, ss_flags, ss_size = struct.unpack_from("<QI4xQ", buf, UC_OFF + 16)
    try:
        do_sigaltstack(tsk, (ss_sp, ss_flags, ss_size), rsp)
    except Errno:
        pass                             # restore_altstack squashes all but EFAULT
    sc = _SIGCONTEXT.unpack_from(buf, MCTX_OFF)
    gprs = list(sc[:18])
    cs, ss, fpstate = sc[18] | 3, sc[21] | 3, sc[26]
    gprs[_I_FLAGS] = (cpu.hw.regs[8] & ~FIX_EFLAGS) | (gprs[_I_FLAGS] & FIX_EFLAGS)
    tsk.orig_rax = -1                    # no syscall restart after this
    tsk.restart_block = None             # a pending restart_syscall is EINTR now
    cpu.need_resched = True              # load the registers before user mode
    fpu: Optional[bytes] = _FPU_INIT     # no fpstate: the initial FPU
    if fpstate:
        try:
            fpu = fxrstor_slots(copy_from_user(fpstate, FPSTATE_SIZE))
        except Errno:
            fpu = None
    if fpu is None:
        # The general registers are loaded, the FPU is not: SIGSEGV, rax 0.
        gprs[_I_RAX] = 0
        tsk.pending_regs = (_GPRS, _GPR_SLOTS.pack(*gprs))
        force_sig(SIGSEGV, tsk)
        return None
    tsk.pending_regs = (_ALL_REGS, _GPR_SLOTS.pack(*gprs) + fpu)
    if state.K.listeners:
        state.K.emit("sigreturn", task=tsk, mask=tsk.blocked, ret=gprs[_I_RAX])
    if ss != USER_DS and not uc_flags & UC_STRICT_RESTORE_SS:
        ss = USER_DS                     # force_valid_ss
    if cs != USER_CS or ss != USER_DS or not _canonical(gprs[_I_RIP]):
        force_sig(SIGSEGV, tsk)          # never loaded: the CPU stays at CPL 3
    return None


_GPR_SLOTS = struct.Struct("<" + "Q8x" * 18)


def signal_fault(tsk: task_struct) -> int:
    """A sigreturn frame that cannot be read: SIGSEGV, and 0 returned."""
    force_sig(SIGSEGV, tsk)
    return 0


def exit_to_user_mode(tsk: task_struct) -> None:
    """The work before tsk returns to user mode, its context loaded:
    registers a sigreturn restores, then signals and syscall restart.
    As exit_to_user_mode_loop, every deliverable signal gets its frame
    now, each on top of the last: the last one's handler runs first."""
    if tsk.pending_regs is not None:
        ids, data = tsk.pending_regs
        tsk.pending_regs = None
        state.K.cpus[tsk.cpu].hw.glue.reg_write_bytes(ids, data)
    do_signal(tsk)
    while signal_pending(tsk) and not tsk.exit_state and tsk.state == TASK_RUNNING:
        do_signal(tsk)
