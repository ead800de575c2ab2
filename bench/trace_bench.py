#!/usr/bin/env python3
"""The cost of tracing: a getpid loop (bench/getpid.c) natively, under
strace -f, and under tinyunix without tracing, with --trace, with
--events.  Time per syscall is (t_large - t_small) / (N_large - N_small)
(start-up cancels out), each the minimum of a few repeats; the trace goes
to /dev/null on every side.  Writes bench/TRACE.md.

    python bench/trace_bench.py [--quick]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PROG = os.path.join(HERE, "build", "getpid")
TINYUNIX = os.path.join(REPO, ".venv", "bin", "tinyunix")

RUNNERS = [
    ("native", [], (200_000, 2_000_000)),
    ("strace -f (native)", ["strace", "-f", "-o", "/dev/null"], (20_000, 200_000)),
    ("tinyunix", [TINYUNIX, "run"], (100_000, 1_000_000)),
    ("tinyunix --trace", [TINYUNIX, "run", "--trace-file", "/dev/null"], (10_000, 100_000)),
    ("tinyunix --events", [TINYUNIX, "run", "--events", "/dev/null"], (10_000, 100_000)),
]


def timed(cmd: list, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       timeout=600)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(PROG):
        subprocess.run(["make", "-C", HERE, "build/getpid"], check=True)
    div, repeats = (5, 1) if a.quick else (1, 3)
    rows = []
    for name, pre, (small, large) in RUNNERS:
        if pre and pre[0] == "strace" and shutil.which("strace") is None:
            rows.append((name, None))
            continue
        large //= div
        t_s = timed(pre + [PROG, str(small)], repeats)
        t_l = timed(pre + [PROG, str(large)], repeats)
        rows.append((name, (t_l - t_s) / (large - small) * 1e6))
        print(f"{name:22s} {rows[-1][1]:8.3f} us/syscall", file=sys.stderr)
    base = dict(rows)["tinyunix"]
    nat = dict(rows)["native"]
    lines = ["# The cost of tracing (bench/trace_bench.py)", "",
             "A getpid loop; microseconds per syscall; each the best of "
             f"{repeats} runs on a shared machine (compare ratios).", "",
             "| runner | µs/syscall | vs untraced |", "| --- | ---: | ---: |"]
    for name, us in rows:
        if us is None:
            lines.append(f"| {name} | not installed | |")
            continue
        ref = nat if "native" in name else base
        lines.append(f"| {name} | {us:.3f} | {us / ref:.1f}x |")
    with open(os.path.join(HERE, "TRACE.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
