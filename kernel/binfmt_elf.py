"""Loading x86-64 ELF executables (load_elf_binary): PT_LOAD segments
mapped from the page cache, .bss zeroed, the initial stack laid out per
the SysV ABI (argc, argv, envp, auxv).  A program with PT_INTERP gets its
interpreter (ld.so, itself a static ET_DYN object) mapped beside it at its
own base, below mmap_base as a file mmap would land; the kernel then
enters the interpreter, which finds the program through AT_PHDR/AT_ENTRY.
No vDSO is mapped (no AT_SYSINFO_EHDR): glibc makes real time syscalls.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from emu.cpuid import cpuid_table, hwcap

from .fs.inode import Inode
from .mm.memory import VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE
from .mm.mmap import MMAP_MIN_ADDR, STACK_TOP, TASK_SIZE, mm_struct, page_align
from .mm.uaccess import clear_user, copy_to_user
from .uapi import (
    AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP, AT_HWCAP2,
    AT_MINSIGSTKSZ, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PLATFORM, AT_RANDOM,
    AT_SECURE, AT_UID, AT_BASE,
)

ELF_ET_DYN_BASE = 0x5555_5555_4000   # where a static-pie lands without randomisation
PT_LOAD, PT_INTERP, PT_PHDR, PT_GNU_STACK = 1, 3, 6, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
GUEST_HWCAP = hwcap(cpuid_table())   # CPUID.1:EDX of the CPU the guest sees


class ExecFormatError(Exception):
    """Not a program we can run; the message says why (ENOEXEC)."""


@dataclass
class Segment:
    vaddr: int
    offset: int
    filesz: int
    memsz: int
    flags: int


@dataclass
class ElfImage:
    entry: int
    phoff: int
    phnum: int
    phentsize: int
    segments: list
    is_pie: bool
    phdr_vaddr: int | None
    interp: str | None = None   # PT_INTERP's path, as written in the file

    def span(self) -> int:
        """Bytes from the first segment's page to the end of the last
        (total_mapping_size)."""
        lo = self.segments[0].vaddr & ~0xFFF
        return page_align(max(s.vaddr + s.memsz for s in self.segments)) - lo


_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")   # Elf64_Ehdr
_PHDR = struct.Struct("<IIQQQQQQ")            # Elf64_Phdr
ET_EXEC, ET_DYN, EM_X86_64 = 2, 3, 62
MAX_PHDRS_SIZE = 65536                        # load_elf_phdrs' limit
PATH_MAX = 4096


def parse_elf(data: bytes) -> ElfImage:
    """Check and read the ELF header and program headers, as
    load_elf_binary does (section headers are never looked at).  Raises
    ExecFormatError with a one-line reason for anything that is not a
    loadable x86-64 program."""
    if len(data) < 4 or data[:4] != b"\x7fELF":
        raise ExecFormatError("not an ELF file")
    if len(data) < _EHDR.size:
        raise ExecFormatError("truncated ELF header")
    if data[4] != 2:
        raise ExecFormatError("32-bit ELF: only x86-64 programs run here")
    if data[5] != 1:
        raise ExecFormatError("big-endian ELF: only x86-64 programs run here")
    (_ident, e_type, e_machine, _version, e_entry, e_phoff, _shoff, _flags, _ehsize,
     e_phentsize, e_phnum, _shentsize, _shnum, _shstrndx) = _EHDR.unpack_from(data)
    if e_machine != EM_X86_64:
        raise ExecFormatError(f"ELF for machine {e_machine}: only x86-64 programs run here")
    if e_type not in (ET_EXEC, ET_DYN):
        raise ExecFormatError(f"ELF type {e_type} is not an executable")
    if e_phentsize != _PHDR.size or e_phnum == 0 or e_phnum * _PHDR.size > MAX_PHDRS_SIZE:
        raise ExecFormatError("bad program header table")
    if e_phoff + e_phnum * _PHDR.size > len(data):
        raise ExecFormatError("truncated ELF: program headers past end of file")
    segs = []
    interp: str | None = None
    phdr_vaddr = None
    for i in range(e_phnum):
        p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, _align = \
            _PHDR.unpack_from(data, e_phoff + i * _PHDR.size)
        if p_type == PT_INTERP:
            # The path must be NUL-terminated inside the file (ENOEXEC).
            if interp is not None:
                raise ExecFormatError("more than one PT_INTERP")
            if p_filesz < 2 or p_filesz > PATH_MAX or p_offset + p_filesz > len(data) \
                    or data[p_offset + p_filesz - 1] != 0:
                raise ExecFormatError("bad PT_INTERP")
            interp = data[p_offset:p_offset + p_filesz - 1].split(b"\0")[0].decode(
                "utf-8", "surrogateescape")
        elif p_type == PT_PHDR:
            phdr_vaddr = p_vaddr
        elif p_type == PT_LOAD:
            s = Segment(p_vaddr, p_offset, p_filesz, p_memsz, p_flags)
            if s.filesz > s.memsz:
                raise ExecFormatError("PT_LOAD with p_filesz > p_memsz")
            if s.offset + s.filesz > len(data):
                raise ExecFormatError("truncated ELF: segment past end of file")
            if (s.vaddr - s.offset) & 0xFFF:
                raise ExecFormatError("PT_LOAD not congruent with its file offset")
            if s.vaddr + s.memsz > TASK_SIZE:
                raise ExecFormatError("PT_LOAD outside user space")
            segs.append(s)
    if not segs:
        raise ExecFormatError("no loadable segment")
    segs.sort(key=lambda s: s.vaddr)
    for a, b in zip(segs, segs[1:]):
        if a.vaddr + a.memsz > b.vaddr:
            raise ExecFormatError("overlapping PT_LOAD segments")
    is_pie = e_type == ET_DYN
    lo = segs[0].vaddr & ~0xFFF
    hi = max(s.vaddr + s.memsz for s in segs)
    if is_pie and ELF_ET_DYN_BASE + (hi - lo) > TASK_SIZE:
        raise ExecFormatError("PT_LOAD outside user space")
    if not is_pie and lo < MMAP_MIN_ADDR:
        raise ExecFormatError("PT_LOAD below the lowest mappable address")
    if not any(s.vaddr <= e_entry < s.vaddr + s.memsz and s.flags & PF_X for s in segs):
        raise ExecFormatError("entry point outside any executable segment")
    return ElfImage(e_entry, e_phoff, e_phnum, _PHDR.size, segs, is_pie, phdr_vaddr, interp)


def program_bias(img: ElfImage) -> int:
    """Where the program goes: ET_EXEC at its own addresses, ET_DYN (PIE
    or static-pie) with its first page at ELF_ET_DYN_BASE, as Linux places
    it with randomisation off."""
    return ELF_ET_DYN_BASE - (img.segments[0].vaddr & ~0xFFF) if img.is_pie else 0


def interp_bias(mm: mm_struct, img: ElfImage) -> int:
    """Where the interpreter goes: the whole of it reserved at once below
    mmap_base (top-down, as load_elf_interp's first mmap does), so it
    never overlaps the program, the stack or the heap."""
    return mm.get_unmapped_area(img.span()) - (img.segments[0].vaddr & ~0xFFF)


def load_segments(mm: mm_struct, ino: Inode, img: ElfImage, bias: int,
                  main: bool = True) -> None:
    """Map each PT_LOAD at `bias`.  Writable segments map the file
    privately (copy-on-write); the tail of the last file page and the rest
    of .bss are zero.  For the main program (not the interpreter) the code
    range and the break follow its segments."""
    end_bss = 0
    for s in img.segments:
        vf = (VM_READ if s.flags & PF_R else 0) | (VM_WRITE if s.flags & PF_W else 0) | (
            VM_EXEC if s.flags & PF_X else 0)
        start = (s.vaddr + bias) & ~0xFFF
        file_end = s.vaddr + bias + s.filesz
        mem_end = s.vaddr + bias + s.memsz
        map_end = page_align(file_end) if s.filesz else start
        if map_end > start:
            mm.do_mmap(start, map_end - start, vf, True, file=ino, pgoff=(s.offset >> 12))
        if mem_end > map_end:
            mm.do_mmap(map_end, page_align(mem_end) - map_end, vf, True)
        if s.memsz > s.filesz and file_end & 0xFFF and s.filesz:
            # padzero: the rest of the last file page is zero, all of it,
            # not just up to p_memsz (ld.so's early malloc uses that room
            # past its _end and expects zeros there).
            clear_user(file_end, page_align(file_end) - file_end, mm)
        if main and s.flags & PF_X and not mm.start_code:
            mm.start_code, mm.end_code = s.vaddr + bias, file_end
        end_bss = max(end_bss, mem_end)
    if main:
        mm.start_brk = mm.brk = page_align(end_bss)


def create_elf_tables(mm: mm_struct, img: ElfImage, bias: int, interp_base: int,
                      argv: list[bytes], envp: list[bytes], execfn: bytes, random16: bytes,
                      ids: tuple[int, int, int, int, bool], stack_size: int) -> int:
    """Build the initial stack, a mapping of `stack_size` bytes below
    STACK_TOP (demand-paged, so its size costs nothing until touched);
    returns the initial rsp.  `interp_base` is AT_BASE: where the
    interpreter's first page was mapped, 0 without one."""
    mm.do_mmap(STACK_TOP - stack_size, stack_size, VM_READ | VM_WRITE | VM_GROWSDOWN, True,
               name="[stack]")
    mm.start_stack = STACK_TOP
    sp = STACK_TOP - 8
    blob = bytearray()

    def push_str(s: bytes) -> int:
        nonlocal sp
        data = s + b"\0"
        sp -= len(data)
        copy_to_user(sp, data, mm)
        return sp

    execfn_p = push_str(execfn)
    env_ps = [push_str(e) for e in reversed(envp)][::-1]
    arg_ps = [push_str(a) for a in reversed(argv)][::-1]
    mm.arg_start = arg_ps[0] if arg_ps else sp
    mm.arg_end = (arg_ps[-1] + len(argv[-1]) + 1) if arg_ps else sp
    mm.env_start = env_ps[0] if env_ps else mm.arg_end
    mm.env_end = (env_ps[-1] + len(envp[-1]) + 1) if env_ps else mm.arg_end
    platform_p = push_str(b"x86_64")
    sp -= 16
    sp &= ~15
    random_p = sp
    copy_to_user(random_p, random16, mm)
    if img.phdr_vaddr is not None:
        phdr = img.phdr_vaddr + bias
    else:
        first = img.segments[0]
        phdr = first.vaddr - first.offset + img.phoff + bias
    uid, euid, gid, egid, secure = ids
    auxv = [
        (AT_HWCAP, GUEST_HWCAP), (AT_PAGESZ, 4096), (AT_CLKTCK, 100), (AT_PHDR, phdr),
        (AT_PHENT, 56), (AT_PHNUM, img.phnum), (AT_BASE, interp_base), (AT_FLAGS, 0),
        (AT_ENTRY, img.entry + bias), (AT_UID, uid), (AT_EUID, euid), (AT_GID, gid),
        (AT_EGID, egid), (AT_SECURE, int(secure)), (AT_RANDOM, random_p), (AT_HWCAP2, 0),
        (AT_EXECFN, execfn_p), (AT_PLATFORM, platform_p), (AT_MINSIGSTKSZ, 2048),
        (AT_NULL, 0),
    ]
    words = [len(argv)] + arg_ps + [0] + env_ps + [0]
    for k, v in auxv:
        words += [k, v]
    sp -= 8 * len(words)
    sp &= ~15
    blob += struct.pack(f"<{len(words)}Q", *words)
    copy_to_user(sp, bytes(blob), mm)
    return sp
