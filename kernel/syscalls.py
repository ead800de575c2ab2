"""The syscall table and the one place arguments are decoded.

    @syscall("wait4")
    def sys_wait4(upid: pid_t, stat_addr: UPtr, options: c_int, ru: UPtr) -> int: ...

The decorator reads the hints and generates, per entry, a small function
that reads the argument registers the handler takes (from the CPU's
register view, in one unpack) and calls the handler with each argument
sign-extended or truncated as its hint says.  Handlers validate
and hand over to a do_* worker; they raise Errno, and only the entry
(kernel/entry.py) turns it into -errno.  Each entry records its status the
way gVisor's table does: supported, partial (with a note), or ENOSYS.
"""
from __future__ import annotations

import inspect
import struct
from dataclasses import dataclass
from typing import Callable, Optional

from .syscall_table import NR_syscalls, SYSCALL_NAMES, SYSCALL_NR
from .uapi import ENOSYS
from .types import SIGNED32, SIGNED64, UNSIGNED32, UNSIGNED64


@dataclass(eq=False, slots=True)
class SyscallEntry:
    nr: int
    name: str
    handler: Callable[..., Optional[int]]
    call: Callable[[memoryview], Optional[int]]   # call(regs): decode, run the handler
    nargs: int
    hints: tuple
    note: str = ""        # partial support: what is missing


SYSCALL_TABLE: list[Optional[SyscallEntry]] = [None] * NR_syscalls


def sys_ni_syscall(regs: memoryview) -> int:
    return -ENOSYS


# What the entry calls, by number: each entry's call, or sys_ni_syscall
# (kept apart from SYSCALL_TABLE so the hot path is one list index).
SYSCALL_CALLS: list[Callable[[memoryview], Optional[int]]] = [sys_ni_syscall] * NR_syscalls

_DECODE = {}
for _n in SIGNED32:
    _DECODE[_n] = "((a{i} & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000"
for _n in UNSIGNED32:
    _DECODE[_n] = "(a{i} & 0xFFFFFFFF)"
for _n in SIGNED64:
    _DECODE[_n] = "(a{i} ^ 0x8000000000000000) - 0x8000000000000000"
for _n in UNSIGNED64:
    _DECODE[_n] = "a{i}"


def _hint_name(h: object) -> str:
    return getattr(h, "__name__", str(h))


def syscall(name: str, note: str = "") -> Callable[[Callable], Callable]:
    """Register the decorated function as syscall `name`."""
    def register(fn: Callable) -> Callable:
        nr = SYSCALL_NR[name]
        params = list(inspect.signature(fn, eval_str=True).parameters.values())
        hints = tuple(_hint_name(p.annotation) for p in params)
        if len(params) > 6:
            raise TypeError(f"{name}: more than six arguments")
        exprs = []
        for i, h in enumerate(hints):
            if h not in _DECODE:
                raise TypeError(f"sys_{name}: argument {params[i].name} has no decodable hint ({h})")
            exprs.append(_DECODE[h].format(i=i))
        # call(regs): regs is the CPU's register view (kernel/entry.py),
        # regs[0] = nr and regs[1..6] = the six argument registers; only
        # the registers the handler takes are read, in one unpack.
        if params:
            src = (f"def call(r):\n"
                   f"    _, {''.join(f'a{i}, ' for i in range(len(params)))}= u(r)\n"
                   f"    return h({', '.join(exprs)})\n")
        else:
            src = "def call(r):\n    return h()\n"
        ns: dict = {"h": fn, "u": struct.Struct(f"<{len(params) + 1}Q").unpack_from}
        exec(src, ns)
        if SYSCALL_TABLE[nr] is not None:
            raise TypeError(f"syscall {name} registered twice")
        SYSCALL_TABLE[nr] = SyscallEntry(nr, name, fn, ns["call"], len(params), hints, note)
        SYSCALL_CALLS[nr] = ns["call"]
        return fn
    return register


def syscall_name(nr: int) -> str:
    if 0 <= nr < NR_syscalls and SYSCALL_NAMES[nr]:
        return SYSCALL_NAMES[nr]  # type: ignore[return-value]
    return f"syscall_{nr}"


def decode_args(ent: SyscallEntry, raw: tuple) -> list[int]:
    """The handler's view of raw registers (for the tracer)."""
    out = []
    for i, h in enumerate(ent.hints):
        v = raw[i]
        if h in SIGNED32:
            v = ((v & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000
        elif h in UNSIGNED32:
            v &= 0xFFFFFFFF
        elif h in SIGNED64:
            v = (v ^ 0x8000000000000000) - 0x8000000000000000
        out.append(v)
    return out
