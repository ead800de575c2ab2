"""The CPU the guest is shown by CPUID: exactly what this Unicorn executes.

glibc (ld.so's init_cpu_features, its ifunc resolvers, glibc-hwcaps) picks
string and math routines from CPUID bits, so a bit for an instruction the
emulator cannot run sends a guest into #UD.  The table is Unicorn 2.1's own
answer for its default x86-64 model (a Haswell filtered to what QEMU's TCG
implements: SSE up to 4.2, SSSE3, POPCNT, MOVBE, AES, PCLMULQDQ, CX16,
BMI1/2, LZCNT, ERMS, RDTSCP; no AVX of any kind), measured by executing
cpuid on a bare engine, then changed where the machine differs from a
plain Unicorn:

- no XSAVE, no OSXSAVE and an empty leaf 0xd: CR4.OSXSAVE is off and
  signal frames are FXSAVE frames (as under Linux booted with `noxsave`);
  so AVX is unusable for glibc even if a bit said otherwise;
- no RDRAND/RDSEED: their values would differ from run to run;
- no FSGSBASE: CR4.FSGSBASE is off, the instructions #UD at CPL 3;
- no monitor/mwait, no x2APIC/TSC-deadline bits: nothing for user mode.

Leaves not listed read as zeros; a leaf above the highest basic leaf reads
as the highest basic leaf (the glue does the look-up, emu/_uchook.c).
"""
from __future__ import annotations

import struct

ANY = 0xFFFFFFFF   # the leaf has no subleaves

# leaf 1 ecx
_SSE3, _PCLMUL, _MONITOR, _SSSE3, _CX16, _SSE41, _SSE42 = 1, 1 << 1, 1 << 3, 1 << 9, 1 << 13, 1 << 19, 1 << 20
_X2APIC, _MOVBE, _POPCNT, _TSC_DEADLINE, _AES = 1 << 21, 1 << 22, 1 << 23, 1 << 24, 1 << 25
_XSAVE, _OSXSAVE, _AVX, _F16C, _RDRAND, _HYPERVISOR = 1 << 26, 1 << 27, 1 << 28, 1 << 29, 1 << 30, 1 << 31
_FMA = 1 << 12
# leaf 7 ebx
_FSGSBASE, _BMI1, _AVX2, _SMEP, _BMI2, _ERMS, _RDSEED, _ADX = 1, 1 << 3, 1 << 5, 1 << 7, 1 << 8, 1 << 9, 1 << 18, 1 << 19

_LEAF1_ECX_HIDDEN = (_MONITOR | _X2APIC | _TSC_DEADLINE | _XSAVE | _OSXSAVE | _AVX | _F16C
                     | _FMA | _RDRAND)
_LEAF7_EBX_HIDDEN = _FSGSBASE | _AVX2 | _RDSEED

# (leaf, subleaf): (eax, ebx, ecx, edx) -- Unicorn 2.1.4's default x86-64
# model, measured; the masks above are applied in cpuid_table().
_UNICORN = {
    (0x0, ANY): (0xD, 0x756E6547, 0x6C65746E, 0x49656E69),     # "GenuineIntel"
    (0x1, ANY): (0x306C4, 0x800, 0xCED82203, 0x78BFBFD),
    (0x2, ANY): (0x1, 0x0, 0x0, 0x2C307D),
    (0x4, 0): (0x121, 0x1C0003F, 0x3F, 0x1),
    (0x4, 1): (0x122, 0x1C0003F, 0x3F, 0x1),
    (0x4, 2): (0x143, 0x3C0003F, 0xFFF, 0x1),
    (0x6, ANY): (0x4, 0x0, 0x0, 0x0),
    (0x7, 0): (0x0, 0x389, 0x0, 0x0),
    (0x80000000, ANY): (0x80000008, 0x756E6547, 0x6C65746E, 0x49656E69),
    (0x80000001, ANY): (0x306C4, 0x0, 0x21, 0x28100800),     # LAHF, LZCNT; SYSCALL NX RDTSCP LM
    (0x80000002, ANY): (0x65746E49, 0x6F43206C, 0x50206572, 0x65636F72),
    (0x80000003, ANY): (0x726F7373, 0x61482820, 0x6C657773, 0x296C),  # "... (Haswell)"
    (0x80000004, ANY): (0x0, 0x0, 0x0, 0x0),
    (0x80000005, ANY): (0x1FF01FF, 0x1FF01FF, 0x40020140, 0x40020140),
    (0x80000006, ANY): (0x0, 0x42004200, 0x2008140, 0x0),
    (0x80000008, ANY): (0x3028, 0x0, 0x0, 0x0),
}


def cpuid_table() -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """The guest's CPUID leaves: Unicorn's with the hidden features off."""
    t = dict(_UNICORN)
    a, b, c, d = t[(0x1, ANY)]
    t[(0x1, ANY)] = (a, b, c & ~_LEAF1_ECX_HIDDEN, d)
    a, b, c, d = t[(0x7, 0)]
    t[(0x7, 0)] = (a, b & ~_LEAF7_EBX_HIDDEN, c, d)
    return t


def pack_cpuid(table: dict[tuple[int, int], tuple[int, int, int, int]]) -> bytes:
    """The table as the glue's records: leaf, subleaf, eax, ebx, ecx, edx."""
    return b"".join(struct.pack("<6I", leaf, sub, *regs) for (leaf, sub), regs in table.items())


def hwcap(table: dict[tuple[int, int], tuple[int, int, int, int]]) -> int:
    """AT_HWCAP on x86-64: CPUID leaf 1 edx (ELF_HWCAP)."""
    return table[(0x1, ANY)][3]
