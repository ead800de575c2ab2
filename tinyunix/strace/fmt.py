"""strace's ways of printing values: quoted strings cut at 32 bytes,
flag sets and enums by name, pointers, signals, signal sets, siginfo,
errors."""
from __future__ import annotations

import os

from kernel.uapi import ERRNO_NAMES

MAX_STRLEN = 32          # strace -s default
_ESC = {0x22: '\\"', 0x5C: "\\\\", 0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v", 0x0C: "\\f",
        0x0D: "\\r"}
_RESTART_MSG = {512: "To be restarted if SA_RESTART is set", 513: "To be restarted",
                514: "To be restarted if no handler", 516: "Interrupted by signal"}


def quote(b: bytes, force_hex: bool = False) -> str:
    """b as a C string literal, strace's way: printable ASCII as is, the
    usual escapes, other bytes in the shortest octal that cannot run into
    a following digit (or all bytes as \\xNN when force_hex)."""
    if force_hex:
        return '"' + "".join(f"\\x{c:02x}" for c in b) + '"'
    out = []
    n = len(b)
    for i, c in enumerate(b):
        e = _ESC.get(c)
        if e is not None:
            out.append(e)
        elif 0x20 <= c <= 0x7E:
            out.append(chr(c))
        elif i + 1 < n and 0x30 <= b[i + 1] <= 0x39:
            out.append(f"\\{c:03o}")
        else:
            out.append(f"\\{c:o}")
    return '"' + "".join(out) + '"'


def quote_cut(b: bytes, more: bool = False, limit: int = MAX_STRLEN,
              force_hex: bool = False) -> str:
    """A buffer cut at `limit` bytes, with `...` after the quote when cut
    (or when `more`: a C string whose end was not reached)."""
    if len(b) > limit:
        return quote(b[:limit], force_hex) + "..."
    return quote(b, force_hex) + ("..." if more else "")


def ptr(v: int) -> str:
    return "NULL" if v == 0 else f"{v:#x}"


def flags(v: int, tbl: list[tuple[int, str]], empty: str = "0", unknown: str = "") -> str:
    """v as NAME|NAME|0x..: each name whose bits are all set, in table
    order, then the bits left over in hex; with no name at all, the hex
    and `/* unknown */` (e.g. W???), as strace's printflags."""
    names = []
    for val, name in tbl:
        if val and v & val == val:
            names.append(name)
            v &= ~val
    if v:
        if not names and unknown:
            return f"{v:#x} /* {unknown} */"
        names.append(f"{v:#x}")
    return "|".join(names) if names else empty


def xlat(v: int, tbl: dict[int, str], unknown: str = "{:#x}") -> str:
    name = tbl.get(v)
    return name if name is not None else unknown.format(v)


def signame(sig: int) -> str:
    from kernel.uapi import SIGNAL_NAMES
    if sig == 32:
        return "SIGRTMIN"
    if 32 < sig <= 64:
        return f"SIGRT_{sig - 32}"
    return SIGNAL_NAMES.get(sig, str(sig))


def sigset(mask: int, nsig: int = 64) -> str:
    """A signal set: [USR1 TERM], or ~[...] listing the signals not in it
    when more than half are."""
    sigs = [s for s in range(1, nsig + 1) if mask >> (s - 1) & 1]
    if len(sigs) > nsig // 2:
        rest = [s for s in range(1, nsig + 1) if not mask >> (s - 1) & 1]
        return "~[" + " ".join(signame(s)[3:] for s in rest) + "]"
    return "[" + " ".join(signame(s)[3:] for s in sigs) + "]"


# si_code names: the generic ones, then per signal.
_SI_CODES = {0: "SI_USER", 0x80: "SI_KERNEL", -1: "SI_QUEUE", -2: "SI_TIMER", -3: "SI_MESGQ",
             -4: "SI_ASYNCIO", -5: "SI_SIGIO", -6: "SI_TKILL", -7: "SI_DETHREAD",
             -60: "SI_ASYNCNL"}
_SIG_CODES = {
    "SIGCHLD": ("CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED",
                "CLD_CONTINUED"),
    "SIGSEGV": ("SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR"),
    "SIGBUS": ("BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR"),
    "SIGFPE": ("FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND",
               "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB"),
    "SIGILL": ("ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC",
               "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK"),
    "SIGTRAP": ("TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT"),
    "SIGPOLL": ("POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP"),
}


def si_code(signo: int, code: int) -> str:
    codes = _SIG_CODES.get(signame(signo), ())
    if 0 < code <= len(codes):
        return codes[code - 1]
    return _SI_CODES.get(code, str(code))


def siginfo(f: dict) -> str:
    """A siginfo's fields (kernel_siginfo.fields()) as strace prints them."""
    code = f["code"]
    parts = [f"si_signo={signame(f['signo'])}", f"si_code={si_code(f['signo'], code)}"]
    if f.get("errno"):
        parts.append(f"si_errno={f['errno']}")
    if code == 0x80 and f["signo"] in (4, 7, 8, 11) and "addr" not in f:
        # SI_KERNEL: strace reads a fault signal's union as si_addr
        # (the kernel filled in pid and uid, both zero here).
        addr = (f.get("pid", 0) & 0xFFFFFFFF) | (f.get("uid", 0) << 32)
        return "{" + ", ".join(parts + [f"si_addr={ptr(addr)}"]) + "}"
    for k in ("pid", "uid", "status", "utime", "stime", "tid", "overrun"):
        if k in f:
            v = f[k]
            parts.append(f"si_{k}={signame(v) if k == 'status' and code != 1 else v}")
    if "value" in f and code != -6:                 # SI_TKILL shows no value
        parts.append(f"si_int={f['value'] & 0xFFFFFFFF}")
        parts.append(f"si_ptr={ptr(f['value'])}")
    if "addr" in f:
        parts.append(f"si_addr={ptr(f['addr'])}")
    if "band" in f:
        parts.append(f"si_band={f['band']}, si_fd={f['fd']}")
    return "{" + ", ".join(parts) + "}"


def error(errno: int) -> str:
    """`-1 ENOENT (No such file or directory)`, or `? ERESTARTSYS (...)`."""
    name = ERRNO_NAMES.get(errno) or _host_errno_name(errno)
    if errno in _RESTART_MSG:
        return f"? {name} ({_RESTART_MSG[errno]})"
    return f"-1 {name} ({os.strerror(errno)})"


def _host_errno_name(errno: int) -> str:
    import errno as host_errno   # names only, for numbers kernel/uapi does not list
    return host_errno.errorcode.get(errno, f"E?{errno}")


def signed(v: int, bits: int = 64) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v
