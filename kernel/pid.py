"""Pid allocation, as alloc_pid/free_pid: cyclic from the last pid given,
wrapping to RESERVED_PIDS at pid_max; a pid is reused only after release."""
from __future__ import annotations

from .panic import BUG, Errno
from .uapi import EAGAIN, EEXIST

RESERVED_PIDS = 300


class PidAllocator:
    def __init__(self, pid_max: int = 32768) -> None:
        self.pid_max = pid_max
        self.last = 0
        self.used: set[int] = set()

    def alloc_pid(self) -> int:
        """A free pid, or Errno(EAGAIN) when every pid is in use."""
        lo = RESERVED_PIDS if self.pid_max > RESERVED_PIDS + 1 else 1
        nr = self.last + 1
        for _ in range(self.pid_max):
            if nr >= self.pid_max:
                nr = lo if self.last >= lo else 1
            if nr not in self.used:
                self.used.add(nr)
                self.last = nr
                return nr
            nr += 1
        raise Errno(EAGAIN)

    def alloc_pid_nr(self, nr: int) -> int:
        """Take pid `nr` (clone3's set_tid), or Errno(EEXIST) if it is in
        use; the cyclic cursor does not move."""
        if nr in self.used:
            raise Errno(EEXIST)
        self.used.add(nr)
        return nr

    def free_pid(self, nr: int) -> None:
        if nr not in self.used:
            raise BUG(f"free_pid: pid {nr} is not in use")
        self.used.discard(nr)
