"""--stats: what the kernel did, printed at exit."""
from __future__ import annotations

from typing import IO

from .sched.core import blocks_run, syscalls_run
from .state import KernelState, entered


def print_stats(K: KernelState, out: IO[str]) -> None:
    with entered(K):
        _print_stats(K, out)


def _print_stats(K: KernelState, out: IO[str]) -> None:
    c = K.counters
    v = K.vmstat
    lines = [
        "--- tinyunix stats ---",
        f"basic blocks counted: {blocks_run()} (counted only while time-slicing)",
        f"syscalls: {syscalls_run()}",
        f"page faults: zero-page {v.pgfault_zero}, anonymous {v.pgfault_anon}, "
        f"file {v.pgfault_file}, shared {v.pgfault_shared}, CoW copy {v.cow_copy}, "
        f"CoW reuse {v.cow_reuse}, segv {v.pgfault_segv} (kernel-mode {v.pgfault_kernel})",
        f"forks: {c['forks']}  execs: {c['execs']}  "
        f"context switches: {sum(cpu.nr_switches for cpu in K.cpus)}",
        f"page cache: {v.pgcache_read} file pages read in (one frame each, shared by every "
        f"mapping), {v.pgcache_dropped} dropped under memory pressure; anonymous: "
        f"{v.pgfault_anon} zero-filled, {v.cow_copy} CoW copies",
        f"frames in use: {K.alloc.nr_used() - 1} (of {K.alloc.nr_free_at_boot}; zero page not counted)",
        f"frames allocated: {K.alloc.allocs} (since boot, page tables included)",
    ]
    out.write("\n".join(lines) + "\n")
