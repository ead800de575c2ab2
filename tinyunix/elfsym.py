"""Function and object symbols of a static ELF64 program (.symtab), for
breakpoints by name and addresses shown as name+offset."""
from __future__ import annotations

import bisect
import struct


def read_symbols(path: str) -> dict[str, int]:
    """name -> address of every defined FUNC/OBJECT symbol; {} when the
    file has no symbol table (stripped) or is not ELF64."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return {}
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return {}
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    out: dict[str, int] = {}
    for _name, typ, _fl, _addr, off, size, link, _info, _al, entsize in secs:
        if typ != 2 or not entsize:            # SHT_SYMTAB
            continue
        stroff = secs[link][4]
        for i in range(size // entsize):
            st_name, st_info, _other, shndx, value, _sz = struct.unpack_from(
                "<IBBHQQ", data, off + i * entsize)
            if not st_name or not shndx or st_info & 0xF not in (1, 2):
                continue
            end = data.index(b"\0", stroff + st_name)
            name = data[stroff + st_name:end].decode("latin-1")
            if st_info >> 4 == 1 or name not in out:   # a global wins over a local
                out[name] = value
    return out


def nearest(symbols: dict[str, int], addr: int) -> str:
    """`name+0x12` for the symbol at or below addr, else the hex address."""
    pairs = sorted((v, k) for k, v in symbols.items() if v)
    i = bisect.bisect_right(pairs, (addr, "\uffff")) - 1
    if i < 0 or addr - pairs[i][0] > 0x10000:
        return f"{addr:#x}"
    off = addr - pairs[i][0]
    return pairs[i][1] + (f"+{off:#x}" if off else "")
