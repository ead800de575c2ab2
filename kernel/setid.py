"""The uid and gid calls of kernel/sys.c: get*id, set*id, setfs*id.

Each change builds a new cred from the current one and installs it on the
calling thread alone (glibc runs the set*id calls on every thread of the
process itself, through SIGSETXID).  Without CAP_SETUID (CAP_SETGID) a
task may only move among the ids it already holds; the uid calls then
let commoncap's rules change the capability sets (cap_emulate_setxuid).
"""
from __future__ import annotations

import dataclasses
import struct

from .cred import (CAP_SETGID, CAP_SETUID, INVALID_ID, cap_emulate_setxuid,
                   cap_fix_setfsuid, capable, commit_creds, current_cred)
from .mm.uaccess import copy_to_user
from .panic import Errno
from .syscalls import syscall
from .types import UPtr, c_uint
from .uapi import EINVAL, EPERM


@syscall("getuid")
def sys_getuid() -> int:
    return current_cred().uid


@syscall("geteuid")
def sys_geteuid() -> int:
    return current_cred().euid


@syscall("getgid")
def sys_getgid() -> int:
    return current_cred().gid


@syscall("getegid")
def sys_getegid() -> int:
    return current_cred().egid


def _held(old_ids: tuple[int, ...], *asked: int) -> None:
    """Without the capability, every id asked for must be one held."""
    for i in asked:
        if i != INVALID_ID and i not in old_ids:
            raise Errno(EPERM)


@syscall("setuid")
def sys_setuid(uid: c_uint) -> int:
    old = current_cred()
    if uid == INVALID_ID:
        raise Errno(EINVAL)
    if capable(CAP_SETUID):
        new = dataclasses.replace(old, uid=uid, suid=uid, euid=uid, fsuid=uid)
    elif uid in (old.uid, old.suid):
        new = dataclasses.replace(old, euid=uid, fsuid=uid)
    else:
        raise Errno(EPERM)
    commit_creds(cap_emulate_setxuid(new, old))
    return 0


@syscall("setgid")
def sys_setgid(gid: c_uint) -> int:
    old = current_cred()
    if gid == INVALID_ID:
        raise Errno(EINVAL)
    if capable(CAP_SETGID):
        new = dataclasses.replace(old, gid=gid, sgid=gid, egid=gid, fsgid=gid)
    elif gid in (old.gid, old.sgid):
        new = dataclasses.replace(old, egid=gid, fsgid=gid)
    else:
        raise Errno(EPERM)
    commit_creds(new)
    return 0


@syscall("setreuid")
def sys_setreuid(ruid: c_uint, euid: c_uint) -> int:
    old = current_cred()
    if not capable(CAP_SETUID):
        _held((old.uid, old.euid), ruid)
        _held((old.uid, old.euid, old.suid), euid)
    r = old.uid if ruid == INVALID_ID else ruid
    e = old.euid if euid == INVALID_ID else euid
    # The saved uid follows the new effective uid when the real uid is set
    # or the effective one moves away from the old real uid.
    s = e if ruid != INVALID_ID or (euid != INVALID_ID and euid != old.uid) else old.suid
    new = dataclasses.replace(old, uid=r, euid=e, suid=s, fsuid=e)
    commit_creds(cap_emulate_setxuid(new, old))
    return 0


@syscall("setregid")
def sys_setregid(rgid: c_uint, egid: c_uint) -> int:
    old = current_cred()
    if not capable(CAP_SETGID):
        _held((old.gid, old.egid), rgid)
        _held((old.gid, old.egid, old.sgid), egid)
    r = old.gid if rgid == INVALID_ID else rgid
    e = old.egid if egid == INVALID_ID else egid
    s = e if rgid != INVALID_ID or (egid != INVALID_ID and egid != old.gid) else old.sgid
    commit_creds(dataclasses.replace(old, gid=r, egid=e, sgid=s, fsgid=e))
    return 0


@syscall("setresuid")
def sys_setresuid(ruid: c_uint, euid: c_uint, suid: c_uint) -> int:
    old = current_cred()
    if not capable(CAP_SETUID):
        _held((old.uid, old.euid, old.suid), ruid, euid, suid)
    r, e, s = (o if v == INVALID_ID else v
               for v, o in ((ruid, old.uid), (euid, old.euid), (suid, old.suid)))
    new = dataclasses.replace(old, uid=r, euid=e, suid=s, fsuid=e)
    commit_creds(cap_emulate_setxuid(new, old))
    return 0


@syscall("setresgid")
def sys_setresgid(rgid: c_uint, egid: c_uint, sgid: c_uint) -> int:
    old = current_cred()
    if not capable(CAP_SETGID):
        _held((old.gid, old.egid, old.sgid), rgid, egid, sgid)
    r, e, s = (o if v == INVALID_ID else v
               for v, o in ((rgid, old.gid), (egid, old.egid), (sgid, old.sgid)))
    commit_creds(dataclasses.replace(old, gid=r, egid=e, sgid=s, fsgid=e))
    return 0


@syscall("setfsuid")
def sys_setfsuid(uid: c_uint) -> int:
    """Returns the old fsuid whether or not it changed (a refused change
    is silent, as in Linux)."""
    old = current_cred()
    if uid != INVALID_ID and uid != old.fsuid and (
            uid in (old.uid, old.euid, old.suid) or capable(CAP_SETUID)):
        commit_creds(cap_fix_setfsuid(dataclasses.replace(old, fsuid=uid), old))
    return old.fsuid


@syscall("setfsgid")
def sys_setfsgid(gid: c_uint) -> int:
    old = current_cred()
    if gid != INVALID_ID and gid != old.fsgid and (
            gid in (old.gid, old.egid, old.sgid) or capable(CAP_SETGID)):
        commit_creds(dataclasses.replace(old, fsgid=gid))
    return old.fsgid


@syscall("getresuid")
def sys_getresuid(ruid: UPtr, euid: UPtr, suid: UPtr) -> int:
    c = current_cred()
    for p, v in ((ruid, c.uid), (euid, c.euid), (suid, c.suid)):
        copy_to_user(p, struct.pack("<I", v))
    return 0


@syscall("getresgid")
def sys_getresgid(rgid: UPtr, egid: UPtr, sgid: UPtr) -> int:
    c = current_cred()
    for p, v in ((rgid, c.gid), (egid, c.egid), (sgid, c.sgid)):
        copy_to_user(p, struct.pack("<I", v))
    return 0
