"""Supplementary groups (kernel/groups.c): getgroups and setgroups.
The list lives in the cred, sorted as groups_sort leaves it."""
from __future__ import annotations

import dataclasses
import struct

from .cred import CAP_SETGID, NGROUPS_MAX, capable, commit_creds, current_cred
from .mm.uaccess import copy_from_user, copy_to_user
from .panic import Errno
from .syscalls import syscall
from .types import UPtr, c_int
from .uapi import EINVAL, EPERM


@syscall("getgroups")
def sys_getgroups(gidsetsize: c_int, grouplist: UPtr) -> int:
    groups = current_cred().groups
    if gidsetsize < 0:
        raise Errno(EINVAL)
    if gidsetsize:
        if len(groups) > gidsetsize:
            raise Errno(EINVAL)
        copy_to_user(grouplist, struct.pack(f"<{len(groups)}I", *groups))
    return len(groups)


@syscall("setgroups")
def sys_setgroups(gidsetsize: c_int, grouplist: UPtr) -> int:
    if not capable(CAP_SETGID):
        raise Errno(EPERM)
    if not 0 <= gidsetsize <= NGROUPS_MAX:
        raise Errno(EINVAL)
    raw = copy_from_user(grouplist, 4 * gidsetsize) if gidsetsize else b""
    groups = tuple(sorted(struct.unpack(f"<{gidsetsize}I", raw)))
    commit_creds(dataclasses.replace(current_cred(), groups=groups))
    return 0
