"""The files at the top of /proc that are not processes (fs/proc/meminfo.c,
stat.c, loadavg.c, uptime.c, version.c, arch/x86/kernel/cpu/proc.c,
fs/filesystems.c) and /proc/sys/kernel (kernel/sysctl.c), in Linux's
formats, from this kernel's own state: the frame allocator, the virtual
clock and the per-CPU counters, never the host's.
"""
from __future__ import annotations

import os
from typing import Callable

from .. import state
from ..task import TASK_RUNNING, TaskState

USER_HZ = 100
NSEC_PER_TICK = 10_000_000


def _cpu_times(cpu) -> tuple[int, int]:
    """(user, system) virtual ns a CPU ran: basic blocks are user time,
    syscalls and traps system time (the units of the virtual clock)."""
    from ..time.timekeeping import BLOCK_NS, COUNTERS, COUNTERS_OFF, SYSCALL_NS, TRAP_NS
    blocks, _left, sysc, traps = COUNTERS.unpack_from(cpu.hw.shared, COUNTERS_OFF)
    return blocks * BLOCK_NS, sysc * SYSCALL_NS + traps * TRAP_NS


def _now() -> int:
    from ..time.timekeeping import ktime_get_ns
    return ktime_get_ns()


def _live_mms() -> list:
    seen = {}
    for t in state.K.tasks.values():
        if t.mm is not None:
            seen[id(t.mm)] = t.mm
    return list(seen.values())


def _page_cache_pages() -> int:
    return sum(len(i.pages) for i in state.K.icache.values())


def show_meminfo() -> bytes:
    K = state.K
    alloc = K.alloc
    total = alloc.nr_free_at_boot
    free = alloc.nr_free()
    mms = _live_mms()
    anon = sum(mm.rss_stat[1] for mm in mms)
    mapped = sum(mm.rss_stat[0] for mm in mms)
    shmem = sum(mm.rss_stat[3] for mm in mms)
    cached = _page_cache_pages()
    tables = sum(mm.pt.nr_tables for mm in mms)
    committed = sum(mm.total_vm() for mm in mms)
    rows = [
        ("MemTotal", total), ("MemFree", free), ("MemAvailable", free + cached),
        ("Buffers", 0), ("Cached", cached + shmem), ("SwapCached", 0),
        ("Active", anon + cached), ("Inactive", 0), ("Active(anon)", anon),
        ("Inactive(anon)", 0), ("Active(file)", cached), ("Inactive(file)", 0),
        ("Unevictable", 0), ("Mlocked", 0), ("SwapTotal", 0), ("SwapFree", 0),
        ("Zswap", 0), ("Zswapped", 0), ("Dirty", 0), ("Writeback", 0),
        ("AnonPages", anon), ("Mapped", mapped), ("Shmem", shmem), ("KReclaimable", 0),
        ("Slab", 0), ("SReclaimable", 0), ("SUnreclaim", 0),
    ]
    out = [f"{name + ':':<16}{pages * 4:8d} kB" for name, pages in rows]
    out.append(f"{'KernelStack:':<16}{4 * len(K.tasks) * 4:8d} kB")
    rows = [("PageTables", tables), ("SecPageTables", 0), ("NFS_Unstable", 0), ("Bounce", 0),
            ("WritebackTmp", 0), ("CommitLimit", total // 2), ("Committed_AS", committed)]
    out += [f"{name + ':':<16}{pages * 4:8d} kB" for name, pages in rows]
    out += [f"{'VmallocTotal:':<16}{34359738367:8d} kB", f"{'VmallocUsed:':<16}{0:8d} kB",
            f"{'VmallocChunk:':<16}{0:8d} kB", f"{'Percpu:':<16}{0:8d} kB"]
    for name in ("HardwareCorrupted", "AnonHugePages", "ShmemHugePages", "ShmemPmdMapped",
                 "FileHugePages", "FilePmdMapped"):
        out.append(f"{name + ':':<16}{0:8d} kB")
    out += ["HugePages_Total:       0", "HugePages_Free:        0", "HugePages_Rsvd:        0",
            "HugePages_Surp:        0", f"{'Hugepagesize:':<16}{2048:8d} kB",
            f"{'Hugetlb:':<16}{0:8d} kB", f"{'DirectMap4k:':<16}{K.alloc.nr_frames * 4:8d} kB",
            f"{'DirectMap2M:':<16}{0:8d} kB", f"{'DirectMap1G:':<16}{0:8d} kB"]
    return ("\n".join(out) + "\n").encode()


def show_stat() -> bytes:
    K = state.K
    rows = []
    tot_u = tot_s = 0
    idle = K.idle_ns // max(1, len(K.cpus))
    for cpu in K.cpus:
        u, s = _cpu_times(cpu)
        tot_u += u
        tot_s += s
        rows.append(f"cpu{cpu.index} {u // NSEC_PER_TICK} 0 {s // NSEC_PER_TICK} "
                    f"{idle // NSEC_PER_TICK} 0 0 0 0 0 0")
    head = (f"cpu  {tot_u // NSEC_PER_TICK} 0 {tot_s // NSEC_PER_TICK} "
            f"{K.idle_ns // NSEC_PER_TICK} 0 0 0 0 0 0")
    running = sum(1 for t in K.tasks.values() if t.state == TASK_RUNNING and not t.exit_state)
    blocked = sum(1 for t in K.tasks.values()
                  if t.state & TaskState.TASK_UNINTERRUPTIBLE
                  and not t.state & TaskState.TASK_NOLOAD and not t.exit_state)
    ctxt = sum(c.nr_switches for c in K.cpus)
    btime = (K.real_offset - K.boot_ns) // 1_000_000_000     # CLOCK_REALTIME at boot
    out = [head, *rows, "intr 0", f"ctxt {ctxt}", f"btime {btime}",
           f"processes {K.counters['forks'] + 3}", f"procs_running {running}",
           f"procs_blocked {blocked}", "softirq 0 0 0 0 0 0 0 0 0 0 0"]
    return ("\n".join(out) + "\n").encode()


def show_loadavg() -> bytes:
    """The load averages are not computed (no calc_load on the virtual
    clock yet): 0.00; the runnable/total counts and the last pid are."""
    from ..pid_namespace import current_ns
    K = state.K
    running = sum(1 for t in K.tasks.values() if t.state == TASK_RUNNING and not t.exit_state)
    ns = current_ns()
    return f"0.00 0.00 0.00 {running}/{len(K.tasks)} {ns.pids.last}\n".encode()


def show_uptime() -> bytes:
    K = state.K
    up = _now() - K.boot_ns
    idle = K.idle_ns
    return (f"{up // 1_000_000_000}.{up // NSEC_PER_TICK % 100:02d} "
            f"{idle // 1_000_000_000}.{idle // NSEC_PER_TICK % 100:02d}\n").encode()


# cpuinfo's flag names for CPUID leaf 1 (edx, ecx) and 0x80000001 (edx, ecx) bits.
_EDX1 = ("fpu vme de pse tsc msr pae mce cx8 apic - sep mtrr pge mca cmov pat pse36 pn clflush"
         " - dts acpi mmx fxsr sse sse2 ss ht tm ia64 pbe").split()
_ECX1 = ("pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 cid sdbg fma cx16 xtpr"
         " pdcm - pcid dca sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave"
         " osxsave avx f16c rdrand hypervisor").split()
_EDX81 = {11: "syscall", 20: "nx", 27: "rdtscp", 29: "lm"}
_ECX81 = {0: "lahf_lm", 5: "abm"}


def _cpu_model() -> tuple[str, int, int, int, str, str]:
    """(vendor, family, model, stepping, model name, flags) from the CPUID
    table the guest sees (emu/cpuid.py)."""
    import struct
    from emu.cpuid import ANY, cpuid_table
    t = cpuid_table()
    _a, b, c, d = t[(0x0, ANY)]
    vendor = struct.pack("<3I", b, d, c).decode()
    a, _b, c1, d1 = t[(0x1, ANY)]
    family = (a >> 8) & 0xF
    model = (a >> 4) & 0xF
    if family in (6, 15):
        model |= ((a >> 16) & 0xF) << 4
    if family == 15:
        family += (a >> 20) & 0xFF
    name = b"".join(struct.pack("<4I", *t[(leaf, ANY)]) for leaf in (0x80000002, 0x80000003, 0x80000004))
    flags = [n for i, n in enumerate(_EDX1) if d1 >> i & 1 and n != "-"]
    flags += [n for i, n in enumerate(_ECX1) if c1 >> i & 1 and n != "-"]
    _a, _b, c81, d81 = t[(0x80000001, ANY)]
    flags += [n for i, n in sorted(_EDX81.items()) if d81 >> i & 1]
    flags += [n for i, n in sorted(_ECX81.items()) if c81 >> i & 1]
    return (vendor, family, model, a & 0xF, name.rstrip(b"\0").decode().strip(), " ".join(flags))


def show_cpuinfo() -> bytes:
    K = state.K
    n = len(K.cpus)
    vendor, family, model, stepping, name, flags = _cpu_model()
    out = []
    for cpu in K.cpus:
        i = cpu.index
        out.append(
            f"processor\t: {i}\nvendor_id\t: {vendor}\ncpu family\t: {family}\n"
            f"model\t\t: {model}\nmodel name\t: {name}\nstepping\t: {stepping}\n"
            f"cpu MHz\t\t: 1000.000\ncache size\t: 4096 KB\nphysical id\t: 0\nsiblings\t: {n}\n"
            f"core id\t\t: {i}\ncpu cores\t: {n}\napicid\t\t: {i}\ninitial apicid\t: {i}\n"
            f"fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\nwp\t\t: yes\n"
            f"flags\t\t: {flags}\nbugs\t\t:\nbogomips\t: 2000.00\n"
            f"clflush size\t: 64\ncache_alignment\t: 64\n"
            f"address sizes\t: 40 bits physical, 48 bits virtual\npower management:\n\n")
    return "".join(out).encode()


def show_version() -> bytes:
    u = os.uname()
    return f"Linux version {u.release} (tinyunix@tinyunix) (python) {u.version}\n".encode()


FILESYSTEMS = b"nodev\tproc\nnodev\ttmpfs\nnodev\tpipefs\n\toverlay\n"


def show_mounts() -> bytes:
    return (b"rootfs / rootfs ro 0 0\n"
            b"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n")


def _threads_max() -> int:
    # set_max_threads: RAM / (8 * THREAD_SIZE), THREAD_SIZE 16 KiB.
    return max(20, state.K.alloc.nr_frames * 4096 // (16384 * 8))


def _pid_max() -> int:
    return state.K.pids.pid_max


SYS_KERNEL: dict[str, Callable[[], str]] = {
    "cap_last_cap": lambda: "40",
    "hostname": lambda: os.uname().nodename,
    "ngroups_max": lambda: "65536",
    "osrelease": lambda: os.uname().release,
    "ostype": lambda: "Linux",
    "pid_max": lambda: str(_pid_max()),
    "threads-max": lambda: str(_threads_max()),
    "version": lambda: os.uname().version,
}


# name -> generator of the file's contents (the /proc root's regular files).
ROOT_FILES: dict[str, Callable[[], bytes]] = {
    "cpuinfo": show_cpuinfo,
    "filesystems": lambda: FILESYSTEMS,
    "loadavg": show_loadavg,
    "meminfo": show_meminfo,
    "stat": show_stat,
    "uptime": show_uptime,
    "version": show_version,
}
