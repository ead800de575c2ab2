"""Capabilities (kernel/capability.c, security/commoncap.c): capget,
capset and the prctl options that read or change the capability sets,
keepcaps and no_new_privs."""
from __future__ import annotations

import dataclasses
import struct
from typing import Optional

from .pid_namespace import find_task_by_vpid, task_tgid_vnr
from . import state
from .cred import (CAP_FULL_SET, CAP_LAST_CAP, CAP_SETPCAP, SECBIT_KEEP_CAPS, capable,
                   commit_creds, current_cred)
from .mm.uaccess import copy_from_user, copy_to_user
from .panic import Errno
from .percpu import current
from .syscalls import syscall
from .types import UPtr
from .uapi import EINVAL, EPERM, ESRCH

# struct __user_cap_header_struct versions, and how many 32-bit words of
# each set they carry.
_LINUX_CAPABILITY_VERSION_1 = 0x19980330
_LINUX_CAPABILITY_VERSION_2 = 0x20071026
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_WORDS = {_LINUX_CAPABILITY_VERSION_1: 1, _LINUX_CAPABILITY_VERSION_2: 2,
          _LINUX_CAPABILITY_VERSION_3: 2}

# prctl options (include/uapi/linux/prctl.h)
PR_GET_KEEPCAPS, PR_SET_KEEPCAPS = 7, 8
PR_CAPBSET_READ, PR_CAPBSET_DROP = 23, 24
PR_GET_SECUREBITS, PR_SET_SECUREBITS = 27, 28
PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS = 38, 39
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_LOWER = 1, 2, 3
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECBIT_KEEP_CAPS_LOCKED = 1 << 5


def cap_validate_magic(header: int) -> int:
    """The number of words per set the header's version asks for.  An
    unknown version is EINVAL, with the version the kernel speaks written
    back so the caller can retry."""
    version, = struct.unpack("<I", copy_from_user(header, 4))
    words = _WORDS.get(version)
    if words is None:
        copy_to_user(header, struct.pack("<I", _LINUX_CAPABILITY_VERSION_3))
        raise Errno(EINVAL)
    return words


@syscall("capget")
def sys_capget(header: UPtr, dataptr: UPtr) -> int:
    try:
        words = cap_validate_magic(header)
    except Errno as e:
        if not dataptr and e.errno == EINVAL:
            return 0            # a probe for the version: not an error
        raise
    if not dataptr:
        return 0
    pid, = struct.unpack("<i", copy_from_user(header + 4, 4))
    if pid < 0:
        raise Errno(EINVAL)
    c = current_cred()
    if pid and pid != task_tgid_vnr(current()):
        t = find_task_by_vpid(pid)
        if t is None or t.mm is None:
            raise Errno(ESRCH)
        c = t.cred
    out = b""
    for w in range(words):
        out += struct.pack("<III", (c.cap_effective >> 32 * w) & 0xFFFFFFFF,
                           (c.cap_permitted >> 32 * w) & 0xFFFFFFFF,
                           (c.cap_inheritable >> 32 * w) & 0xFFFFFFFF)
    copy_to_user(dataptr, out)
    return 0


@syscall("capset")
def sys_capset(header: UPtr, data: UPtr) -> int:
    """Only one's own sets change, and only within what is held: the
    permitted set may only shrink, the effective set stays within the
    new permitted one, and the inheritable set within the old permitted
    set (the bounding set, with CAP_SETPCAP) and the old inheritable set."""
    words = cap_validate_magic(header)
    pid, = struct.unpack("<i", copy_from_user(header + 4, 4))
    if pid and pid != task_tgid_vnr(current()):
        raise Errno(EPERM)
    raw = copy_from_user(data, 12 * words)
    eff = perm = inh = 0
    for w in range(words):
        e, p, i = struct.unpack_from("<III", raw, 12 * w)
        eff |= e << 32 * w
        perm |= p << 32 * w
        inh |= i << 32 * w
    eff, perm, inh = eff & CAP_FULL_SET, perm & CAP_FULL_SET, inh & CAP_FULL_SET
    old = current_cred()
    if not capable(CAP_SETPCAP) and inh & ~(old.cap_inheritable | old.cap_permitted):
        raise Errno(EPERM)
    if inh & ~(old.cap_inheritable | old.cap_bset):
        raise Errno(EPERM)
    if perm & ~old.cap_permitted or eff & ~perm:
        raise Errno(EPERM)
    commit_creds(dataclasses.replace(old, cap_effective=eff, cap_permitted=perm,
                                     cap_inheritable=inh,
                                     cap_ambient=old.cap_ambient & perm & inh))
    return 0


def cap_valid(cap: int) -> bool:
    return 0 <= cap <= CAP_LAST_CAP


def cap_task_prctl(option: int, arg2: int, arg3: int, arg4: int, arg5: int) -> Optional[int]:
    """The capability options of prctl; None for any other option."""
    c = current_cred()
    if option == PR_CAPBSET_READ:
        if not cap_valid(arg2):
            raise Errno(EINVAL)
        return c.cap_bset >> arg2 & 1
    if option == PR_CAPBSET_DROP:
        if not capable(CAP_SETPCAP):
            raise Errno(EPERM)
        if not cap_valid(arg2):
            raise Errno(EINVAL)
        commit_creds(dataclasses.replace(c, cap_bset=c.cap_bset & ~(1 << arg2)))
        return 0
    if option == PR_GET_KEEPCAPS:
        return int(bool(c.securebits & SECBIT_KEEP_CAPS))
    if option == PR_SET_KEEPCAPS:
        if arg2 > 1:
            raise Errno(EINVAL)
        if c.securebits & SECBIT_KEEP_CAPS_LOCKED:
            raise Errno(EPERM)
        bits = c.securebits | SECBIT_KEEP_CAPS if arg2 else c.securebits & ~SECBIT_KEEP_CAPS
        commit_creds(dataclasses.replace(c, securebits=bits))
        return 0
    if option == PR_GET_SECUREBITS:
        return c.securebits
    if option == PR_SET_NO_NEW_PRIVS:
        if arg2 != 1 or arg3 or arg4 or arg5:
            raise Errno(EINVAL)
        commit_creds(dataclasses.replace(c, no_new_privs=True))
        return 0
    if option == PR_GET_NO_NEW_PRIVS:
        if arg2 or arg3 or arg4 or arg5:
            raise Errno(EINVAL)
        return int(c.no_new_privs)
    if option == PR_CAP_AMBIENT:
        return cap_prctl_ambient(c, arg2, arg3, arg4, arg5)
    return None


def cap_prctl_ambient(c, op: int, cap: int, arg4: int, arg5: int) -> int:
    if arg4 or arg5:
        raise Errno(EINVAL)
    if op == PR_CAP_AMBIENT_CLEAR_ALL:
        if cap:
            raise Errno(EINVAL)
        commit_creds(dataclasses.replace(c, cap_ambient=0))
        return 0
    if not cap_valid(cap):
        raise Errno(EINVAL)
    bit = 1 << cap
    if op == PR_CAP_AMBIENT_IS_SET:
        return int(bool(c.cap_ambient & bit))
    if op == PR_CAP_AMBIENT_LOWER:
        commit_creds(dataclasses.replace(c, cap_ambient=c.cap_ambient & ~bit))
        return 0
    if op == PR_CAP_AMBIENT_RAISE:
        if not (c.cap_permitted & bit and c.cap_inheritable & bit):
            raise Errno(EPERM)
        commit_creds(dataclasses.replace(c, cap_ambient=c.cap_ambient | bit))
        return 0
    raise Errno(EINVAL)
