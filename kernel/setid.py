"""The set*id calls of kernel/sys.c, for a guest whose ids are the host
process's and cannot change: setting an id to the value it has succeeds
(glibc's setuid family does that from every thread, through SIGSETXID),
any change is EPERM.  getresuid/getresgid report the ids."""
from __future__ import annotations

import os
import struct

from .mm.uaccess import copy_to_user
from .panic import Errno
from .syscalls import syscall
from .types import UPtr, c_uint
from .uapi import EPERM

_NOCHANGE = 0xFFFFFFFF          # (uid_t)-1: leave this id alone
_NOTE = "ids cannot change: only setting the current ones succeeds"


def _same(ids: tuple[int, ...], current: int) -> int:
    for i in ids:
        if i != _NOCHANGE and i != current:
            raise Errno(EPERM)
    return 0


@syscall("setuid", note=_NOTE)
def sys_setuid(uid: c_uint) -> int:
    return _same((uid,), os.getuid())


@syscall("setgid", note=_NOTE)
def sys_setgid(gid: c_uint) -> int:
    return _same((gid,), os.getgid())


@syscall("setreuid", note=_NOTE)
def sys_setreuid(ruid: c_uint, euid: c_uint) -> int:
    return _same((ruid, euid), os.getuid())


@syscall("setregid", note=_NOTE)
def sys_setregid(rgid: c_uint, egid: c_uint) -> int:
    return _same((rgid, egid), os.getgid())


@syscall("setresuid", note=_NOTE)
def sys_setresuid(ruid: c_uint, euid: c_uint, suid: c_uint) -> int:
    return _same((ruid, euid, suid), os.getuid())


@syscall("setresgid", note=_NOTE)
def sys_setresgid(rgid: c_uint, egid: c_uint, sgid: c_uint) -> int:
    return _same((rgid, egid, sgid), os.getgid())


@syscall("setfsuid", note=_NOTE)
def sys_setfsuid(uid: c_uint) -> int:
    return os.geteuid()          # the old fsuid, whether or not it changed


@syscall("setfsgid", note=_NOTE)
def sys_setfsgid(gid: c_uint) -> int:
    return os.getegid()


@syscall("getresuid")
def sys_getresuid(ruid: UPtr, euid: UPtr, suid: UPtr) -> int:
    for p, v in ((ruid, os.getuid()), (euid, os.geteuid()), (suid, os.geteuid())):
        copy_to_user(p, struct.pack("<I", v))
    return 0


@syscall("getresgid")
def sys_getresgid(rgid: UPtr, egid: UPtr, sgid: UPtr) -> int:
    for p, v in ((rgid, os.getgid()), (egid, os.getegid()), (sgid, os.getegid())):
        copy_to_user(p, struct.pack("<I", v))
    return 0
