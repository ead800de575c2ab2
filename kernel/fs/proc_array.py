"""/proc/PID/{stat,status,statm} and task/TID/{stat,status} in Linux's
formats (fs/proc/array.c), from the kernel's own state.

`whole` is the process view (/proc/PID/...: counters summed over the
thread group, as do_task_stat's `whole`); the thread view is
task/TID/...  Pids are shown as the reader's pid namespace sees them.
"""
from __future__ import annotations

from .. import state
from ..pid_namespace import (
    pid_namespace, pid_nr_ns_of_global, task_pid_nr_ns, task_ppid_nr_ns, task_tgid_nr_ns,
)
from ..task import EXIT_DEAD, EXIT_ZOMBIE, PF_KTHREAD, TaskState, task_struct
from ..uapi import RLIMIT_RSS, SIG_IGN

USER_HZ = 100
NSEC_PER_TICK = 1_000_000_000 // USER_HZ
PAGE_KB = 4


def task_state(t: task_struct) -> tuple[str, str]:
    """(letter, name) as task_state_array / get_task_state."""
    if t.exit_state == EXIT_ZOMBIE:
        return "Z", "zombie"
    if t.exit_state == EXIT_DEAD:
        return "X", "dead"
    s = int(t.state)
    if s & 4:
        return "T", "stopped"
    if s & 8:
        return "t", "tracing stop"
    if s & TaskState.TASK_PARKED:
        return "P", "parked"
    if s & TaskState.TASK_NOLOAD and s & TaskState.TASK_UNINTERRUPTIBLE:
        return "I", "idle"
    if s & TaskState.TASK_UNINTERRUPTIBLE:
        return "D", "disk sleep"
    if s & TaskState.TASK_INTERRUPTIBLE:
        return "S", "sleeping"
    return "R", "running"


def task_cputime(t: task_struct) -> tuple[int, int]:
    """(utime, stime) of one thread in virtual ns (sched/cputime.py)."""
    from ..sched.cputime import task_cputime as tc
    return tc(t)


def group_cputime(t: task_struct) -> tuple[int, int, int, int]:
    """(utime, stime, cutime, cstime) of t's process in virtual ns."""
    from ..sched.cputime import thread_group_cputime
    sig = t.signal
    u, s = thread_group_cputime(sig)
    return u, s, sig.cutime, sig.cstime


def ticks(ns: int) -> int:
    return ns // NSEC_PER_TICK


def sig_masks(t: task_struct) -> tuple[int, int, int, int]:
    """(pending, shared pending, ignored, caught) as collect_sigign_sigcatch."""
    ign = catch = 0
    if t.sighand is not None:
        for i, ka in enumerate(t.sighand.action[1:65], start=1):
            if ka.handler == SIG_IGN:
                ign |= 1 << (i - 1)
            elif ka.handler > 1:
                catch |= 1 << (i - 1)
    shared = t.signal.shared_pending if t.signal is not None else 0
    return t.pending, shared, ign, catch


def threads_of(t: task_struct) -> list[task_struct]:
    return list(t.signal.threads) if t.signal is not None else [t]


def _ns_ids(t: task_struct, ns: pid_namespace) -> tuple[int, int, int, int]:
    """(tgid, pid, pgrp, sid) of t seen from ns."""
    sig = t.signal
    pgrp = pid_nr_ns_of_global(sig.pgrp, ns) if sig is not None else 0
    sid = pid_nr_ns_of_global(sig.session, ns) if sig is not None else 0
    return task_tgid_nr_ns(t, ns), task_pid_nr_ns(t, ns), pgrp, sid


def proc_pid_stat(t: task_struct, ns: pid_namespace, whole: bool) -> bytes:
    """do_task_stat: the 52 fields of /proc/PID/stat."""
    mm = t.mm
    letter, _ = task_state(t)
    tgid, pid, pgrp, sid = _ns_ids(t, ns)
    ppid = task_ppid_nr_ns(t, ns)      # 0 for a namespace's init: its parent is outside
    pend, shpend, ign, catch = sig_masks(t)
    if whole:
        group = threads_of(t)
        num_threads = len(group)
        utime, stime, cutime, cstime = group_cputime(t)
        pend |= shpend
    else:
        num_threads = len(threads_of(t))
        utime, stime = task_cputime(t)
        cutime = cstime = 0
    exit_code = t.exit_code if t.exit_state else 0
    vsize = mm.total_vm() << 12 if mm is not None else 0
    rss = mm.get_mm_rss() if mm is not None else 0
    rsslim = t.signal.rlim[RLIMIT_RSS][0] if t.signal is not None else 0
    wchan = 1 if letter in "SDIP" else 0        # get_wchan: where a sleeper waits
    start = ticks(max(0, t.start_time - state.K.boot_ns))
    f = [pid, f"({t.comm})", letter, ppid, pgrp, sid,
         0, -1,                                   # tty_nr, tpgid: no controlling tty
         t.flags, 0, 0, 0, 0,                     # flags, minflt, cminflt, majflt, cmajflt
         ticks(utime), ticks(stime), ticks(cutime), ticks(cstime),
         20, 0, num_threads, 0, start, vsize, rss, rsslim]
    if mm is not None:
        f += [mm.start_code, mm.end_code, mm.start_stack]
    else:
        f += [1 if t.flags & PF_KTHREAD else 0, 1 if t.flags & PF_KTHREAD else 0, 0]
    f += [0, 0,                                   # kstkesp, kstkeip (only when dumping core)
          pend & 0x7FFFFFFF, t.blocked & 0x7FFFFFFF, ign & 0x7FFFFFFF, catch & 0x7FFFFFFF,
          wchan, 0, 0, t.exit_signal if t.exit_signal >= 0 else 0, t.cpu,
          0, 0, 0, 0, 0]                          # rt_priority, policy, blkio, guest, cguest
    if mm is not None:
        f += [mm.start_data, mm.end_data, mm.start_brk, mm.arg_start, mm.arg_end,
              mm.env_start, mm.env_end]
    else:
        f += [0] * 7
    f.append(exit_code)
    return (" ".join(map(str, f)) + "\n").encode()


def _kb(pages: int) -> str:
    return f"{pages * PAGE_KB:8d} kB"


def task_mem(mm) -> list[str]:
    """task_mem: the Vm* and Rss* lines."""
    from ..mm.memory import VM_EXEC, VM_GROWSDOWN, VM_SHARED, VM_WRITE
    from ..mm.page_alloc import MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES
    total = mm.total_vm()
    rss = mm.get_mm_rss()
    data = stk = exe = lib = 0
    for v in mm.vmas:
        n = (v.vm_end - v.vm_start) >> 12
        if v.vm_flags & VM_GROWSDOWN or v.name == "[stack]":
            stk += n
        elif v.vm_flags & (VM_WRITE | VM_SHARED) == VM_WRITE:
            data += n
        elif v.vm_flags & VM_EXEC and v.vm_flags & VM_WRITE == 0:
            if v.vm_file is not None and v.vm_file is mm.exe_file or v.vm_file is None:
                exe += n
            else:
                lib += n
    pte_kb = mm.pt.nr_tables * 4 if hasattr(mm.pt, "nr_tables") else 0
    return [
        f"VmPeak:\t{_kb(max(mm.hiwater_vm, total))}",
        f"VmSize:\t{_kb(total)}",
        f"VmLck:\t{_kb(0)}",
        f"VmPin:\t{_kb(0)}",
        f"VmHWM:\t{_kb(max(mm.hiwater_rss, rss))}",
        f"VmRSS:\t{_kb(rss)}",
        f"RssAnon:\t{_kb(mm.get_mm_counter(MM_ANONPAGES))}",
        f"RssFile:\t{_kb(mm.get_mm_counter(MM_FILEPAGES))}",
        f"RssShmem:\t{_kb(mm.get_mm_counter(MM_SHMEMPAGES))}",
        f"VmData:\t{_kb(data)}",
        f"VmStk:\t{_kb(stk)}",
        f"VmExe:\t{_kb(exe)}",
        f"VmLib:\t{_kb(lib)}",
        f"VmPTE:\t{pte_kb:8d} kB",
        f"VmSwap:\t{_kb(0)}",
        f"HugetlbPages:\t{_kb(0)}",
    ]


def _hex(mask: int) -> str:
    return f"{mask & ((1 << 64) - 1):016x}"


def proc_pid_status(t: task_struct, ns: pid_namespace, whole: bool) -> bytes:
    """proc_pid_status: the Name ... nonvoluntary_ctxt_switches lines."""
    _letter, _name = task_state(t)
    tgid, pid, _pg, _sid = _ns_ids(t, ns)
    ppid = task_ppid_nr_ns(t, ns) if t.exit_state != EXIT_DEAD else 0
    c = t.cred
    nfds = len(t.files.fd) if t.files is not None else 0
    fdsize = 64
    while fdsize < nfds:
        fdsize *= 2
    umask = t.fs.umask if t.fs is not None else 0o022
    out = [f"Name:\t{t.comm}", f"Umask:\t{umask:04o}", f"State:\t{_letter} ({_name})",
           f"Tgid:\t{tgid}", "Ngid:\t0", f"Pid:\t{pid}", f"PPid:\t{ppid}", "TracerPid:\t0",
           f"Uid:\t{c.uid}\t{c.euid}\t{c.suid}\t{c.fsuid}",
           f"Gid:\t{c.gid}\t{c.egid}\t{c.sgid}\t{c.fsgid}",
           f"FDSize:\t{fdsize}", "Groups:\t" + " ".join(map(str, c.groups)) + " "]
    # NStgid ... NSsid: the ids at each level from the reader's down.
    lv = t.pid_ns.level if t.pid_ns is not None else 0
    levels = range(ns.level, lv + 1)

    def at(tsk, lvl):
        return tsk.nspids[lvl] if tsk.nspids else tsk.pid
    leader = t.group_leader
    out.append("NStgid:\t" + "\t".join(str(at(leader, i)) for i in levels))
    out.append("NSpid:\t" + "\t".join(str(at(t, i)) for i in levels))
    K = state.K
    for key, gl in (("NSpgid", t.signal.pgrp), ("NSsid", t.signal.session)):
        owner = K.tasks.get(gl)
        vals = [str(at(owner, i)) if owner is not None and owner.pid_ns is not None
                and owner.pid_ns.level >= i else (str(gl) if i == 0 else "0") for i in levels]
        out.append(f"{key}:\t" + "\t".join(vals))
    out.append(f"Kthread:\t{1 if t.flags & 0x200000 else 0}")
    if t.mm is not None:
        out += task_mem(t.mm)
    out += ["CoreDumping:\t0", "THP_enabled:\t1"]
    if t.mm is not None:
        out.append("untag_mask:\t0xffffffffffffffff")
    nthreads = len(threads_of(t))
    pend, shpend, ign, catch = sig_masks(t)
    queued = K.sigpending_queued
    sigq_max = t.signal.rlim[11][0] if t.signal is not None else 0   # RLIMIT_SIGPENDING
    out += [f"Threads:\t{nthreads}", f"SigQ:\t{queued}/{sigq_max}",
            f"SigPnd:\t{_hex(pend)}", f"ShdPnd:\t{_hex(shpend)}", f"SigBlk:\t{_hex(t.blocked)}",
            f"SigIgn:\t{_hex(ign)}", f"SigCgt:\t{_hex(catch)}"]
    out += [f"CapInh:\t{c.cap_inheritable:016x}", f"CapPrm:\t{c.cap_permitted:016x}",
            f"CapEff:\t{c.cap_effective:016x}", f"CapBnd:\t{c.cap_bset:016x}",
            f"CapAmb:\t{c.cap_ambient:016x}", "NoNewPrivs:\t0",
            "Seccomp:\t0", "Seccomp_filters:\t0",
            "Speculation_Store_Bypass:\tthread vulnerable",
            "SpeculationIndirectBranch:\tconditional enabled"]
    ncpu = len(K.cpus)
    out += [f"Cpus_allowed:\t{(1 << ncpu) - 1:x}",
            f"Cpus_allowed_list:\t{'0' if ncpu == 1 else f'0-{ncpu - 1}'}",
            "Mems_allowed:\t" + ",".join(["00000000"] * 31 + ["00000001"]),
            "Mems_allowed_list:\t0"]
    nv, niv = t.nvcsw, t.nivcsw
    if whole:
        nv = sum(x.nvcsw for x in threads_of(t)) + t.signal.nvcsw
        niv = sum(x.nivcsw for x in threads_of(t)) + t.signal.nivcsw
    out += [f"voluntary_ctxt_switches:\t{nv}", f"nonvoluntary_ctxt_switches:\t{niv}"]
    return ("\n".join(out) + "\n").encode()


def proc_pid_statm(t: task_struct) -> bytes:
    """size resident shared text lib data dt, in pages."""
    mm = t.mm
    if mm is None:
        return b"0 0 0 0 0 0 0\n"
    from ..mm.memory import VM_GROWSDOWN, VM_SHARED, VM_WRITE
    from ..mm.page_alloc import MM_FILEPAGES, MM_SHMEMPAGES
    shared = mm.get_mm_counter(MM_FILEPAGES) + mm.get_mm_counter(MM_SHMEMPAGES)
    text = (mm.end_code - mm.start_code + 4095) >> 12 if mm.end_code > mm.start_code else 0
    data = sum((v.vm_end - v.vm_start) >> 12 for v in mm.vmas
               if v.vm_flags & (VM_WRITE | VM_SHARED) == VM_WRITE or v.vm_flags & VM_GROWSDOWN
               or v.name == "[stack]")
    return f"{mm.total_vm()} {mm.get_mm_rss()} {shared} {text} 0 {data} 0\n".encode()
