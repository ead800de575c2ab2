#!/usr/bin/env python3
"""The Machine API's costs (issue 13): the step hook's price on a run, the
time of a snapshot and of a restore against resident size, and the time to
step back one instruction late in a long run.  Prints a Markdown table.

    .venv/bin/python bench/machine_bench.py
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
BUILD = os.path.join(HERE, "build")

from tinyunix.machine import Machine  # noqa: E402


def best(fn, n=3):
    return min(_timed(fn) for _ in range(n))


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    loop = os.path.join(BUILD, "cpu_loop")
    iters = 2_000_000
    plain = best(lambda: subprocess.run([os.path.join(os.path.dirname(HERE), ".venv/bin/tinyunix"),
                                         "run", loop, str(iters)], capture_output=True), 2)

    def hooked():
        with Machine([loop, str(iters)], snapshot_every=0) as m:
            m.run()
    with_hook = best(hooked, 2)
    with Machine([loop, str(iters)], snapshot_every=0) as m:
        insns = m.run().insns
    rows = [("run cpu_loop %d (%.1f M instructions), tinyunix run" % (iters, insns / 1e6), f"{plain:.2f} s"),
            ("same run as a Machine (step hook counting every instruction)", f"{with_hook:.2f} s")]

    for name, argv in (("hello (small)", [os.path.join(os.path.dirname(HERE), "guest/build/hello")]),
                       ("cow_fault, 16 MiB resident", [os.path.join(BUILD, "cow_fault"), "0"])):
        with Machine(argv, snapshot_every=0) as m:
            m.run_until("syscall_enter", name="exit_group")
            snaps = []
            t_snap = best(lambda: snaps.append(m.snapshot()), 5)
            t_rest = best(lambda: m.restore(snaps[0]), 5)
        rows.append((f"snapshot, {name}", f"{t_snap * 1e3:.1f} ms"))
        rows.append((f"restore, {name}", f"{t_rest * 1e3:.1f} ms"))

    for every in (200_000, 1_000_000):
        with Machine([loop, str(5_000_000)], snapshot_every=every) as m:
            end = m.run_until("syscall_enter", name="write")
            m.goto(insn=end.insns - 10)
            t_back = best(lambda: m.back(), 3)
            rows.append((f"back one instruction at {end.insns / 1e6:.1f} M, snapshot every {every:,}",
                         f"{t_back * 1e3:.0f} ms"))
    print("| what | time |\n|---|---|")
    for a, b in rows:
        print(f"| {a} | {b} |")


if __name__ == "__main__":
    main()
