"""The memory character devices (drivers/char/mem.c, drivers/char/random.c)
and /dev/tty (drivers/tty/tty_io.c): /dev/null, /dev/zero, /dev/full,
/dev/random, /dev/urandom are served by the kernel, never read or copied
from the host (a host device may be endless, or a window on the host).
/dev/tty is ENXIO: the guest has no controlling terminal.  Other host
device files cannot be opened (ENXIO) -- no driver is modelled."""
from __future__ import annotations

import os
from typing import Optional

from .. import state
from ..panic import Errno
from ..uapi import ENOSPC, ENXIO, S_IFCHR
from .file import FileOps, file

MEM_MAJOR, TTYAUX_MAJOR = 1, 5


def _dev(major: int, minor: int) -> int:
    return os.makedev(major, minor)


class DevNullOps(FileOps):
    discards_writes = True
    minor = 3

    def read(self, f: file, n: int) -> bytes:
        return b""

    def pread(self, f: file, n: int, pos: int) -> bytes:
        return self.read(f, n)

    def write(self, f: file, data: bytes) -> int:
        return len(data)

    def stat(self, f: file) -> dict:
        return {"mode": S_IFCHR | 0o666, "rdev": _dev(MEM_MAJOR, self.minor),
                "ino": self.minor + 1, "dev": 5}

    def lseek(self, f: file, off: int, whence: int) -> int:
        f.f_pos = 0
        return 0


class DevZeroOps(DevNullOps):
    minor = 5

    def read(self, f: file, n: int) -> bytes:
        return bytes(min(n, 1 << 20))


class DevFullOps(DevZeroOps):
    """Reads give zeros, every write fails with ENOSPC."""
    discards_writes = False
    minor = 7

    def write(self, f: file, data: bytes) -> int:
        raise Errno(ENOSPC)


class DevRandomOps(DevNullOps):
    """Bytes from the machine's seeded generator, so runs repeat."""
    minor = 9

    def read(self, f: file, n: int) -> bytes:
        return state.K.rng.randbytes(min(n, 1 << 20))


class DevRandomBlockingOps(DevRandomOps):
    minor = 8


_BY_MINOR: dict[int, type[FileOps]] = {
    3: DevNullOps, 5: DevZeroOps, 7: DevFullOps, 8: DevRandomBlockingOps, 9: DevRandomOps,
}
_BY_PATH = {"/dev/null": 3, "/dev/zero": 5, "/dev/full": 7, "/dev/random": 8,
            "/dev/urandom": 9}


def chrdev_open(rdev: int, flags: int, g: str) -> file:
    """open of a character device node: a memory device, else ENXIO."""
    if os.major(rdev) == MEM_MAJOR and os.minor(rdev) in _BY_MINOR:
        return file(_BY_MINOR[os.minor(rdev)](), flags, None, path=g)
    raise Errno(ENXIO)


def devpath_open(g: str, flags: int) -> Optional[file]:
    """The memory devices by name, whatever the root holds at that path
    (a root without /dev still has them); None for any other path."""
    minor = _BY_PATH.get(g)
    if minor is None:
        if g == "/dev/tty":
            raise Errno(ENXIO)
        return None
    return file(_BY_MINOR[minor](), flags, None, path=g)
