"""Credentials (include/linux/cred.h, kernel/cred.c, security/commoncap.c).

A task's `cred` is immutable and shared: fork copies the reference, a
thread's change builds a new one (prepare_creds) and installs it on that
thread alone (commit_creds), as Linux does.  The capability sets are int
bitmaps, bit = capability number.  capable() asks the current task's
effective set: there is one user namespace, so ns_capable is capable.

Who decides what: this module holds the object, the capability rules of
commoncap.c (what a uid change does to the capability sets, what exec
gives) and the permission test of a file mode (generic_permission);
kernel/setid.py, kernel/capability.py and kernel/groups.py are the calls.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Optional

from . import state
from .percpu import current

# include/uapi/linux/capability.h
CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID = 0, 1, 2, 3, 4
CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SETPCAP = 5, 6, 7, 8
CAP_LINUX_IMMUTABLE, CAP_NET_BIND_SERVICE = 9, 10
CAP_SYS_CHROOT, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_NICE, CAP_SYS_RESOURCE = 18, 19, 21, 23, 24
CAP_MKNOD, CAP_SETFCAP, CAP_MAC_OVERRIDE = 27, 31, 32
CAP_LAST_CAP = 40
CAP_FULL_SET = (1 << (CAP_LAST_CAP + 1)) - 1
# The capabilities that follow the filesystem uid (CAP_FS_MASK).
CAP_FS_MASK = ((1 << CAP_CHOWN) | (1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH)
               | (1 << CAP_FOWNER) | (1 << CAP_FSETID) | (1 << CAP_LINUX_IMMUTABLE)
               | (1 << CAP_MKNOD) | (1 << CAP_MAC_OVERRIDE))

# include/uapi/linux/securebits.h (only the bits the calls here change).
SECURE_NOROOT, SECURE_NO_SETUID_FIXUP, SECURE_KEEP_CAPS = 0, 2, 4
SECBIT_KEEP_CAPS = 1 << SECURE_KEEP_CAPS

NGROUPS_MAX = 65536
INVALID_ID = 0xFFFFFFFF         # (uid_t)-1: "leave this id alone" in the set*id calls


@dataclass(frozen=True, slots=True)
class cred:
    uid: int
    gid: int
    suid: int
    sgid: int
    euid: int
    egid: int
    fsuid: int
    fsgid: int
    securebits: int = 0
    cap_inheritable: int = 0
    cap_permitted: int = 0
    cap_effective: int = 0
    cap_bset: int = CAP_FULL_SET
    cap_ambient: int = 0
    groups: tuple[int, ...] = ()            # sorted, as groups_sort leaves them
    no_new_privs: bool = False              # task flag in Linux; kept here for exec


def host_caps() -> dict[str, int]:
    """The capability sets the emulator itself runs with (/proc/self/status):
    the first guest starts with them, as a program started from the same
    shell would."""
    caps = {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": CAP_FULL_SET, "CapAmb": 0}
    if os.geteuid() == 0:
        caps.update(CapPrm=CAP_FULL_SET, CapEff=CAP_FULL_SET)
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in caps:
                    caps[key] = int(line.split()[1], 16)
    except OSError:
        pass
    return caps


def init_cred(user: Optional[tuple[int, int]] = None) -> cred:
    """The first guest's credentials: the host process's ids and
    capabilities, or, with `--user UID[:GID]`, that user with no
    capabilities and no supplementary groups (what setresuid from root
    without keepcaps leaves)."""
    c = host_caps()
    if user is None:
        uid, gid = os.getuid(), os.getgid()
        euid, egid = os.geteuid(), os.getegid()
        return cred(uid=uid, gid=gid, suid=euid, sgid=egid, euid=euid, egid=egid,
                    fsuid=euid, fsgid=egid, cap_inheritable=c["CapInh"],
                    cap_permitted=c["CapPrm"], cap_effective=c["CapEff"],
                    cap_bset=c["CapBnd"], cap_ambient=c["CapAmb"],
                    groups=tuple(sorted(set(os.getgroups()))))
    uid, gid = user
    return cred(uid=uid, gid=gid, suid=uid, sgid=gid, euid=uid, egid=gid, fsuid=uid,
                fsgid=gid, cap_bset=c["CapBnd"],
                cap_permitted=0 if uid else c["CapPrm"],
                cap_effective=0 if uid else c["CapEff"],
                groups=())


def current_cred() -> cred:
    return current().cred


def commit_creds(new: cred) -> None:
    """Install `new` on the current thread alone (its other threads keep
    theirs: glibc runs the set*id calls on each thread itself)."""
    current().cred = new


def prepare_creds(**changes: int) -> cred:
    return dataclasses.replace(current().cred, **changes)


def capable(cap: int) -> bool:
    """Does the current task hold `cap` in its effective set?"""
    return bool(current().cred.cap_effective >> cap & 1)


def in_group_p(gid: int, c: Optional[cred] = None) -> bool:
    """Is gid the filesystem gid or a supplementary group of c?"""
    c = c or current().cred
    return gid == c.fsgid or gid in c.groups


def uid_is_root_any(c: cred) -> bool:
    return c.uid == 0 or c.euid == 0 or c.suid == 0


def cap_emulate_setxuid(new: cred, old: cred) -> cred:
    """commoncap.c: what a change of the real/effective/saved uids does to
    the capability sets.  Leaving root altogether drops the permitted and
    effective sets (unless keepcaps) and always the ambient set; dropping
    euid 0 clears the effective set; regaining it restores the effective
    set from the permitted one."""
    if new.securebits & (1 << SECURE_NO_SETUID_FIXUP):
        return new
    if uid_is_root_any(old) and not uid_is_root_any(new):
        keep = bool(new.securebits & SECBIT_KEEP_CAPS)
        new = dataclasses.replace(
            new, cap_ambient=0,
            cap_permitted=new.cap_permitted if keep else 0,
            cap_effective=new.cap_effective if keep else 0)
    if old.euid == 0 and new.euid != 0:
        new = dataclasses.replace(new, cap_effective=0)
    if old.euid != 0 and new.euid == 0:
        new = dataclasses.replace(new, cap_effective=new.cap_permitted)
    return cap_fix_setfsuid(new, old)


def cap_fix_setfsuid(new: cred, old: cred) -> cred:
    """Leaving fsuid 0 drops the filesystem capabilities from the
    effective set; regaining it brings back those that are permitted."""
    if old.fsuid == 0 and new.fsuid != 0:
        return dataclasses.replace(new, cap_effective=new.cap_effective & ~CAP_FS_MASK)
    if old.fsuid != 0 and new.fsuid == 0:
        return dataclasses.replace(
            new, cap_effective=new.cap_effective | (new.cap_permitted & CAP_FS_MASK))
    return new


def cap_bprm_creds(old: cred, file_uid: int, file_gid: int, mode: int) -> tuple[cred, bool]:
    """The credentials after exec (bprm_fill_uid + cap_bprm_creds_from_file):
    the set-user-ID and set-group-ID bits change the effective ids unless
    no_new_privs; a task that is root (effective or real) gets its
    bounding and inheritable sets as permitted, effective too when its
    euid is 0; a set-id exec cancels the ambient set; the saved and
    filesystem ids follow the effective ones; keepcaps is cleared.
    Returns the new cred and AT_SECURE."""
    euid, egid = old.euid, old.egid
    if not old.no_new_privs:
        if mode & 0o4000:
            euid = file_uid
        if mode & 0o2010 == 0o2010:
            egid = file_gid
    is_setid = euid != old.uid or egid != old.gid
    permitted, raise_effective = 0, False
    if not old.securebits & (1 << SECURE_NOROOT):
        if euid == 0 or old.uid == 0:
            permitted = old.cap_bset | old.cap_inheritable
        raise_effective = euid == 0
    ambient = 0 if is_setid else old.cap_ambient
    permitted |= ambient
    new = dataclasses.replace(
        old, euid=euid, egid=egid, suid=euid, sgid=egid, fsuid=euid, fsgid=egid,
        cap_permitted=permitted, cap_ambient=ambient,
        cap_effective=permitted if raise_effective else ambient,
        securebits=old.securebits & ~SECBIT_KEEP_CAPS)
    secure = is_setid or (old.uid != 0 and (raise_effective or permitted & ~ambient != 0))
    return new, secure


# fs/namei.c: the permission test of a mode, for one access mask of
# MAY_EXEC (1), MAY_WRITE (2), MAY_READ (4).
MAY_EXEC, MAY_WRITE, MAY_READ = 1, 2, 4


def generic_permission(mode: int, uid: int, gid: int, mask: int,
                       c: Optional[cred] = None, is_dir: bool = False) -> bool:
    """acl_permission_check then the capability overrides: the owner's,
    the group's or the others' bits by who asks; CAP_DAC_OVERRIDE grants
    everything but execute of a file with no x bit at all;
    CAP_DAC_READ_SEARCH grants reading and directory search."""
    c = c or current().cred
    if c.fsuid == uid:
        bits = mode >> 6
    elif in_group_p(gid, c):
        bits = mode >> 3
    else:
        bits = mode
    if mask & ~bits & 7 == 0:
        return True
    eff = c.cap_effective
    if eff >> CAP_DAC_OVERRIDE & 1:
        if is_dir or not mask & MAY_EXEC or mode & 0o111:
            return True
    if eff >> CAP_DAC_READ_SEARCH & 1:
        if mask == MAY_READ or (is_dir and not mask & MAY_WRITE):
            return True
    return False


def kill_ok_by_cred(sender: cred, target: cred) -> bool:
    """kernel/signal.c: a sender may signal a target whose real or saved
    uid is its real or effective uid, or with CAP_KILL."""
    return (sender.euid in (target.suid, target.uid)
            or sender.uid in (target.suid, target.uid)
            or bool(sender.cap_effective >> CAP_KILL & 1))


def machine_init_cred() -> cred:
    """The cred the machine's first guest starts with (KernelState.opts)."""
    return init_cred(getattr(state.K.opts, "user", None))
