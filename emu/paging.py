"""The x86-64 4-level page-table format, as the emulated MMU walks it."""
from __future__ import annotations

from typing import NewType

PhysAddr = NewType("PhysAddr", int)
VirtAddr = NewType("VirtAddr", int)
Pfn = NewType("Pfn", int)

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
PAGE_MASK = ~(PAGE_SIZE - 1)
PTRS_PER_TABLE = 512

# PTE bits (Intel SDM vol. 3, 4.5).
_PAGE_PRESENT = 1 << 0
_PAGE_RW = 1 << 1
_PAGE_USER = 1 << 2
_PAGE_PWT = 1 << 3
_PAGE_PCD = 1 << 4
_PAGE_ACCESSED = 1 << 5
_PAGE_DIRTY = 1 << 6
_PAGE_PSE = 1 << 7
_PAGE_GLOBAL = 1 << 8
# Bits 9-11 are free for software; Linux-like meanings here:
_PAGE_SOFT_COW = 1 << 9      # write-protected because shared copy-on-write
_PAGE_SOFT_SHARED = 1 << 10  # frame of a MAP_SHARED mapping
_PAGE_NX = 1 << 63
PTE_PFN_MASK = 0x000F_FFFF_FFFF_F000

# Page-fault error code bits.
PF_PROT = 1 << 0   # 0: not present, 1: protection violation
PF_WRITE = 1 << 1
PF_USER = 1 << 2
PF_RSVD = 1 << 3
PF_INSTR = 1 << 4

# Control-register and EFER bits used to enter long mode.
CR0_PE = 1 << 0
CR0_MP = 1 << 1
CR0_NE = 1 << 5
CR0_WP = 1 << 16
CR0_PG = 1 << 31
CR4_PAE = 1 << 5
CR4_OSFXSR = 1 << 9
CR4_OSXMMEXCPT = 1 << 10
EFER_SCE = 1 << 0
EFER_LME = 1 << 8
EFER_LMA = 1 << 10
EFER_NXE = 1 << 11
MSR_EFER = 0xC000_0080

USER_TOP = 1 << 47  # canonical lower half ends here


def pte_pfn(pte: int) -> int:
    return (pte & PTE_PFN_MASK) >> PAGE_SHIFT


def pml4_index(va: int) -> int:
    return (va >> 39) & 511


def pdpt_index(va: int) -> int:
    return (va >> 30) & 511


def pd_index(va: int) -> int:
    return (va >> 21) & 511


def pt_index(va: int) -> int:
    return (va >> 12) & 511


def canonical(va: int) -> bool:
    top = va >> 47
    return top == 0 or top == 0x1FFFF
