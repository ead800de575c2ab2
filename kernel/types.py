"""Type hints the syscall dispatcher decodes arguments by (sign, width),
and the address NewTypes.  A handler never re-signs an argument."""
from __future__ import annotations

from typing import NewType

from emu.paging import Pfn, PhysAddr, VirtAddr

UPtr = NewType("UPtr", int)      # a user pointer; never dereferenced directly
c_int = NewType("c_int", int)    # 32-bit signed
c_uint = NewType("c_uint", int)  # 32-bit unsigned
c_long = NewType("c_long", int)  # 64-bit signed
c_ulong = NewType("c_ulong", int)
size_t = NewType("size_t", int)
off_t = NewType("off_t", int)    # 64-bit signed
pid_t = NewType("pid_t", int)    # 32-bit signed
fd_t = NewType("fd_t", int)      # 32-bit signed (an fd)
Pid = NewType("Pid", int)

# How the dispatcher decodes each hint from a 64-bit register.
SIGNED32 = {"c_int", "pid_t", "fd_t"}
UNSIGNED32 = {"c_uint"}
SIGNED64 = {"c_long", "off_t"}
UNSIGNED64 = {"UPtr", "c_ulong", "size_t"}

__all__ = ["UPtr", "c_int", "c_uint", "c_long", "c_ulong", "size_t", "off_t", "pid_t",
           "fd_t", "Pid", "Pfn", "PhysAddr", "VirtAddr"]
