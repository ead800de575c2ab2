#!/usr/bin/env python3
"""In-process micro-benchmark of the fork and exit paths of the mm: an
address space with MIB MiB (default 256) of private anonymous memory
written (so resident, one frame per page), then R times: dup_mmap (fork's
copy_page_range) and exit_mmap of the copy (zap_page_range + freeing the
tables).  No guest, no Unicorn run: only the kernel's Python, so the
figures are those of the page-table code alone.

Prints the time per dup_mmap and per exit_mmap (minimum over R), per PTE,
and the frames one dup_mmap allocates against the resident frames (the
target: page-table frames only, under 1 %).

    python bench/mm_micro.py [--mib 256] [--repeats 5] [--json]
"""
import argparse
import json
import os
import sys
import time

sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from emu.paging import PAGE_SIZE                         # noqa: E402
from kernel.main import boot                             # noqa: E402
from kernel.mm.memory import FAULT_WRITE, VM_READ, VM_WRITE, handle_mm_fault  # noqa: E402
from kernel.mm.mmap import new_mm                        # noqa: E402
from kernel.state import Options, entered                # noqa: E402


def measure(mib: int, repeats: int) -> dict:
    K = boot(Options(memory=(mib + 64) << 20))
    with entered(K):
        return _measure(K, mib, repeats)


def _measure(K, mib: int, repeats: int) -> dict:
    alloc = K.alloc
    pml4e = K.machine.kernel_pml4e
    mm = new_mm(alloc, pml4e, None)
    pages = (mib << 20) // PAGE_SIZE
    va = mm.do_mmap(0, pages * PAGE_SIZE, VM_READ | VM_WRITE, False)
    for k in range(pages):
        handle_mm_fault(mm, va + k * PAGE_SIZE, FAULT_WRITE)
    resident = pages                    # one frame per page written
    fork_s, exit_s, frames = [], [], []
    for _ in range(repeats):
        a0 = alloc.allocs
        t = time.perf_counter()
        child = mm.dup_mmap(pml4e)
        fork_s.append(time.perf_counter() - t)
        frames.append(alloc.allocs - a0)
        t = time.perf_counter()
        child.exit_mmap()
        exit_s.append(time.perf_counter() - t)
        # The parent's pages are now CoW-protected: the next fork finds
        # them read-only, as every fork after the first does in fork_big.
    mm.exit_mmap()
    return dict(mib=mib, ptes=pages, resident_frames=resident,
                fork_s=min(fork_s), exit_s=min(exit_s),
                fork_ns_per_pte=min(fork_s) / pages * 1e9,
                exit_ns_per_pte=min(exit_s) / pages * 1e9,
                frames_per_fork=max(frames),
                frames_per_fork_pct=100.0 * max(frames) / resident)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    r = measure(a.mib, a.repeats)
    if a.json:
        print(json.dumps(r))
        return
    print(f"{r['mib']} MiB resident ({r['ptes']} PTEs, {r['resident_frames']} frames)")
    print(f"  dup_mmap  {r['fork_s'] * 1e3:8.2f} ms  ({r['fork_ns_per_pte']:.0f} ns/PTE), "
          f"allocates {r['frames_per_fork']} frames = {r['frames_per_fork_pct']:.2f} % of resident")
    print(f"  exit_mmap {r['exit_s'] * 1e3:8.2f} ms  ({r['exit_ns_per_pte']:.0f} ns/PTE)")


if __name__ == "__main__":
    main()
