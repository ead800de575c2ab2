"""Files backed by the host's open fds: the guest's stdin, stdout and
stderr.  fstat shows the host file's real type (a pipe stays a pipe, so
stdio buffers as it would natively)."""
from __future__ import annotations

import fcntl as host_fcntl
import os

from ..panic import Errno
from ..uapi import ENOTTY
from .file import FileOps, file
from .hosterr import host_errno

TCGETS, TIOCGWINSZ, TIOCGPGRP = 0x5401, 0x5413, 0x540F


class HostFdOps(FileOps):
    def read(self, f: file, n: int) -> bytes:
        try:
            return os.read(f.private, min(n, 1 << 20))
        except OSError as e:
            raise host_errno(e) from None

    def write(self, f: file, data: bytes) -> int:
        try:
            return os.write(f.private, data)
        except BrokenPipeError:
            from ..percpu import current
            from ..signal import send_signal
            from ..uapi import EPIPE, SIGPIPE
            send_signal(SIGPIPE, current(), {"signo": SIGPIPE, "code": 0}, False)
            raise Errno(EPIPE) from None
        except OSError as e:
            raise host_errno(e) from None

    def stat(self, f: file) -> dict:
        try:
            st = os.fstat(f.private)
        except OSError as e:
            raise host_errno(e) from None
        return stat_from_host(st)

    def lseek(self, f: file, off: int, whence: int) -> int:
        try:
            return os.lseek(f.private, off, whence)
        except OSError as e:
            raise host_errno(e) from None

    def ioctl(self, f: file, cmd: int, arg: int) -> int:
        from ..mm.uaccess import copy_to_user
        sizes = {TCGETS: 36, TIOCGWINSZ: 8, TIOCGPGRP: 4}
        if cmd not in sizes or not os.isatty(f.private):
            raise Errno(ENOTTY)
        try:
            out = host_fcntl.ioctl(f.private, cmd, bytes(sizes[cmd]))
        except OSError as e:
            raise host_errno(e) from None
        copy_to_user(arg, out)
        return 0


class HostReopenOps(HostFdOps):
    """A host fd of our own, opened anew from the guest's console through
    /proc/<pid>/fd/N: closed with the last reference."""

    def release(self, f: file) -> None:
        os.close(f.private)


def stat_from_host(st: os.stat_result) -> dict:
    return {"dev": st.st_dev, "ino": st.st_ino, "nlink": st.st_nlink, "mode": st.st_mode,
            "uid": st.st_uid, "gid": st.st_gid, "rdev": st.st_rdev, "size": st.st_size,
            "blksize": st.st_blksize, "blocks": st.st_blocks,
            "atime": st.st_atime_ns, "mtime": st.st_mtime_ns, "ctime": st.st_ctime_ns}


def console_file(host_fd: int, flags: int) -> file:
    return file(HostFdOps(), flags, host_fd, path=f"host fd {host_fd}")
