#!/usr/bin/env python3
"""Run the bench guests natively, under qemu-user and under tinyunix; write
bench/RESULTS.md.

Each workload binary takes an iteration count.  Every runner runs it at a
small and a large count, timing the whole process (wall clock); the time per
operation is (t_large - t_small) / (N_large - N_small), so process start-up
(and for tinyunix, emulator start-up) cancels out.  Each time is the minimum
of a few repeats.  tinyunix gets smaller counts than the others (it is
expected to be 10-100x slower at process work); the counts are in RESULTS.md.

A runner that fails, is missing or times out is recorded as such in the table;
the run itself never fails because of it.  Benchmarks, not tests.

    python bench/run.py [--quick] [--only NAME[,NAME...]] [--runners native,qemu,tinyunix]
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BUILD = os.path.join(HERE, "build")
RESULTS = os.path.join(HERE, "RESULTS.md")
TINYUNIX = os.path.join(REPO, ".venv", "bin", "tinyunix")
QEMU_NAME = "qemu-x86_64-static"
QEMU_MISSING = "qemu-user not installed (apt-get install qemu-user-static)"

COW_PAGES = 4096        # cow_fault.c: 16 MiB
ALIVE = 1000            # procs_alive.c default

# name, binary, extra args, what one operation is, counts per runner
# (small, large), and the group --only matches.  Counts are chosen so that the
# whole run stays within ~10 minutes on a 2-core machine.
WORKLOADS = [
    dict(name="cpu_loop", bin="cpu_loop", op="loop iteration (9 insns)",
         native=(20_000_000, 200_000_000), qemu=(20_000_000, 200_000_000),
         tinyunix=(10_000_000, 100_000_000)),
    dict(name="threads_cpu", bin="threads_cpu", op="loop iteration, 2 threads contending",
         native=(20_000_000, 200_000_000), qemu=(20_000_000, 200_000_000),
         tinyunix=(10_000_000, 100_000_000)),
    dict(name="getpid", bin="getpid", op="syscall(SYS_getpid)",
         native=(100_000, 1_000_000), qemu=(100_000, 1_000_000), tinyunix=(200_000, 2_200_000)),
    dict(name="fork_exit_wait", bin="fork_exit_wait", op="fork + _exit + waitpid",
         native=(200, 2_000), qemu=(100, 1_000), tinyunix=(200, 2_200)),
    dict(name="cow_fault", bin="cow_fault", op="fork, child writes 4096 pages, wait",
         native=(2, 20), qemu=(2, 20), tinyunix=(2, 10)),
    dict(name="cow_fork0", group="cow_fault", bin="cow_fault", args=["0"],
         op="same fork of 16 MiB, child writes 0 pages",
         native=(2, 20), qemu=(2, 20), tinyunix=(2, 10)),
    dict(name="fork_big", bin="fork_big", op="fork of 256 MiB resident + _exit + wait",
         native=(5, 50), qemu=(5, 30), tinyunix=(1, 4)),
    dict(name="thread_create_join", bin="thread_create_join", op="pthread_create + join",
         native=(500, 5_000), qemu=(200, 2_000), tinyunix=(200, 2_200)),
    dict(name="futex_pingpong", bin="futex_pingpong", op="futex round trip (2 wakes)",
         native=(2_000, 20_000), qemu=(2_000, 20_000), tinyunix=(2_000, 22_000)),
    dict(name="pipe_pingpong", bin="pipe_pingpong", op="pipe round trip (2 switches)",
         native=(2_000, 20_000), qemu=(2_000, 20_000), tinyunix=(2_000, 22_000)),
    dict(name="fork_exec_wait", bin="fork_exec_wait", op="fork + execve(true_static) + wait",
         native=(100, 1_000), qemu=(20, 200), tinyunix=(20, 220)),
    dict(name="fork_exec_dyn", group="fork_exec_wait", bin="fork_exec_wait", args=["/bin/true"],
         exec="/bin/true", op="fork + execve(/bin/true, dynamically linked) + wait",
         native=(100, 1_000), qemu=(20, 200), tinyunix=(10, 60)),
    dict(name="procs_alive", bin="procs_alive", op=f"round: {ALIVE} children alive, released, reaped",
         native=(1, 4), qemu=(1, 3), tinyunix=(1, 2)),
    dict(name="sig_roundtrip", bin="sig_roundtrip", op="raise + handler + rt_sigreturn",
         native=(20_000, 200_000), qemu=(10_000, 100_000), tinyunix=(2_000, 22_000)),
    dict(name="sig_pingpong", bin="sig_pingpong", op="kill/sigsuspend round trip, 2 processes",
         native=(2_000, 20_000), qemu=(2_000, 20_000), tinyunix=(1_000, 11_000)),
    dict(name="pause_teardown", bin="pause_teardown", op="per child: fork, pause(), kill, reap",
         native=(50, 500), qemu=(50, 500), tinyunix=(50, 500)),
    dict(name="procs_churn", bin="procs_churn", op="fork + _exit + waitpid, 40,000 in turn",
         native=(4_000, 40_000), qemu=(4_000, 40_000), tinyunix=(4_000, 40_000), repeats=1),
]
QUICK_DIV = 5           # --quick divides the large counts (and small ones where > 1)
REPEATS = dict(native=3, qemu=2, tinyunix=1)
TIMEOUT = dict(native=120, qemu=240, tinyunix=60)    # per run; procs_churn: x5
BUDGET = 600            # s; past it, remaining tinyunix runs are skipped


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


class Runner:
    def __init__(self, name):
        self.name = name
        self.missing = None             # reason, when it cannot run at all
        if name == "qemu":
            self.qemu = shutil.which(QEMU_NAME)
            if not self.qemu:
                self.missing = QEMU_MISSING
        if name == "tinyunix" and not os.access(TINYUNIX, os.X_OK):
            self.missing = "not installed (.venv/bin/tinyunix missing: make setup)"

    def command(self, w, n):
        binary = os.path.join(BUILD, w["bin"])
        args = [str(n)] + w.get("args", [])
        if w["bin"] == "fork_exec_wait" and self.name == "qemu":
            # qemu-user would run the exec'd x86-64 program natively: exec it through qemu.
            args = [str(n), self.qemu, w.get("exec", os.path.join(BUILD, "true_static"))]
        if self.name == "native":
            return [binary] + args
        if self.name == "qemu":
            return [self.qemu, binary] + args
        return [TINYUNIX, "run", binary] + args


def run_once(runner, w, n):
    """Wall time of one run; (seconds, None, stdout) or (None, reason, stderr tail)."""
    cmd = runner.command(w, n)
    limit = TIMEOUT[runner.name] * (5 if w["name"] == "procs_churn" else 1)
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, errors="replace", timeout=limit)
    except subprocess.TimeoutExpired:
        return None, f"timed out (>{limit} s at N={n})", ""
    except OSError as e:
        return None, f"failed ({e.strerror})", ""
    dt = time.perf_counter() - t
    if p.returncode != 0:
        return None, f"failed (exit {p.returncode})", (p.stderr or p.stdout)[-600:]
    return dt, None, p.stdout


def measure(runner, w, quick):
    small, large = w[runner.name]
    if quick:
        large = max(2, large // QUICK_DIV)
        small = max(1, small // QUICK_DIV) if small > 1 else small
        if small >= large:
            small = 1
    repeats = 1 if quick else w.get("repeats", REPEATS[runner.name])
    res = dict(counts=(small, large))
    times = {}
    for n in (small, large):
        best = None
        for _ in range(repeats):
            dt, err, out = run_once(runner, w, n)
            if err:
                res.update(error=err, detail=out.strip())
                return res
            best = dt if best is None else min(best, dt)
        times[n] = best
        res["stdout"] = out.strip()
    res["t_small"], res["t_large"] = times[small], times[large]
    res["per_op"] = (times[large] - times[small]) / (large - small)
    return res


def raw_unicorn(quick, with_tinyunix):
    """bench/raw_unicorn.py --json, with a Python that has unicorn."""
    py = sys.executable
    try:
        import unicorn  # noqa: F401
    except ImportError:
        py = os.path.join(REPO, ".venv", "bin", "python")
    cmd = [py, os.path.join(HERE, "raw_unicorn.py"), "--json"] + (["--quick"] if quick else [])
    if with_tinyunix:
        cmd.append("--with-tinyunix")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return dict(error=f"failed ({e})")
    if p.returncode != 0:
        return dict(error=f"failed (exit {p.returncode})", detail=p.stderr[-600:])
    return json.loads(p.stdout)


def mm_micro():
    """bench/mm_micro.py --json: dup_mmap/exit_mmap of 256 MiB resident, in process."""
    py = os.path.join(REPO, ".venv", "bin", "python")
    if not os.access(py, os.X_OK):
        py = sys.executable
    try:
        p = subprocess.run([py, os.path.join(HERE, "mm_micro.py"), "--json"],
                           capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return dict(error=f"failed ({e})")
    if p.returncode != 0:
        return dict(error=f"failed (exit {p.returncode})", detail=p.stderr[-600:])
    return json.loads(p.stdout)


def fmt_t(s):
    if s is None:
        return "-"
    a = abs(s)
    if a < 1e-6:
        return f"{s * 1e9:.2f} ns"
    if a < 1e-3:
        return f"{s * 1e6:.2f} µs"
    if a < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_r(a, b):
    if a is None or b is None or b <= 0 or a <= 0:
        return "-"
    r = a / b
    return f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


def cell(res, key="per_op"):
    if res is None:
        return "not run"
    if "missing" in res:
        return res["missing"]
    if "error" in res:
        return res["error"]
    return fmt_t(res.get(key))


def derived_rows(results):
    """Rows computed from two workloads: per CoW page, per process alive."""
    rows = []
    full, zero = results.get("cow_fault", {}), results.get("cow_fork0", {})
    per_page = {}
    for r in full:
        a, b = full[r], zero.get(r)
        if a and b and "per_op" in a and "per_op" in b:
            per_page[r] = dict(per_op=(a["per_op"] - b["per_op"]) / COW_PAGES)
        else:
            bad = a if a and "per_op" not in a else b
            per_page[r] = bad if bad else None
    if full:
        rows.append(("cow_fault/page", "one CoW fault (cow_fault - cow_fork0) / 4096", per_page))
    alive = results.get("procs_alive", {})
    if alive:
        per_proc = {r: (dict(per_op=v["per_op"] / ALIVE) if v and "per_op" in v else v)
                    for r, v in alive.items()}
        rows.append(("procs_alive/proc", f"one process of {ALIVE} alive at once", per_proc))
    return rows


def table(results, raw, runners):
    head = ["workload", "one operation", "native", "qemu-user", "tinyunix",
            "tinyunix/native", "tinyunix/qemu", "qemu/native"]
    rows = []
    allrows = [(w["name"], w["op"], results[w["name"]]) for w in WORKLOADS if w["name"] in results]
    allrows += derived_rows(results)
    for name, op, res in allrows:
        v = {r: (res.get(r) or {}).get("per_op") for r in ("native", "qemu", "tinyunix")}
        rows.append([name, op, cell(res.get("native")), cell(res.get("qemu")),
                     cell(res.get("tinyunix")), fmt_r(v["tinyunix"], v["native"]),
                     fmt_r(v["tinyunix"], v["qemu"]), fmt_r(v["qemu"], v["native"])])
    return head, rows


def raw_rows(results, raw):
    if raw is None:
        return []
    if "error" in raw:
        return [["raw Unicorn", raw["error"], "-", "-"]]
    tu = lambda n: ((results.get(n) or {}).get("tinyunix") or {}).get("per_op")  # noqa: E731
    cpu_tu, pid_tu, thr_tu = tu("cpu_loop"), tu("getpid"), tu("threads_cpu")
    # The loop rows use tinyunix figures measured in turn with the raw
    # engine (same counts, same minutes) when raw_unicorn.py took them.
    if raw.get("tinyunix_cpu_loop_ns_per_iter"):
        cpu_tu = raw["tinyunix_cpu_loop_ns_per_iter"] * 1e-9
        thr_tu = raw["tinyunix_threads_cpu_ns_per_iter"] * 1e-9
    if raw.get("tinyunix_getpid_us"):
        pid_tu = raw["tinyunix_getpid_us"] * 1e-6
    paged = raw["cpu_loop_paged_ns_per_iter"] * 1e-9
    loop = raw["cpu_loop_ns_per_iter"] * 1e-9
    floor = raw["syscall_empty_hook_us"] * 1e-6
    rw = raw["syscall_rw_hook_us"] * 1e-6
    return [
        ["cpu_loop, paged engine at CPL 3 (as emu/machine.py), same machine code",
         f"{fmt_t(paged)} / iteration ({raw['cpu_loop_paged_minsn_per_s']:.0f} M insns/s)",
         fmt_t(cpu_tu) if cpu_tu else "-", fmt_r(cpu_tu, paged)],
        ["threads_cpu (2 threads, time-sliced), paged engine running the loop alone",
         f"{fmt_t(paged)} / iteration", fmt_t(thr_tu) if thr_tu else "-", fmt_r(thr_tu, paged)],
        ["cpu_loop, flat engine (no paging), same machine code",
         f"{fmt_t(loop)} / iteration ({raw['cpu_loop_minsn_per_s']:.0f} M insns/s)",
         fmt_t(cpu_tu) if cpu_tu else "-", fmt_r(cpu_tu, loop)],
        ["syscall with an empty Python UC_HOOK_INSN hook, paged engine (getpid floor)",
         fmt_t(floor), fmt_t(pid_tu) if pid_tu else "-", fmt_r(pid_tu, floor)],
        ["syscall with a hook doing 1 reg_read + 1 reg_write", fmt_t(rw), "-", "-"],
    ]


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def text_table(head, rows):
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def host_info(runners):
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    info = [f"- host: {cpu or platform.processor()}, {os.cpu_count()} CPUs, "
            f"Linux {platform.release()}, Python {platform.python_version()}"]
    q = next((r for r in runners if r.name == "qemu"), None)
    if q and not q.missing:
        info.append(f"- qemu-user: {sh([q.qemu, '--version']).splitlines()[0]}")
    elif q:
        info.append(f"- qemu-user: {q.missing}")
    try:
        import unicorn
        info.append(f"- Unicorn {unicorn.__version__} (Python binding)")
    except ImportError:
        pass
    thp = sh(["cat", "/sys/kernel/mm/transparent_hugepage/enabled"])
    if thp:
        info.append(f"- transparent huge pages: `{thp}` (the big-memory guests madvise(MADV_NOHUGEPAGE))")
    rev = sh(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    if rev:
        info.append(f"- tinyunix commit: {rev}")
    return info


def write_results(results, raw, runners, args, elapsed, mm=None):
    head, rows = table(results, raw, runners)
    lines = [
        "# tinyunix benchmarks",
        "",
        f"Written by `bench/run.py{' --quick' if args.quick else ''}"
        f"{' --only ' + args.only if args.only else ''}` on "
        f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} in {elapsed:.0f} s. "
        "Regenerate with `make bench`.",
        "",
        *host_info(runners),
        "",
        "Time per operation = (wall time at N_large - wall time at N_small) / "
        "(N_large - N_small), whole processes, minimum of "
        f"{'1' if args.quick else '3 (native), 2 (qemu-user), 1 (tinyunix)'} run(s) "
        "per count; start-up cancels out. Shared machine: compare ratios from "
        "one run, not absolute figures across runs.",
        "",
        "## Per operation",
        "",
        md_table(head, rows),
        "",
    ]
    rr = raw_rows(results, raw)
    if rr:
        lines += ["## Against raw Unicorn (bench/raw_unicorn.py)", "",
                  "A Unicorn x86-64 engine set up as emu/machine.py sets up a vCPU "
                  "(long mode, 4-level page tables, UC_TLB_CPU, entered at CPL 3 by "
                  "iretq) with no kernel and no hooks (except the syscall hook rows); "
                  "the flat row is a bare UC_MODE_64 engine without paging, for the "
                  "record. The cpu_loop code is the bytes of `cpu_loop_kernel` read out "
                  "of bench/build/cpu_loop. The tinyunix cpu_loop, threads_cpu and getpid "
                  "figures in this table were measured in turn with the raw engine's "
                  "loop or syscall floor at the same counts (raw_unicorn.py "
                  "--with-tinyunix), so the ratio is not skewed by the load of other "
                  "minutes; they can differ from the per-operation table's. Target: tinyunix cpu_loop >= 0.9 of the "
                  "paged raw speed (ratio <= 1.11x); getpid within 2x of the "
                  "empty-hook floor.", "",
                  md_table(["baseline", "raw Unicorn", "tinyunix", "tinyunix/raw"], rr), ""]
    if mm is not None:
        lines += ["## fork of 256 MiB resident: the page-table work alone (bench/mm_micro.py)", ""]
        if "error" in mm:
            lines += [f"- mm_micro.py: {mm['error']}: `{mm.get('detail', '')[-300:]}`", ""]
        else:
            lines += [
                "In process, no guest: an mm with 256 MiB of private anonymous memory "
                "written, then dup_mmap (fork's copy_page_range) and exit_mmap of the "
                "copy (zap_page_range, table frees); minimum of 5. Target: page-table "
                "frames only (< 1 % of resident), time proportional to the PTEs.", "",
                md_table(["step", "time", "per PTE", "frames allocated"], [
                    ["dup_mmap (fork)", fmt_t(mm["fork_s"]), f"{mm['fork_ns_per_pte']:.0f} ns",
                     f"{mm['frames_per_fork']} = {mm['frames_per_fork_pct']:.2f} % of "
                     f"{mm['resident_frames']} resident"],
                    ["exit_mmap (child exit)", fmt_t(mm["exit_s"]),
                     f"{mm['exit_ns_per_pte']:.0f} ns", "0"],
                ]), ""]
    # counts
    crow = []
    for w in WORKLOADS:
        if w["name"] not in results:
            continue
        c = []
        for r in runners:
            res = results[w["name"]].get(r.name) or {}
            c.append("{} / {}".format(*res["counts"]) if "counts" in res else "-")
        crow.append([w["name"]] + c)
    lines += ["## Counts (N_small / N_large)", "",
              "tinyunix runs smaller counts than native and qemu-user on purpose: it "
              "is expected to be 10-100x slower at process work, and the whole run "
              "must stay near 10 minutes. procs_churn keeps 40,000 everywhere (the "
              "point is the pid wrap past pid_max 32768)" +
              (" except under --quick, where it does not wrap." if args.quick else "."), "",
              md_table(["workload"] + [r.name for r in runners], crow), ""]
    # notes and failures
    notes = [
        "- cow_fault/page is (cow_fault - cow_fork0) per iteration / 4096: the same "
        "fork of a 16 MiB resident process with the child writing one byte per page, "
        "minus the same fork with the child writing none.",
        "- fork_big: the frames a fork allocates are in the mm_micro section above; "
        "`tinyunix run --stats bench/build/fork_big N` prints 'frames allocated' too "
        "(difference between two N, divided by the difference).",
        "- threads_cpu: natively and under qemu-user the two threads run on two host "
        "cores at once; under tinyunix they share one vCPU, switched every 50,000 "
        "basic blocks by the C block hook. Its tinyunix/raw row is what "
        "deterministic preemption costs against the loop run alone on the raw "
        "paged engine; cpu_loop is the lone-task case (no block hook).",
        "- Profiles of the hot paths, and what dominates each: bench/PROFILE.md.",
        "- Where tinyunix is slower than qemu-user, and why (details in PROFILE.md): "
        "cpu_loop -- Unicorn's translated code calls helper_check_exit_request at "
        "every block and its TB lookup is slower than qemu-user's; the raw paged "
        "engine is as slow (the raw table). futex_pingpong and pipe_pingpong -- a "
        "round trip is ~4 syscalls and 2 context switches of Python kernel work "
        "(read/write, uaccess, wait queues, the run loop); the switch mechanics "
        "(context save/restore, CR3) are one C call. cow_fault, cow_fork0, fork_big -- "
        "Python work per page: the fault path per CoW break, and one refcount and "
        "one mapcount update per frame in fork and exit (the PTEs themselves are "
        "rewritten a whole table page at a time). The native and qemu-user figures of "
        "the two ping-pongs vary several-fold between runs with the host's load "
        "(they measure cross-core wake-ups): compare ratios within one run.",
        "- fork_exec_wait execs bench/build/true_static, a 2-instruction static "
        "program without libc (exit_group(0)). Under qemu-user the child execs "
        "`qemu-x86_64-static true_static`, i.e. the emulated exec a binfmt_misc "
        "setup would do; a bare execve under qemu-user runs an x86-64 program "
        "natively on this host.",
        "- procs_alive/proc is one round / 1000.",
        "- Raw Unicorn, flat vs paged: the flat engine (no CR0.PG) runs cpu_loop "
        "~6-7x slower than the paged one. perf shows why: without paging every "
        "guest store leaves the translated code for the softmmu slow path "
        "(helper_le_stq_mmu -> notdirty_write -> tb_invalidate_phys_page_fast and "
        "a memory-region lookup, ~60 % of samples); Unicorn stubs out QEMU's "
        "dirty-memory bitmap, so RAM always looks 'clean for code' and a TLB entry "
        "marked NOTDIRTY never becomes dirty. With CR0.PG set (CPL 0 or 3) the same "
        "store runs inline in the translated code (which Unicorn path makes the "
        "difference was not traced). "
        "So the paged engine is the baseline. Details in bench/PROFILE.md.",
        "- procs_churn vs fork_exit_wait: the same operation after 40,000 "
        "processes rather than 2,000; a per-op figure that grows would mean a leak "
        "of tasks, pids or frames.",
    ]
    for w in WORKLOADS:
        for r in runners:
            res = (results.get(w["name"]) or {}).get(r.name) or {}
            if w["name"] == "procs_churn" and res.get("stdout"):
                notes.append(f"- procs_churn under {r.name}: `{res['stdout'].splitlines()[-1]}`")
    fails, seen = [], {}
    for w in WORKLOADS:
        for r in runners:
            res = (results.get(w["name"]) or {}).get(r.name) or {}
            if "error" in res:
                d = res.get("detail", "").strip().replace("\n", " | ")
                if d and seen.get(r.name) == d:
                    d = "same message as above"
                else:
                    seen[r.name] = d
                fails.append(f"- {w['name']} under {r.name}: {res['error']}" +
                             (f": `{d[-300:]}`" if d else ""))
    if raw and "error" in raw:
        fails.append(f"- raw_unicorn.py: {raw['error']}: {raw.get('detail', '')[-300:]}")
    lines += ["## Notes", ""] + notes + [""]
    if fails:
        lines += ["## Failures", ""] + fails + [""]
    with open(RESULTS, "w") as f:
        f.write("\n".join(lines))
    return head, rows, rr


def main():
    ap = argparse.ArgumentParser(description="tinyunix benchmarks: native, qemu-user, tinyunix")
    ap.add_argument("--quick", action="store_true", help=f"counts / {QUICK_DIV}, one repeat")
    ap.add_argument("--only", metavar="NAME[,NAME]", help="only these workloads (cow_fault "
                    "includes cow_fork0; 'raw' selects only the raw-Unicorn baseline)")
    ap.add_argument("--runners", default="native,qemu,tinyunix",
                    help="comma-separated subset of native,qemu,tinyunix")
    args = ap.parse_args()

    t0 = time.perf_counter()
    mk = subprocess.run(["make", "-s", "-C", HERE], capture_output=True, text=True)
    if mk.returncode != 0:
        sys.exit(f"make -C bench failed:\n{mk.stderr}")
    runners = [Runner(n) for n in args.runners.split(",") if n]
    for r in runners:
        if r.name not in REPEATS:
            sys.exit(f"unknown runner {r.name}")
        if r.missing:
            print(f"{r.name}: {r.missing}", file=sys.stderr)
    only = set(args.only.split(",")) if args.only else None
    known = {w["name"] for w in WORKLOADS} | {w.get("group") for w in WORKLOADS} | {"raw"}
    if only and only - known:
        sys.exit(f"unknown workload(s): {', '.join(sorted(only - known))}; "
                 f"known: {', '.join(w['name'] for w in WORKLOADS)}, raw")

    results = {}
    for w in WORKLOADS:
        if only and w["name"] not in only and w.get("group") not in only:
            continue
        results[w["name"]] = {}
        for r in runners:
            if r.missing:
                results[w["name"]][r.name] = dict(missing=r.missing if r.name != "qemu"
                                                  else "qemu-user not installed")
                continue
            if r.name == "tinyunix" and time.perf_counter() - t0 > BUDGET:
                results[w["name"]][r.name] = dict(error=f"skipped (run past {BUDGET} s)")
                continue
            print(f"{w['name']:20s} {r.name:9s} ...", end="", flush=True, file=sys.stderr)
            res = measure(r, w, args.quick)
            results[w["name"]][r.name] = res
            print(f" {cell(res)}  (N {res['counts'][0]}/{res['counts'][1]})"
                  if "counts" in res else f" {cell(res)}", file=sys.stderr)
    raw = None
    if not only or only & {"raw", "cpu_loop", "getpid", "threads_cpu"}:
        print("raw Unicorn baselines ...", end="", flush=True, file=sys.stderr)
        raw = raw_unicorn(args.quick, any(r.name == "tinyunix" and not r.missing for r in runners))
        print(" done" if "error" not in raw else " " + raw["error"], file=sys.stderr)

    mm = None
    if any(r.name == "tinyunix" for r in runners) and (not only or "fork_big" in only):
        print("mm_micro (fork of 256 MiB, page tables only) ...", end="", flush=True, file=sys.stderr)
        mm = mm_micro()
        print(" done" if "error" not in mm else " " + mm["error"], file=sys.stderr)

    head, rows, rr = write_results(results, raw, runners, args, time.perf_counter() - t0, mm)
    print()
    print(text_table(head, rows))
    if rr:
        print()
        print(text_table(["raw-Unicorn baseline", "raw Unicorn", "tinyunix", "tinyunix/raw"], rr))
    print(f"\nwrote {os.path.relpath(RESULTS)} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
