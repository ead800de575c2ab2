"""A few lines of x86-64 assembly as a static ELF program (keystone), so a
test can put exactly the instructions it wants in front of the kernel:

    m = Machine.from_asm('''
        mov rax, 60      # exit(7)
        mov edi, 7
        syscall
    ''')

The program is one read-write-execute segment at 0x400000 holding the
code and, after it, `data` bytes (labelled `data:` for the code to use)."""
from __future__ import annotations

import struct

BASE = 0x400000
_HDR = 64 + 56          # ELF header + one program header


def assemble(source: str, data: bytes = b"") -> bytes:
    """The ELF image of `source` (Intel syntax; `#` comments)."""
    from keystone import KS_ARCH_X86, KS_MODE_64, Ks, KsError
    lines = [ln.split("#", 1)[0].strip() for ln in source.splitlines()]
    text = "; ".join(ln for ln in lines if ln)
    ks = Ks(KS_ARCH_X86, KS_MODE_64)
    entry = BASE + _HDR
    try:
        # Twice: the first pass learns the code's size, so `data` can be
        # placed (and named) right after it.
        code, _ = ks.asm(f"{text}; data:", entry)
        code, _ = ks.asm(f"{text}; data:", entry)
    except KsError as e:
        raise ValueError(f"assembly: {e}") from None
    body = bytes(code or b"") + data
    size = _HDR + len(body)
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, 2, 0x3E, 1,
                       entry, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 7, 0, BASE, BASE, size, size, 0x1000)
    return ehdr + phdr + body
