"""Errors: Errno travels from anywhere in the kernel to the syscall entry,
which alone turns it into -errno.  BUG() reports a broken kernel
invariant; it is never used for anything a guest can cause."""
from __future__ import annotations

from .uapi import ERRNO_NAMES


class Errno(Exception):
    """A syscall fails with this errno (a Linux value from kernel.uapi)."""

    __slots__ = ("errno",)

    def __init__(self, errno: int) -> None:
        super().__init__(errno)
        self.errno = errno

    def __str__(self) -> str:
        return ERRNO_NAMES.get(self.errno, str(self.errno))


class KernelBug(Exception):
    """A kernel invariant is broken: the run stops with a report."""


def BUG(msg: str) -> "KernelBug":
    """raise BUG("do_wp_page: ...") -- name the function in the message."""
    return KernelBug(msg)


class OutOfMemory(Exception):
    """No free frame: the caller turns it into ENOMEM or an OOM kill.
    `injected` when --fail-alloc made it (memory is not really short, so
    nobody is OOM-killed for it)."""

    def __init__(self, msg: str = "no free frame", injected: bool = False) -> None:
        super().__init__(msg)
        self.injected = injected
