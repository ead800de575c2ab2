"""The machine: physical RAM shared by vCPUs, each a Unicorn engine in long
mode with real paging, and the supervisor-only kernel half every address
space maps (trampoline, GDT, kernel stack).

Physical frames below Machine.first_free_pfn belong to the machine; the
kernel allocates from the rest.  The kernel half is one PML4 slot (511)
whose entry, Machine.kernel_pml4e, every PML4 copies.
"""
from __future__ import annotations

import ctypes
import mmap
import struct
from typing import Callable

import unicorn
from unicorn import UC_ARCH_X86, UC_MODE_64, UC_PROT_ALL, Uc
from unicorn import x86_const as X

from . import _uchook
from .cpuid import cpuid_table, pack_cpuid
from .paging import (
    CR0_MP, CR0_NE, CR0_PE, CR0_PG, CR0_WP, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE,
    EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, MSR_EFER, PAGE_SIZE, _PAGE_NX,
    _PAGE_PRESENT, _PAGE_RW, _PAGE_USER,
)

KERNEL_BASE = 0xFFFF_FF80_0000_0000  # PML4 slot 511
TRAMPOLINE = KERNEL_BASE              # page 0: `iretq`
GDT_BASE = KERNEL_BASE + PAGE_SIZE    # page 1: the GDT
KSTACK_TOP = KERNEL_BASE + 4 * PAGE_SIZE  # pages 2-3: kernel stack
EMU_UNTIL = KERNEL_BASE + 0x3F_F000   # an address never executed

# Linux's selectors: __KERNEL_CS 0x10, __KERNEL_DS 0x18, __USER32_CS 0x23,
# __USER_DS 0x2b, __USER_CS 0x33.
KERNEL_CS, KERNEL_DS, USER_DS, USER_CS = 0x10, 0x18, 0x2B, 0x33
_GDT = [
    0,
    0,
    0x00AF9B000000FFFF,  # 0x10 kernel code, 64-bit
    0x00CF93000000FFFF,  # 0x18 kernel data
    0x00CFFB000000FFFF,  # 0x23 user code, 32-bit
    0x00CFF3000000FFFF,  # 0x2b user data
    0x00AFFB000000FFFF,  # 0x33 user code, 64-bit
]

# Frames the machine keeps for itself.
_PFN_KPDPT, _PFN_KPD, _PFN_KPT, _PFN_TRAMP, _PFN_GDT, _PFN_KSTACK = 1, 2, 3, 4, 5, 6
FIRST_FREE_PFN = 8

CR0 = CR0_PG | CR0_WP | CR0_NE | CR0_MP | CR0_PE
CR4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT
EFER = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE

_fnptrs_done = False


def _init_glue() -> None:
    global _fnptrs_done
    if _fnptrs_done:
        return
    from unicorn.unicorn_py3 import unicorn as binding
    lib = binding.uclib
    names = ["uc_reg_read_batch", "uc_reg_write_batch", "uc_emu_start", "uc_emu_stop",
             "uc_hook_add", "uc_hook_del", "uc_context_alloc", "uc_context_save",
             "uc_context_restore", "uc_ctl", "uc_context_reg_write_batch"]
    _uchook.init(*[ctypes.cast(getattr(lib, n), ctypes.c_void_p).value for n in names])
    _fnptrs_done = True


class MachineError(Exception):
    """The machine could not be built (not a guest's fault)."""


class Machine:
    """Physical RAM of `ram_size` bytes and the kernel half's page tables."""

    def __init__(self, ram_size: int) -> None:
        if ram_size % (2 << 20) or ram_size < (4 << 20):
            raise MachineError("RAM size must be a multiple of 2 MiB, at least 4 MiB")
        _init_glue()
        self.ram_size = ram_size
        self.nr_frames = ram_size // PAGE_SIZE
        self.first_free_pfn = FIRST_FREE_PFN
        # Anonymous host memory: committed lazily by the host as frames are touched.
        self.ram = mmap.mmap(-1, ram_size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self.mem = memoryview(self.ram)
        self.qwords = self.mem.cast("Q")  # page-table entries by physical address >> 3
        self.ram_ptr = ctypes.addressof(ctypes.c_char.from_buffer(self.ram))
        self._build_kernel_half()
        self.kernel_pml4e = (_PFN_KPDPT << 12) | _PAGE_PRESENT | _PAGE_RW
        self.cpus: list[Cpu] = []
        self.exc_offsets: tuple[int, int] | None = None

    def _build_kernel_half(self) -> None:
        q = self.qwords
        q[(_PFN_KPDPT << 9) + 0] = (_PFN_KPD << 12) | _PAGE_PRESENT | _PAGE_RW
        q[(_PFN_KPD << 9) + 0] = (_PFN_KPT << 12) | _PAGE_PRESENT | _PAGE_RW
        pt = _PFN_KPT << 9
        q[pt + 0] = (_PFN_TRAMP << 12) | _PAGE_PRESENT                    # r-x, supervisor
        q[pt + 1] = (_PFN_GDT << 12) | _PAGE_PRESENT | _PAGE_RW | _PAGE_NX
        q[pt + 2] = (_PFN_KSTACK << 12) | _PAGE_PRESENT | _PAGE_RW | _PAGE_NX
        q[pt + 3] = ((_PFN_KSTACK + 1) << 12) | _PAGE_PRESENT | _PAGE_RW | _PAGE_NX
        self.mem[_PFN_TRAMP << 12:(_PFN_TRAMP << 12) + 2] = b"\x48\xcf"  # iretq
        for i, d in enumerate(_GDT):
            q[(_PFN_GDT << 9) + i] = d

    def add_cpu(self, on_syscall: Callable[[], int | None], on_trap: Callable[[], None],
                on_rdtsc: Callable[[], None]) -> "Cpu":
        cpu = Cpu(self, len(self.cpus), on_syscall, on_trap, on_rdtsc)
        self.cpus.append(cpu)
        return cpu

    def phys_read(self, pa: int, n: int) -> bytes:
        return bytes(self.mem[pa:pa + n])

    def phys_write(self, pa: int, data: bytes) -> None:
        self.mem[pa:pa + len(data)] = data

    def zero_frame(self, pfn: int) -> None:
        self.mem[pfn << 12:(pfn + 1) << 12] = _ZERO_PAGE

    def copy_frame(self, dst: int, src: int) -> None:
        self.mem[dst << 12:(dst + 1) << 12] = self.mem[src << 12:(src + 1) << 12]


_ZERO_PAGE = bytes(PAGE_SIZE)

# Registers zeroed when a fresh user context is entered.
_GPRS = [X.UC_X86_REG_RAX, X.UC_X86_REG_RBX, X.UC_X86_REG_RCX, X.UC_X86_REG_RDX,
         X.UC_X86_REG_RSI, X.UC_X86_REG_RDI, X.UC_X86_REG_RBP, X.UC_X86_REG_R8,
         X.UC_X86_REG_R9, X.UC_X86_REG_R10, X.UC_X86_REG_R11, X.UC_X86_REG_R12,
         X.UC_X86_REG_R13, X.UC_X86_REG_R14, X.UC_X86_REG_R15]

# load_user_context writes these in one batch: the FPU in its FNINIT state
# and MXCSR at its reset value (the SSE registers are zero in the kernel
# context), the GPRs, FS/GS base zero, then RSP and RIP.
_FRESH_REGS = (X.UC_X86_REG_FPCW, X.UC_X86_REG_FPSW, X.UC_X86_REG_FPTAG, X.UC_X86_REG_MXCSR) \
    + tuple(_GPRS) + (X.UC_X86_REG_FS_BASE, X.UC_X86_REG_GS_BASE, X.UC_X86_REG_RSP, X.UC_X86_REG_RIP)
_FRESH_VALUES = (0x37F, 0, 0xFFFF, 0x1F80) + (0,) * (len(_GPRS) + 2)
_RIP = (X.UC_X86_REG_RIP,)

SHARED_FORMAT = "<9Q4QQqQQ"


class Cpu:
    """One vCPU: a Unicorn engine over the machine's RAM plus its C glue."""

    def __init__(self, machine: Machine, index: int, on_syscall: Callable[[], int | None],
                 on_trap: Callable[[], None], on_rdtsc: Callable[[], None]) -> None:
        self.machine = machine
        self.index = index
        uc = Uc(UC_ARCH_X86, UC_MODE_64)
        uc.ctl_set_tlb_mode(unicorn.UC_TLB_CPU)
        uc.mem_map_ptr(0, machine.ram_size, UC_PROT_ALL, machine.ram_ptr)
        self.uc = uc
        self.uch = ctypes.cast(uc._uch, ctypes.c_void_p).value
        self.glue = _uchook.Glue(self.uch, on_syscall, on_trap, on_rdtsc)
        self.shared = self.glue.shared()
        # The same struct as u64s: regs[0..8] = rax rdi rsi rdx r10 r8 r9
        # rip(next insn) rflags at the last syscall.
        self.regs = self.shared.cast("Q")
        self.cr3 = 0
        uc.reg_write(X.UC_X86_REG_GDTR, (0, GDT_BASE, len(_GDT) * 8 - 1, 0))
        if machine.exc_offsets is None:
            machine.exc_offsets = probe_exception_offsets(machine)
        self.glue.set_offsets(*machine.exc_offsets)
        self.glue.set_cpuid(pack_cpuid(cpuid_table()), index)

    def start_paging(self, cr3: int) -> None:
        """Turn on long-mode paging with `cr3` as the first address space,
        and keep this CPL-0 state to enter fresh user contexts from."""
        uc = self.uc
        uc.reg_write(X.UC_X86_REG_CR4, CR4)
        uc.reg_write(X.UC_X86_REG_MSR, (MSR_EFER, EFER))
        uc.reg_write(X.UC_X86_REG_CR3, cr3)
        uc.reg_write(X.UC_X86_REG_CR0, CR0)
        self.cr3 = cr3
        self.kernel_ctx = uc.context_save()

    def set_cr3(self, cr3: int) -> None:
        """Switch address space; writing CR3 flushes the TLB."""
        self.glue.set_cr3(cr3)
        self.cr3 = cr3

    def switch_context(self, save: "unicorn.UcContext | None", restore: "unicorn.UcContext",
                       cr3: int) -> None:
        """Save the CPU state into `save` (unless None), load `restore`,
        and switch to `cr3` (a restored context does not flush the TLB):
        one C call instead of three through the binding."""
        self.glue.switch_context(save._context.value if save is not None else 0,
                                 restore._context.value, cr3)
        self.cr3 = cr3

    def save_context(self, regs: tuple[tuple[int, ...], tuple[int, ...]]) -> "unicorn.UcContext":
        """A new saved context: the CPU state now, with the 64-bit
        registers regs[0] (Unicorn ids) set to regs[1] in it."""
        ctx = self.uc.context_save()
        self.glue.reg_write_batch(regs[0], regs[1], ctx._context.value)
        return ctx

    def load_user_context(self, cr3: int, rip: int, rsp: int) -> None:
        """Make the CPU state a fresh user context about to enter `rip` at
        CPL 3 with stack `rsp` and all general registers zero.  The CPU is
        at CPL 0 in the trampoline; run_user_entry() performs the iretq."""
        uc = self.uc
        uc.context_restore(self.kernel_ctx)  # back to CPL 0
        self.set_cr3(cr3)
        frame = KSTACK_TOP - 5 * 8
        pa = (_PFN_KSTACK << 12) + (frame - (KERNEL_BASE + 2 * PAGE_SIZE))
        self.machine.mem[pa:pa + 40] = struct.pack("<5Q", rip, USER_CS, 0x202, rsp, USER_DS)
        self.glue.reg_write_batch(_FRESH_REGS, _FRESH_VALUES + (frame, TRAMPOLINE))

    def resume(self, until: int = EMU_UNTIL) -> int:
        """Run from the current RIP until stopped; the uc_err."""
        return self.glue.resume(until)

    def rip(self) -> int:
        return self.glue.reg_read_batch(_RIP)[0]


def probe_exception_offsets(machine: Machine) -> tuple[int, int]:
    """Find where a saved uc_context keeps `old_exception` and `error_code`.

    Unicorn never marks an exception handled by a hook as delivered, so
    the kernel must reset old_exception after each one (DESIGN.md).  Run a
    user write to a not-present page on a scratch engine and compare a
    context saved before the fault with one saved in the #PF hook: the one
    int that went from -1 to 14 is old_exception; error_code sits 112 bytes
    before it and must read 6 (user, write, not present)."""
    from unicorn import UC_HOOK_INTR

    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.ctl_set_tlb_mode(unicorn.UC_TLB_CPU)
    # A private 4 MiB of RAM: kernel half as in the machine plus a PML4 at
    # frame 0x100 whose user slot maps code at 0x400000 and nothing at 0x600000.
    size = 4 << 20
    buf = ctypes.create_string_buffer(size)
    uc.mem_map_ptr(0, size, UC_PROT_ALL, ctypes.addressof(buf))
    uc.mem_write(0, bytes(machine.mem[:FIRST_FREE_PFN << 12]))
    P = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER
    pml4, pdpt, pd, pt, code = 0x100, 0x101, 0x102, 0x103, 0x104
    ents = {pml4 * 512 + 0: (pdpt << 12) | P, pml4 * 512 + 511: machine.kernel_pml4e,
            pdpt * 512: (pd << 12) | P, pd * 512 + 2: (pt << 12) | P,
            pt * 512 + 0: (code << 12) | _PAGE_PRESENT | _PAGE_USER}
    for idx, val in ents.items():
        uc.mem_write(idx * 8, struct.pack("<Q", val))
    uc.mem_write(code << 12, b"\xc6\x04\x25\x00\x00\x60\x00\x01" + b"\xf4")  # movb $1,0x600000
    uc.reg_write(X.UC_X86_REG_GDTR, (0, GDT_BASE, len(_GDT) * 8 - 1, 0))
    uc.reg_write(X.UC_X86_REG_CR4, CR4)
    uc.reg_write(X.UC_X86_REG_MSR, (MSR_EFER, EFER))
    uc.reg_write(X.UC_X86_REG_CR3, pml4 << 12)
    uc.reg_write(X.UC_X86_REG_CR0, CR0)
    frame = KSTACK_TOP - 40
    uc.mem_write((_PFN_KSTACK << 12) + (frame - (KERNEL_BASE + 2 * PAGE_SIZE)),
                 struct.pack("<5Q", 0x400000, USER_CS, 0x202, 0x7000, USER_DS))
    uc.reg_write(X.UC_X86_REG_RSP, frame)

    def raw(ctx: "unicorn.UcContext") -> bytes:
        p = ctypes.cast(ctx.context, ctypes.c_void_p).value
        return ctypes.string_at(p, ctx.size + 64)

    before = raw(uc.context_save())
    seen: list[bytes] = []

    def on_intr(uc_: Uc, intno: int, _user: object) -> None:
        if intno == 14 and not seen:
            seen.append(raw(uc_.context_save()))
        uc_.emu_stop()

    uc.hook_add(UC_HOOK_INTR, on_intr)
    uc.emu_start(TRAMPOLINE, EMU_UNTIL, count=10)
    if not seen:
        raise MachineError("probe: no page fault reached the hook")
    after = seen[0]
    cands = [off for off in range(0, min(len(before), len(after)) - 3, 4)
             if struct.unpack_from("<i", before, off)[0] == -1
             and struct.unpack_from("<i", after, off)[0] == 14]
    good = [off for off in cands
            if off >= 112 and struct.unpack_from("<i", after, off - 112)[0] == 6]
    if len(good) != 1:
        raise MachineError(f"probe: cannot locate old_exception (candidates {cands})")
    del uc  # release the engine before the RAM it maps
    return good[0], good[0] - 112
