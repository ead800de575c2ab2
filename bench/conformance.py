#!/usr/bin/env python3
"""The Open POSIX Test Suite (in LTP) as a yardstick: build chosen areas,
run each test natively and under tinyunix, and write bench/CONFORMANCE.md.

    python bench/conformance.py [--ltp DIR] [--areas kill,sigaction,...]
                                [--jobs 2] [--timeout 30] [--failed]

LTP stays outside the repository: --ltp, else $LTP, else /work/ltp (either
the LTP tree or its testcases/open_posix_testsuite).  Each test
conformance/interfaces/AREA/T.c is built on its own, as the suite's
Makefiles do:

    gcc -O2 -static -pthread -I include -I AREA -o T T.c lib/common.c [AREA/LDLIBS]

into a cache directory outside the repository ($XDG_CACHE_HOME or
~/.cache, then tinyunix-conformance/); a binary newer than its source is
reused.  Each test runs in its own build directory, natively and under
`tinyunix run --timeout N`.  Exit statuses: 0 PASS, 1 FAIL, 2 UNRESOLVED,
4 UNSUPPORTED, 5 UNTESTED.  Only tests that PASS natively count: the
table gives, per area, how many pass natively and how many of those pass
under tinyunix; the failures are listed with tinyunix's status and last
line of output.  --failed re-runs only the tests that failed last time
(results.json in the cache) and keeps the rest.

Not part of `make test`: it needs LTP and takes minutes.
"""
from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TINYUNIX = os.path.join(REPO, ".venv", "bin", "tinyunix")
OUT = os.path.join(HERE, "CONFORMANCE.md")

# The signal, process and thread areas issue 11 names.
DEFAULT_AREAS = (
    "fork kill killpg raise signal sigaction sigprocmask pthread_sigmask sigpending sigsuspend "
    "sighold sigrelse sigignore sigpause sigset sigaltstack sigqueue sigwait sigwaitinfo "
    "sigtimedwait pthread_kill pthread_cancel pthread_testcancel pthread_setcancelstate "
    "pthread_setcanceltype pthread_exit pthread_join pthread_create pthread_detach "
    "sem_init sem_post sem_wait sem_timedwait sem_getvalue sem_destroy "
    "timer_create timer_delete timer_settime timer_gettime timer_getoverrun "
    "nanosleep clock_nanosleep sched_get_priority_max sched_get_priority_min "
    "sched_getparam sched_getscheduler sched_rr_get_interval sched_setparam "
    "sched_setscheduler sched_yield"
).split()

STATUS = {0: "PASS", 1: "FAIL", 2: "UNRESOLVED", 3: "UNINITIATED", 4: "UNSUPPORTED",
          5: "UNTESTED", 124: "TIMEOUT"}


def status_name(rc: Optional[int]) -> str:
    if rc is None:
        return "TIMEOUT"
    if rc < 0:
        return f"SIG{-rc}"
    if rc > 128 and rc != 124:
        return f"killed by signal {rc - 128}"
    return STATUS.get(rc, f"exit {rc}")


def suite_root(ltp: str) -> str:
    for cand in (os.path.join(ltp, "testcases", "open_posix_testsuite"), ltp):
        if os.path.isdir(os.path.join(cand, "conformance", "interfaces")):
            return cand
    sys.exit(f"conformance: no open_posix_testsuite under {ltp} (use --ltp or LTP=)")


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tinyunix-conformance")


def tests_of(root: str, area: str) -> list[str]:
    """The runnable tests of an area: T.c files, not build-only ones."""
    d = os.path.join(root, "conformance", "interfaces", area)
    names = [os.path.basename(p)[:-2] for p in glob.glob(os.path.join(d, "*.c"))]
    return sorted((n for n in names if not n.endswith("-buildonly")),
                  key=lambda n: [int(x) if x.isdigit() else x for x in n.replace("-", " ").split()])


def build(root: str, cache: str, area: str, name: str) -> Optional[str]:
    """Build one test (or reuse the cached binary); its path, or None if
    it does not compile here."""
    src_dir = os.path.join(root, "conformance", "interfaces", area)
    src = os.path.join(src_dir, name + ".c")
    out_dir = os.path.join(cache, "build", area)
    os.makedirs(out_dir, exist_ok=True)
    exe = os.path.join(out_dir, name)
    if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src):
        return exe
    failed = exe + ".build-failed"
    if os.path.exists(failed) and os.path.getmtime(failed) >= os.path.getmtime(src):
        return None
    libs: list[str] = []
    ldlibs = os.path.join(src_dir, "LDLIBS")
    if os.path.exists(ldlibs):
        libs = open(ldlibs).read().split()
    cmd = ["gcc", "-O2", "-static", "-pthread", "-w", "-I", os.path.join(root, "include"),
           "-I", src_dir, "-o", exe, src, os.path.join(root, "lib", "common.c"), *libs]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        with open(failed, "w") as f:
            f.write(r.stderr)
        return None
    return exe


def run_one(argv: list[str], cwd: str, timeout: float) -> tuple[Optional[int], str]:
    try:
        r = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"") + (e.stderr or b"")
        return None, last_line(out)
    return r.returncode, last_line(r.stdout + r.stderr)


def last_line(out: bytes) -> str:
    lines = [ln.strip() for ln in out.decode(errors="replace").splitlines() if ln.strip()]
    return lines[-1][:160] if lines else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ltp", default=os.environ.get("LTP") or "/work/ltp")
    ap.add_argument("--areas", default=",".join(DEFAULT_AREAS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per test and runner")
    ap.add_argument("--failed", action="store_true",
                    help="re-run only what failed under tinyunix last time")
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--tinyunix", default=TINYUNIX,
                    help="the tinyunix command (another checkout's, for a before/after)")
    ap.add_argument("--results", default="results.json",
                    help="file in the cache that keeps the results between runs")
    ap.add_argument("--native-from", default="",
                    help="take the native results from this results file instead of running")
    args = ap.parse_args()

    root = suite_root(args.ltp)
    cache = cache_dir()
    os.makedirs(cache, exist_ok=True)
    results_path = os.path.join(cache, args.results)
    old: dict = {}
    if os.path.exists(results_path):
        old = json.load(open(results_path))
    native_from: dict = {}
    if args.native_from:
        native_from = json.load(open(os.path.join(cache, args.native_from)))
    areas = [a for a in args.areas.split(",") if a]
    todo = [(a, n) for a in areas for n in tests_of(root, a)]
    if args.failed:
        todo = [(a, n) for a, n in todo
                if old.get(f"{a}/{n}", {}).get("native") == 0
                and old.get(f"{a}/{n}", {}).get("tinyunix") != 0]

    def one(item: tuple[str, str]) -> tuple[str, dict]:
        area, name = item
        key = f"{area}/{name}"
        exe = build(root, cache, area, name)
        if exe is None:
            return key, {"built": False}
        cwd = os.path.dirname(exe)
        prev = old.get(key, {})
        if native_from:
            prev = native_from.get(key, {})
        if native_from or (args.failed and prev.get("native") == 0):
            nat, nat_out = prev.get("native"), prev.get("native_out", "")
        else:
            nat, nat_out = run_one([exe], cwd, args.timeout)
        res = {"built": True, "native": nat, "native_out": nat_out}
        if nat == 0:
            tu, tu_out = run_one([args.tinyunix, "run", "--timeout", str(int(args.timeout)), exe],
                                 cwd, args.timeout + 15)
            res.update(tinyunix=tu, tinyunix_out=tu_out)
        print(f"{key:40s} native {status_name(nat):12s} tinyunix "
              f"{status_name(res['tinyunix']) if 'tinyunix' in res else '-'}", flush=True)
        return key, res

    with ThreadPoolExecutor(args.jobs) as pool:
        new = dict(pool.map(one, todo))
    results = {**old, **new}
    with open(results_path, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    write_report(args, root, areas, results)


def write_report(args, root: str, areas: list[str], results: dict) -> None:
    rows, failures = [], []
    tot = [0, 0, 0, 0]
    for area in areas:
        names = tests_of(root, area)
        res = [results.get(f"{area}/{n}", {}) for n in names]
        built = sum(1 for r in res if r.get("built"))
        native = [(n, r) for n, r in zip(names, res) if r.get("native") == 0]
        ok = sum(1 for _n, r in native if r.get("tinyunix") == 0)
        rows.append(f"| {area} | {len(names)} | {built} | {len(native)} | {ok} |")
        for i, v in enumerate((len(names), built, len(native), ok)):
            tot[i] += v
        for n, r in native:
            if r.get("tinyunix") != 0:
                failures.append(f"- {area}/{n}: {status_name(r.get('tinyunix'))}"
                                + (f" — `{r['tinyunix_out']}`" if r.get("tinyunix_out") else ""))
    with open(args.out, "w") as f:
        f.write("# Open POSIX Test Suite under tinyunix\n\n")
        f.write(f"Written by `python bench/conformance.py` (`make conformance`) on "
                f"{datetime.date.today()}, timeout {args.timeout:g} s per test.  Only tests "
                "that pass natively count; \"tinyunix\" is how many of those pass under "
                "`tinyunix run`.\n\n")
        f.write("| area | tests | built | pass natively | pass under tinyunix |\n")
        f.write("|---|---:|---:|---:|---:|\n")
        f.write("\n".join(rows) + "\n")
        f.write(f"| **total** | {tot[0]} | {tot[1]} | {tot[2]} | {tot[3]} |\n\n")
        f.write("## Natively passing tests that fail under tinyunix\n\n")
        f.write("\n".join(failures) + "\n" if failures else "None.\n")
    print(f"\n{tot[3]}/{tot[2]} natively passing tests pass under tinyunix; see {args.out}")


if __name__ == "__main__":
    main()
