"""Event counters for --stats (Linux's vm_event_item, kernel-wide): one
VmStat per machine, state.K.vmstat."""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(eq=False, slots=True)
class VmStat:
    pgfault_zero: int = 0      # read of untouched anonymous memory: zero page mapped
    pgfault_anon: int = 0      # first write: a fresh zeroed frame
    pgfault_file: int = 0      # file page mapped from the page cache
    pgfault_shared: int = 0    # MAP_SHARED page mapped
    cow_copy: int = 0          # write to a shared copy-on-write page: copied
    cow_reuse: int = 0         # ... last reference: reused in place
    pgfault_segv: int = 0      # fault with no valid mapping: SIGSEGV
    pgfault_kernel: int = 0    # faults taken by uaccess on the guest's behalf
    pgcache_read: int = 0      # file pages read into the page cache (a frame each)
    pgcache_dropped: int = 0   # clean unmapped page-cache frames dropped under pressure
    oom_reaped: int = 0        # pages the OOM reaper freed before their owner exited
    pgzero_ahead: int = 0      # free frames the zeroing kworker cleared ahead of time

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
