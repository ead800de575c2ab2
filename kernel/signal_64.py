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
from functools import lru_cache
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
_I_R11, _I_RDI, _I_RSI, _I_RDX, _I_RAX, _I_RCX, _I_RSP, _I_RIP, _I_FLAGS = \
    3, 8, 9, 12, 13, 14, 15, 16, 17
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
_FPU_INIT_VALS = [FCW_DEFAULT, 0, 0xFFFF, 0, 0, 0, MXCSR_DEFAULT] + [bytes(10)] * 8 \
    + [bytes(16)] * 16


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


def signal_work(tsk: task_struct, vals: list) -> bool:
    """The signal work of a return to user mode (exit_to_user_mode_loop's
    arch_do_signal_or_restart), on the register image `vals` (_SLOTS
    order): a frame for each deliverable signal with a handler, each on
    top of the last (the last one's handler runs first), else the restart
    of an interrupted syscall and sigsuspend's mask.  True if vals
    changed.  May not return to the guest: a fatal signal ends the task
    (tsk.exit_state is then set); a stop (job control) leaves it not
    running, with the frames built so far in vals."""
    changed = False
    while True:
        ksig = get_signal(tsk)
        if tsk.exit_state or tsk.state != TASK_RUNNING:
            return changed
        if ksig is None:
            break
        handle_signal(tsk, *ksig, vals)
        changed = True
        if not signal_pending(tsk):
            return True
    if tsk.orig_rax >= 0:
        rax, rip = vals[_I_RAX], vals[_I_RIP]
        vals[_I_RAX], vals[_I_RIP] = restart_regs(tsk, None, rax, rip)
        changed = changed or (rax, rip) != (vals[_I_RAX], vals[_I_RIP])
    restore_saved_sigmask(tsk)
    return changed


def read_user_regs(glue) -> list:
    """Every register a frame holds, as a list in _SLOTS order."""
    return list(_SLOTS.unpack(glue.reg_read_bytes(_ALL_REGS)))


def write_user_regs(glue, vals: list) -> None:
    glue.reg_write_bytes(_ALL_REGS, _SLOTS.pack(*vals))


def exit_to_user_mode(tsk: task_struct) -> None:
    """The work before tsk returns to user mode from the run loop (its
    context loaded in its CPU): registers a sigreturn restored, then
    signals and syscall restart."""
    glue = state.K.cpus[tsk.cpu].hw.glue
    vals = tsk.pending_regs
    tsk.pending_regs = None
    changed = vals is not None
    if vals is None:
        vals = read_user_regs(glue)
    changed = signal_work(tsk, vals) or changed
    if tsk.exit_state:
        return
    if tsk.state != TASK_RUNNING:
        # Stopped (job control): the registers wait until it runs again,
        # and then this work starts over (get_signal's relock).
        tsk.pending_regs = vals
    elif changed:
        write_user_regs(glue, vals)


def exit_to_user_mode_in_syscall(cpu, tsk: task_struct, ret: Optional[int],
                                 vals: Optional[list] = None) -> Optional[int]:
    """The same work done inside the syscall hook, when a signal is
    pending at the end of a syscall (or rt_sigreturn restored `vals`) and
    nothing else stops the CPU: no stop and restart of the engine.  The
    hook has not yet written the syscall's return: vals gets rax = ret,
    rip past the syscall, rcx/r11 as the instruction leaves them.  Returns
    what the entry returns: ret if nothing changed, else None (the
    registers are written here, rip 2 short: Unicorn adds the syscall's
    length when the hook returns)."""
    glue = cpu.hw.glue
    if vals is None:
        vals = read_user_regs(glue)
        regs = cpu.hw.regs
        vals[_I_RAX] = ret & _M64
        vals[_I_RIP] = vals[_I_RCX] = regs[7]
        vals[_I_R11] = regs[8]
        if not signal_work(tsk, vals):
            return None if tsk.exit_state else ret
    elif signal_pending(tsk):
        signal_work(tsk, vals)
    if tsk.exit_state:
        return None
    if tsk.state != TASK_RUNNING:
        # Stopped: the CPU stops after this hook, and the registers are
        # loaded when the task runs again (exit_to_user_mode).
        tsk.pending_regs = vals
        return None
    vals[_I_RIP] -= 2
    write_user_regs(glue, vals)
    return None


def restore_saved_sigmask(tsk: task_struct) -> None:
    """sigsuspend's mask ends when no handler ran (TIF_RESTORE_SIGMASK)."""
    if tsk.saved_sigmask is not None:
        set_current_blocked(tsk, tsk.saved_sigmask)
        tsk.saved_sigmask = None


def sigmask_to_save(tsk: task_struct) -> int:
    return tsk.blocked if tsk.saved_sigmask is None else tsk.saved_sigmask


def handle_signal(tsk: task_struct, info: kernel_siginfo, ka: k_sigaction, vals: list) -> None:
    """Run ka's handler for info.signo on the register image vals:
    restart rules, the frame, the handler's registers and mask
    (signal_delivered), or SIGSEGV if no frame fits."""
    vals[_I_RAX], vals[_I_RIP] = restart_regs(tsk, ka, vals[_I_RAX], vals[_I_RIP])
    sig = info.signo
    if not setup_rt_frame(tsk, info, ka, vals):
        force_sigsegv(sig, tsk)
        return
    # signal_delivered: the handler runs with sa_mask (and the signal
    # itself, unless SA_NODEFER) blocked; the frame holds the old mask.
    blocked = tsk.blocked | ka.mask
    if not ka.flags & SA_NODEFER:
        blocked |= sigmask(sig)
    set_current_blocked(tsk, blocked)
    tsk.saved_sigmask = None
    if tsk.sas_ss_flags & SS_AUTODISARM:
        sas_ss_reset(tsk)


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


@lru_cache(maxsize=64)
def abridged_tag(ftag: int) -> int:
    """FXSAVE's tag byte: bit i set unless physical register i is empty."""
    return sum(1 << i for i in range(8) if (ftag >> (2 * i)) & 3 != 3)


@lru_cache(maxsize=64)
def full_tag(abridged: int) -> int:
    """The tag word an FXSAVE tag byte restores (empty = 3, else valid)."""
    return sum(3 << (2 * i) for i in range(8) if not abridged & (1 << i))


def fxsave_fields(vals: list) -> tuple:
    """The fields of _FXSAVE for the FPU registers in vals (with Linux's
    software bytes: magic, sizes, FP|SSE)."""
    fcw, fsw, ftag, fop, fip, fdp, mxcsr = vals[18:25]
    return (fcw, fsw, abridged_tag(ftag), fop, fip, fdp, mxcsr, MXCSR_MASK, *vals[25:49],
            FP_XSTATE_MAGIC1, FPSTATE_SIZE, 3, FPSTATE_SIZE)


def fxrstor_vals(buf: bytes, off: int = 0) -> Optional[list]:
    """The FPU values (_SLOTS' FPU part) the FXSAVE image at buf[off:]
    restores, or None if FXRSTOR would fault on it (reserved MXCSR bits)."""
    fcw, fsw, abridged, fop, fip, fdp, mxcsr, _mask, *regs = _FXSAVE.unpack_from(buf, off)[:32]
    if mxcsr & ~MXCSR_MASK:
        return None
    return [fcw, fsw, full_tag(abridged), fop, fip, fdp, mxcsr, *regs]


def setup_rt_frame(tsk: task_struct, info: kernel_siginfo, ka: k_sigaction,
                   vals: list) -> bool:
    """Write the frame for ka's handler over the register image vals, and
    make vals the handler's registers.  False if the frame cannot be
    written (no SA_RESTORER, a bad or overflowing stack)."""
    if not ka.flags & SA_RESTORER:
        return False
    where = get_sigframe(tsk, ka, vals[_I_RSP])
    if where is None:
        return False
    frame, fp = where
    mask = sigmask_to_save(tsk)
    # One write from the frame to the end of the fpstate (fp is always
    # frame + 456: 440 bytes of frame, 16 of padding).  Without SA_SIGINFO
    # the siginfo (and the padding) are zero, not the stack's old bytes.
    image = _FULL_FRAME.pack(ka.restorer, UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS, 0,
                             tsk.sas_ss_sp, tsk.sas_ss_flags, tsk.sas_ss_size, *vals[:18],
                             USER_CS, 0, 0, USER_DS, tsk.error_code, tsk.trap_nr, mask,
                             tsk.cr2, fp, mask,
                             info.pack() if ka.flags & SA_SIGINFO else _NO_SIGINFO,
                             *fxsave_fields(vals))
    try:
        copy_to_user(frame, image)
    except Errno:
        return False
    vals[_I_RDI] = info.signo
    vals[_I_RSI] = frame + INFO_OFF
    vals[_I_RDX] = frame + UC_OFF
    vals[_I_RAX] = 0
    vals[_I_RSP] = frame
    vals[_I_RIP] = ka.handler & _M64
    vals[_I_FLAGS] &= ~(X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF)
    vals[18:] = _FPU_INIT_VALS
    return True


_NO_SIGINFO = bytes(128)
FP_OFF = 456                            # fp - frame, as get_sigframe lays them out
# The whole image: _UC_HEAD, _SIGCONTEXT, reserved1, uc_sigmask, siginfo,
# padding, _FXSAVE.
_STACK = struct.Struct("<QI4xQ")        # stack_t: ss_sp, ss_flags, ss_size
_FULL_FRAME = struct.Struct(_UC_HEAD.format + _SIGCONTEXT.format[1:] + "64xQ128s16x"
                            + _FXSAVE.format[1:])


# --- rt_sigreturn ---------------------------------------------------------------------

def _canonical(addr: int) -> bool:
    return addr < (1 << 47) or addr >= (1 << 64) - (1 << 47)


@syscall("rt_sigreturn")
def sys_rt_sigreturn() -> Optional[int]:
    """Return from a handler: restore the registers, FPU, mask and
    alternate stack of the frame at rsp - 8 (the handler may have edited
    them).  rax, rcx and r11 are the frame's, so the registers are loaded
    here (or on the way back to user mode, tsk.pending_regs) and the entry
    leaves them alone.  A frame that cannot be read gets SIGSEGV and
    returns 0; one whose return to user mode would fault (a kernel or
    foreign code or stack segment, a non-canonical rip) gets SIGSEGV, as
    the IRET's #GP gives on Linux, and is never loaded as such."""
    tsk = current()
    cpu = state.K.cpus[tsk.cpu]
    glue = cpu.hw.glue
    rsp = glue.reg_read_batch(_RSP)[0]
    frame = (rsp - 8) & _M64
    if frame + FRAME_SIZE > TASK_SIZE:
        return signal_fault(tsk)
    try:                                 # the frame and, where it usually is, the fpstate
        buf = copy_from_user(frame, _FULL_FRAME.size)
    except Errno:
        try:
            buf = copy_from_user(frame, SIGMASK_OFF + 8)
        except Errno:
            return signal_fault(tsk)
    uc_flags = struct.unpack_from("<Q", buf, UC_OFF)[0]
    set_current_blocked(tsk, struct.unpack_from("<Q", buf, SIGMASK_OFF)[0])
    ss = _STACK.unpack_from(buf, UC_OFF + 16)
    if ss != (tsk.sas_ss_sp, tsk.sas_ss_flags, tsk.sas_ss_size):
        try:
            do_sigaltstack(tsk, ss, rsp)
        except Errno:
            pass                         # restore_altstack squashes all but EFAULT
    sc = _SIGCONTEXT.unpack_from(buf, MCTX_OFF)
    vals = list(sc[:18])
    cs, ss, fpstate = sc[18] | 3, sc[21] | 3, sc[26]
    vals[_I_FLAGS] = (cpu.hw.regs[8] & ~FIX_EFLAGS) | (vals[_I_FLAGS] & FIX_EFLAGS)
    tsk.orig_rax = -1                    # no syscall restart after this
    tsk.restart_block = None             # a pending restart_syscall is EINTR now
    fpu: Optional[list] = _FPU_INIT_VALS   # no fpstate: the initial FPU
    if fpstate == frame + FP_OFF and len(buf) == _FULL_FRAME.size:
        fpu = fxrstor_vals(buf, FP_OFF)
    elif fpstate:
        try:
            fpu = fxrstor_vals(copy_from_user(fpstate, FPSTATE_SIZE))
        except Errno:
            fpu = None
    if fpu is None:
        # The general registers are loaded, the FPU is not: SIGSEGV, rax 0.
        vals[_I_RAX] = 0
        vals += read_user_regs(glue)[18:]
        force_sig(SIGSEGV, tsk)
    else:
        vals += fpu
        if state.K.listeners:
            state.K.emit("sigreturn", task=tsk, mask=tsk.blocked, ret=vals[_I_RAX])
        if ss != USER_DS and not uc_flags & UC_STRICT_RESTORE_SS:
            ss = USER_DS                 # force_valid_ss
        if cs != USER_CS or ss != USER_DS or not _canonical(vals[_I_RIP]):
            force_sig(SIGSEGV, tsk)      # never loaded: the CPU stays at CPL 3
    if cpu.need_resched:
        tsk.pending_regs = vals          # loaded by the run loop
        return None
    return exit_to_user_mode_in_syscall(cpu, tsk, None, vals)





def signal_fault(tsk: task_struct) -> int:
    """A sigreturn frame that cannot be read: SIGSEGV, and 0 returned."""
    force_sig(SIGSEGV, tsk)
    return 0
