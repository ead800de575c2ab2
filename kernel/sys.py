"""Identity, limits and the odds and ends of kernel/sys.c: getpid and
friends, uname, prlimit64, prctl, arch_prctl, set_tid_address, brk and
the mm syscalls' thin entries, getrandom, sched_yield (the other sched_*
calls: kernel/sched/syscalls.py)."""
from __future__ import annotations

import os
import struct

from unicorn import x86_const as X

from . import state
from .mm.mmap import ShmemObject, check_range, page_align, prot_to_vm_flags, TASK_SIZE
from .mm.memory import VM_SHARED, VM_WRITE
from .mm.uaccess import copy_from_user, copy_to_user, put_user_u64, strncpy_from_user
from .panic import Errno
from .capability import cap_task_prctl
from .cred import CAP_SYS_RESOURCE, capable
from .percpu import current, this_cpu
from .syscalls import syscall
from .task import PF_FORKNOEXEC, PF_KTHREAD
from .types import UPtr, c_int, c_uint, c_ulong, fd_t, off_t, pid_t, size_t
from .uapi import (
    ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_FS, ARCH_SET_GS, EACCES, EINVAL, ENODEV, ENOMEM,
    EPERM, ESRCH, MADV_DONTNEED, MADV_FREE, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE,
    MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, PR_GET_CHILD_SUBREAPER,
    PR_GET_NAME, PR_GET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NAME, PR_SET_PDEATHSIG,
    PROT_EXEC, PROT_READ, PROT_WRITE, RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_NOFILE, EEXIST,
)

from .pid_namespace import (  # noqa: E402
    current_ns, find_task_by_vpid, pid_global_of_vnr, pid_nr_ns_of_global, task_pid_vnr,
    task_ppid_nr_ns, task_tgid_vnr,
)

@syscall("getpid")
def sys_getpid() -> int:
    return task_tgid_vnr(current())


@syscall("gettid")
def sys_gettid() -> int:
    return task_pid_vnr(current())


@syscall("getppid")
def sys_getppid() -> int:
    # 0 for a pid namespace's init: its parent is outside the namespace.
    return task_ppid_nr_ns(current(), current_ns())


@syscall("getpgrp")
def sys_getpgrp() -> int:
    return pid_nr_ns_of_global(current().signal.pgrp, current_ns())


def find_task_vpid(pid: int):
    """find_task_by_vpid: any task with this pid in the caller's pid
    namespace, zombies included."""
    t = find_task_by_vpid(pid)
    if t is None or pid <= 0:
        raise Errno(ESRCH)
    return t


@syscall("getpgid")
def sys_getpgid(pid: pid_t) -> int:
    t = current() if pid == 0 else find_task_vpid(pid)
    return pid_nr_ns_of_global(t.signal.pgrp, current_ns())


@syscall("getsid")
def sys_getsid(pid: pid_t) -> int:
    t = current() if pid == 0 else find_task_vpid(pid)
    return pid_nr_ns_of_global(t.signal.session, current_ns())


def session_leader(t) -> bool:
    """signal->leader: t's group started its session (setsid)."""
    return t.signal.session == t.tgid


def pgrp_exists(pgrp: int, session: int) -> bool:
    """Is pgrp the group of some task of `session` (pid_task(PIDTYPE_PGID))?"""
    return any(t.signal.pgrp == pgrp and t.signal.session == session
               for t in state.K.tasks.values() if not t.flags & PF_KTHREAD)


@syscall("setpgid")
def sys_setpgid(pid: pid_t, pgid: pid_t) -> int:
    """Move process `pid` (the caller or a child not yet exec'd, in the
    caller's session) into group `pgid` of the same session."""
    leader = current().group_leader
    pid = pid or task_tgid_vnr(leader)
    pgid = pgid or pid
    if pgid < 0:
        raise Errno(EINVAL)
    p = find_task_vpid(pid)
    # Process groups are kept by global pid; pgid is the caller's view.
    pgid = pid_global_of_vnr(pgid)
    pid = p.pid
    if not p.thread_group_leader:
        raise Errno(EINVAL)
    if p.real_parent is not None and p.real_parent.signal is leader.signal:
        if p.signal.session != leader.signal.session:
            raise Errno(EPERM)
        if not p.flags & PF_FORKNOEXEC:
            raise Errno(EACCES)
    elif p is not leader:
        raise Errno(ESRCH)
    if session_leader(p):
        raise Errno(EPERM)
    if pgid != pid and not pgrp_exists(pgid, leader.signal.session):
        raise Errno(EPERM)
    p.signal.pgrp = pgid
    return 0


@syscall("setsid")
def sys_setsid() -> int:
    """Start a session and a group named after the caller; EPERM if it
    leads a session already or its pid names a process group."""
    leader = current().group_leader
    sid = leader.tgid
    if session_leader(leader) or any(t.signal.pgrp == sid for t in state.K.tasks.values()):
        raise Errno(EPERM)
    leader.signal.session = leader.signal.pgrp = sid
    return task_tgid_vnr(leader)


@syscall("umask")
def sys_umask(mask: c_uint) -> int:
    fs = current().fs
    old = fs.umask
    fs.umask = mask & 0o777
    return old


@syscall("getrusage")
def sys_getrusage(who: c_int, ru: UPtr) -> int:
    from .sched.cputime import k_getrusage, watch_cputime
    if who not in (0, -1, 1):                  # RUSAGE_SELF, _CHILDREN, _THREAD
        raise Errno(EINVAL)
    watch_cputime(current())
    copy_to_user(ru, k_getrusage(current(), who))
    return 0


@syscall("times")
def sys_times(tbuf: UPtr) -> int:
    """struct tms in clock ticks (USER_HZ 100); returns ticks since boot."""
    from .sched.cputime import clock_t_of, thread_group_cputime, watch_cputime
    from .time.timekeeping import ktime_get_ns
    watch_cputime(current())
    if tbuf:
        sig = current().signal
        u, s = thread_group_cputime(sig)
        copy_to_user(tbuf, struct.pack("<qqqq", clock_t_of(u), clock_t_of(s),
                                       clock_t_of(sig.cutime), clock_t_of(sig.cstime)))
    return clock_t_of(ktime_get_ns())


@syscall("uname")
def sys_uname(name: UPtr) -> int:
    u = os.uname()
    fields = [u.sysname, u.nodename, u.release, u.version, u.machine, "(none)"]
    copy_to_user(name, b"".join(f.encode()[:64].ljust(65, b"\0") for f in fields))
    return 0


@syscall("set_tid_address")
def sys_set_tid_address(tidptr: UPtr) -> int:
    tsk = current()
    tsk.clear_child_tid = tidptr
    return task_pid_vnr(tsk)


@syscall("arch_prctl")
def sys_arch_prctl(option: c_int, arg2: c_ulong) -> int:
    uc = this_cpu().hw.uc
    if option == ARCH_SET_FS:
        if arg2 >= TASK_SIZE:
            raise Errno(EPERM)
        uc.reg_write(X.UC_X86_REG_FS_BASE, arg2)
        return 0
    if option == ARCH_SET_GS:
        if arg2 >= TASK_SIZE:
            raise Errno(EPERM)
        uc.reg_write(X.UC_X86_REG_GS_BASE, arg2)
        return 0
    if option == ARCH_GET_FS:
        put_user_u64(arg2, uc.reg_read(X.UC_X86_REG_FS_BASE))
        return 0
    if option == ARCH_GET_GS:
        put_user_u64(arg2, uc.reg_read(X.UC_X86_REG_GS_BASE))
        return 0
    raise Errno(EINVAL)


NR_OPEN = 1 << 20      # sysctl fs.nr_open: the most RLIMIT_NOFILE may be


def host_rlimits() -> list[list[int]]:
    """The limits tinyunix itself runs with, for the first guest: it
    inherits them as a program started from the same shell would."""
    import resource
    out = []
    for r in range(RLIM_NLIMITS):
        try:
            lim = resource.getrlimit(r)
        except (ValueError, OSError):
            lim = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        out.append([RLIM_INFINITY if v == resource.RLIM_INFINITY else v for v in lim])
    return out


def do_prlimit(tsk, resource: int, new: tuple[int, int] | None) -> tuple[int, int]:
    """kernel/sys.c do_prlimit: validate and install `new` (soft, hard) as
    tsk's limit; returns the old one.  Raising the hard limit needs
    CAP_SYS_RESOURCE.  The limits live in signal_struct: shared by the
    thread group, copied by fork, kept across exec."""
    if resource >= RLIM_NLIMITS:
        raise Errno(EINVAL)
    if new is not None:
        if new[0] > new[1]:
            raise Errno(EINVAL)
        if resource == RLIMIT_NOFILE and new[1] > NR_OPEN:
            raise Errno(EPERM)
    rlim = tsk.signal.rlim[resource]
    old = (rlim[0], rlim[1])
    if new is not None:
        if new[1] > rlim[1] and not capable(CAP_SYS_RESOURCE):
            raise Errno(EPERM)
        rlim[0], rlim[1] = new
    return old


@syscall("prlimit64")
def sys_prlimit64(pid: pid_t, resource: c_uint, new_rlim: UPtr, old_rlim: UPtr) -> int:
    new = struct.unpack("<QQ", copy_from_user(new_rlim, 16)) if new_rlim else None
    t = current() if pid == 0 else state.K.tasks.get(pid)
    if t is None or t.mm is None:
        raise Errno(ESRCH)
    old = do_prlimit(t, resource, new)
    if old_rlim:
        copy_to_user(old_rlim, struct.pack("<QQ", *old))   # EFAULT here keeps the new limit
    return 0


@syscall("getrlimit")
def sys_getrlimit(resource: c_uint, rlim: UPtr) -> int:
    old = do_prlimit(current(), resource, None)
    copy_to_user(rlim, struct.pack("<QQ", *old))
    return 0


@syscall("setrlimit")
def sys_setrlimit(resource: c_uint, rlim: UPtr) -> int:
    new = struct.unpack("<QQ", copy_from_user(rlim, 16))
    do_prlimit(current(), resource, new)
    return 0


@syscall("prctl")
def sys_prctl(option: c_int, arg2: c_ulong, arg3: c_ulong, arg4: c_ulong, arg5: c_ulong) -> int:
    tsk = current()
    if option == PR_SET_CHILD_SUBREAPER:
        tsk.signal.is_child_subreaper = bool(arg2)
        return 0
    if option == PR_GET_CHILD_SUBREAPER:
        copy_to_user(arg2, struct.pack("<i", int(tsk.signal.is_child_subreaper)))
        return 0
    if option == PR_SET_NAME:
        tsk.comm = strncpy_from_user(arg2, 1 << 12)[:15].decode("utf-8", "replace")
        return 0
    if option == PR_GET_NAME:
        copy_to_user(arg2, tsk.comm.encode()[:15].ljust(16, b"\0"))
        return 0
    ret = cap_task_prctl(option, arg2, arg3, arg4, arg5)
    if ret is not None:
        return ret
    if option in (PR_SET_PDEATHSIG, PR_GET_PDEATHSIG):
        if option == PR_GET_PDEATHSIG:
            copy_to_user(arg2, struct.pack("<i", 0))
        return 0
    raise Errno(EINVAL)


@syscall("getrandom")
def sys_getrandom(buf: UPtr, count: size_t, flags: c_uint) -> int:
    if flags & ~7:
        raise Errno(EINVAL)
    n = min(count, 1 << 25)
    copy_to_user(buf, state.K.rng.randbytes(n))
    return n


@syscall("sched_yield")
def sys_sched_yield() -> int:
    this_cpu().need_resched = True
    return 0


@syscall("rseq", note="ENOSYS, as on a kernel without CONFIG_RSEQ; glibc copes")
def sys_rseq(rseq: UPtr, rseq_len: c_uint, flags: c_int, sig: c_uint) -> int:
    from .uapi import ENOSYS
    raise Errno(ENOSYS)


@syscall("ioctl")
def sys_ioctl(fd: c_uint, cmd: c_uint, arg: c_ulong) -> int:
    f = current().files.fget(fd)
    return f.f_op.ioctl(f, cmd, arg)


# --- memory ---------------------------------------------------------------

@syscall("brk")
def sys_brk(brk: c_ulong) -> int:
    return current().mm.do_brk(brk)


@syscall("mmap")
def sys_mmap(addr: c_ulong, len_: c_ulong, prot: c_ulong, flags: c_ulong, fd: fd_t,
             off: off_t) -> int:
    mm = current().mm
    if off & 0xFFF:
        raise Errno(EINVAL)
    if len_ == 0:
        raise Errno(EINVAL)
    length = page_align(len_)
    if length == 0 or length > TASK_SIZE:
        raise Errno(ENOMEM)
    mtype = flags & MAP_TYPE
    if mtype not in (MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE):
        raise Errno(EINVAL)
    fixed = bool(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
    if fixed and addr & 0xFFF:
        raise Errno(EINVAL)
    if flags & MAP_FIXED_NOREPLACE and not flags & MAP_FIXED and mm.overlapping(addr, addr + length):
        raise Errno(EEXIST)
    vf = prot_to_vm_flags(prot)
    # __vm_enough_memory under the default overcommit heuristic: one
    # accountable mapping larger than all of RAM (there is no swap) fails.
    accountable = not flags & MAP_NORESERVE and (
        bool(vf & VM_WRITE) if mtype == MAP_PRIVATE else bool(flags & MAP_ANONYMOUS))
    if accountable and length >> 12 > mm.alloc.machine.nr_frames:
        raise Errno(ENOMEM)
    if not flags & MAP_ANONYMOUS:
        return _mmap_file(mm, addr, length, vf, flags, fd, off, fixed)
    if mtype != MAP_PRIVATE:
        shm = ShmemObject(mm.alloc)
        return mm.do_mmap(addr, length, vf | VM_SHARED, fixed, shm=shm, pgoff=0)
    return mm.do_mmap(addr, length, vf, fixed)


def _mmap_file(mm, addr: int, length: int, vf: int, flags: int, fd: int, off: int,
               fixed: bool) -> int:
    """A file mapping: a host file through its Inode's page cache (read
    only: the guest opened it read-only), an overlay file through its
    address_space (mm/filemap.py), writable when shared and opened
    O_RDWR.  Errors as do_mmap: EACCES for a write-only fd or a shared
    writable map of an fd not open for writing, ENODEV for what has no
    pages (directories, pipes, devices)."""
    from .fs.inode import iget_host, keep_warm
    from .fs.namei import host_path
    from .fs.open import HostRegOps, OverlayOps
    from .mm.filemap import mapping_of
    from .uapi import EACCES, O_ACCMODE, O_RDWR, O_WRONLY
    f = current().files.fget(fd)
    acc = f.f_flags & O_ACCMODE
    shared = flags & MAP_TYPE != MAP_PRIVATE
    if isinstance(f.f_op, OverlayOps):
        if acc == O_WRONLY or (shared and vf & VM_WRITE and acc != O_RDWR):
            raise Errno(EACCES)
        vma_file = mapping_of(f.private, f.path)
        maywrite = not shared or acc == O_RDWR
    elif isinstance(f.f_op, HostRegOps):
        if os.path.isdir(host_path(f.path)):
            raise Errno(ENODEV)
        if shared and vf & VM_WRITE:
            raise Errno(EACCES)   # the host file is open read-only
        vma_file = iget_host(host_path(f.path))
        keep_warm(vma_file)   # ld.so.cache, libraries: still cached at the next exec
        maywrite = not shared
    else:
        raise Errno(ENODEV)
    return mm.do_mmap(addr, length, vf | (VM_SHARED if shared else 0), fixed, file=vma_file,
                      pgoff=off >> 12, maywrite=maywrite)


@syscall("munmap")
def sys_munmap(addr: c_ulong, len_: size_t) -> int:
    if len_ == 0:
        raise Errno(EINVAL)
    start, end = check_range(addr, len_)
    current().mm.do_munmap(start, end - start)
    return 0


@syscall("mprotect")
def sys_mprotect(start: c_ulong, len_: size_t, prot: c_ulong) -> int:
    if prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | 0x03000000):
        raise Errno(EINVAL)
    s, e = check_range(start, len_)
    if s == e:
        return 0
    current().mm.mprotect(s, e, prot_to_vm_flags(prot))
    return 0


@syscall("madvise", note="MADV_DONTNEED/FREE drop pages; other advice is accepted and ignored")
def sys_madvise(start: c_ulong, len_: size_t, behavior: c_int) -> int:
    s, e = check_range(start, len_)
    if behavior not in (0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                        22, 23, 24, 25, 100, 101, 102, 103):
        raise Errno(EINVAL)
    if s == e:
        return 0
    if behavior in (MADV_DONTNEED, MADV_FREE):
        current().mm.madvise_dontneed(s, e, free=behavior == MADV_FREE)
    return 0

