"""`tinyunix run [OPTIONS] PROGRAM [ARGS...]`: run a static x86-64 Linux
program as a guest with the host's stdio, environment and cwd; exit with
its status (128+N when killed by signal N)."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Optional


def parse_size(s: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    s = s.strip().lower().rstrip("b")
    if s and s[-1] in units:
        return int(float(s[:-1]) * units[s[-1]])
    return int(s)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyunix", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a guest program")
    r.add_argument("--root", default="/", help="guest's view of the file system (read-only)")
    r.add_argument("--stats", action="store_true", help="print kernel statistics at exit")
    r.add_argument("--trace", action="store_const", const="default", default=None,
                   help="print what the guest does, as strace -f does, to stderr: "
                        "--trace (syscall,signal,exec,exit) or --trace=CLASS,... "
                        "from syscall,signal,fault,sched,exec,exit (or all)")
    r.add_argument("--trace=", dest="trace", help=argparse.SUPPRESS)   # see main()
    r.add_argument("--trace-file", metavar="FILE", help="write the trace to FILE")
    r.add_argument("--trace-pid-prefix", action="store_true", help=argparse.SUPPRESS)
    r.add_argument("--events", metavar="FILE",
                   help="write every kernel event to FILE as JSON lines (schema: README)")
    r.add_argument("--seed", type=int, default=0, help="vary the schedule reproducibly")
    r.add_argument("--memory", type=parse_size, default=1 << 30, help="guest RAM (e.g. 512M)")
    r.add_argument("--check", action="store_true", help="check kernel invariants as it runs")
    r.add_argument("--max-instructions", type=int, default=0,
                   help="stop after about this many basic blocks")
    r.add_argument("--timeout", type=float, default=0.0, metavar="SECONDS",
                   help="stop a runaway guest after this much wall-clock time (exit 124)")
    r.add_argument("--fail-alloc", type=int, default=0, help=argparse.SUPPRESS)
    r.add_argument("--pid-max", type=int, default=32768)
    r.add_argument("--realtime", action="store_true",
                   help="the guest's clocks follow the host's (runs no longer repeat)")
    r.add_argument("--user", type=parse_user, default=None, metavar="UID[:GID]",
                   help="start the guest as this user, with no capabilities (GID defaults to UID)")
    r.add_argument("--gdb", metavar="[HOST:]PORT",
                   help="wait for gdb's `target remote` and let it drive the guest")
    r.add_argument("program")
    r.add_argument("args", nargs=argparse.REMAINDER)
    from .debug.main import add_parser as add_debug_parser
    add_debug_parser(sub)
    return p


def parse_user(s: str) -> tuple[int, int]:
    uid, _, gid = s.partition(":")
    try:
        ids = (int(uid), int(gid or uid))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r}: want UID or UID:GID (numbers)") from None
    if not all(0 <= i < 0xFFFFFFFF for i in ids):
        raise argparse.ArgumentTypeError(f"{s!r}: ids are 0..4294967294")
    return ids


def err(msg: str) -> None:
    sys.stderr.write(f"tinyunix: {msg}\n")
    sys.stderr.flush()


def main(argv: Optional[list[str]] = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    # `--trace` alone takes no value (the program may follow it), so
    # `--trace=CLASSES` is spelled `--trace= CLASSES` for argparse.
    argv = [x for a in argv for x in (("--trace=", a[8:]) if a.startswith("--trace=") else (a,))]
    args = build_parser().parse_args(argv)
    if args.cmd == "debug":
        from .debug.main import debug_command
        return debug_command(args)
    return run_command(args)


def run_command(args: argparse.Namespace) -> int:
    if args.gdb:
        return gdb_command(args)
    from kernel.binfmt_elf import ExecFormatError
    from kernel.exec import InterpreterMissing
    from kernel.main import boot, run_kernel, shutdown, start_guest
    from kernel.panic import Errno, KernelBug, OutOfMemory
    from kernel.state import Options
    from kernel.uapi import ERRNO_NAMES

    classes = trace_classes(args.trace, args.trace_file)
    if isinstance(classes, str):
        err(classes)
        return 2
    opts = Options(root=args.root, seed=args.seed, memory=args.memory, trace=bool(classes),
                   stats=args.stats, check=args.check, max_instructions=args.max_instructions,
                   timeout=args.timeout, fail_alloc=args.fail_alloc, pid_max=args.pid_max,
                   realtime=args.realtime, user=args.user)
    if not opts.timeout >= 0 or opts.timeout == float("inf"):
        err("--timeout must be a number of seconds (0 = none)")
        return 2
    if opts.max_instructions < 0 or opts.fail_alloc < 0:
        err("--max-instructions and --fail-alloc must not be negative")
        return 2
    if not 4 <= opts.pid_max <= 4 << 20:
        # init, kthreadd and the guest take pids 1-3 (pids stay below pid_max)
        err("--pid-max must be between 4 and 4194304")
        return 2
    if opts.memory % (2 << 20) or opts.memory < (16 << 20):
        err("--memory must be a multiple of 2 MiB and at least 16 MiB")
        return 2
    prog = args.program
    cwd = os.getcwd()
    gpath = os.path.normpath(os.path.join(cwd, prog)) if "/" in prog else _which(prog)
    if gpath is None or not os.path.exists(gpath if opts.root == "/" else
                                           os.path.join(opts.root, gpath.lstrip("/"))):
        err(f"{prog}: No such file or directory")
        return 127
    try:
        K = boot(opts)
    except OutOfMemory:
        # Only --fail-alloc can do this: --memory is at least 16 MiB.
        err("cannot boot: a frame allocation failed")
        return 70
    sinks = []
    try:
        if classes:
            from .strace import attach_tracer
            out = open(args.trace_file, "w") if args.trace_file else sys.stderr
            sinks.append(out)
            attach_tracer(K, out, classes, args.trace_pid_prefix)
        if args.events:
            from .events import attach_events
            sinks.append(attach_events(K, open(args.events, "w")).out)
    except OSError as e:
        err(f"cannot write {e.filename}: {e.strerror}")
        return 2
    if opts.check:
        from kernel.check import attach_checker
        attach_checker(K)
    envp = [f"{k}={v}".encode("utf-8", "surrogateescape") for k, v in os.environ.items()]
    argv_b = [prog.encode("utf-8", "surrogateescape")] + [
        a.encode("utf-8", "surrogateescape") for a in args.args]
    try:
        start_guest(K, gpath, argv_b, envp, cwd)
    except ExecFormatError as e:
        err(f"{prog}: {e}")
        return 126
    except InterpreterMissing as e:
        err(f"{prog}: cannot execute: interpreter {e.interp}: No such file or directory")
        return 127
    except Errno as e:
        err(f"{prog}: cannot execute: {ERRNO_NAMES.get(e.errno, e.errno)}")
        return 126
    except OutOfMemory:
        err(f"{prog}: cannot execute: ENOMEM")
        return 126
    try:
        run_kernel(K)
    except KernelBug as e:
        err(f"kernel BUG: {e}")
        return 70
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    finally:
        for f in sinks:
            f.flush()
    sys.stdout.flush()
    if K.stop_reason:
        err(K.stop_reason)
    shutdown(K)
    if opts.stats:
        from kernel.stats import print_stats
        print_stats(K, sys.stderr)
    status = K.main_status
    if K.runaway:
        return 124      # as timeout(1): the limit, not the guest, ended the run
    if status is None:
        return 1 if not K.stop_reason else 124
    if status & 0x7F:
        return 128 + (status & 0x7F)
    return (status >> 8) & 0xFF


def trace_classes(spec: Optional[str], trace_file: Optional[str]) -> "tuple[str, ...] | str":
    """The event classes --trace asks for (--trace-file alone means the
    default ones), or an error message."""
    from .strace import DEFAULT_CLASSES, TRACE_CLASSES
    if spec is None:
        return DEFAULT_CLASSES if trace_file else ()
    if spec == "default":
        return DEFAULT_CLASSES
    if spec == "all":
        return TRACE_CLASSES
    want = tuple(c.strip() for c in spec.split(",") if c.strip())
    bad = [c for c in want if c not in TRACE_CLASSES]
    if bad or not want:
        return (f"--trace: unknown class {', '.join(bad) or spec!r} "
                f"(choose from {','.join(TRACE_CLASSES)} or all)")
    return want


def gdb_command(args: argparse.Namespace) -> int:
    from .gdbstub import gdb_serve
    from .machine import Machine, MachineError
    try:
        m = Machine([args.program] + args.args, seed=args.seed, root=args.root,
                    memory=args.memory, check=args.check, env=dict(os.environ))
    except MachineError as e:
        err(str(e))
        return 127 if "No such file" in str(e) else 126
    try:
        return gdb_serve(m, args.gdb)
    finally:
        m.close()


def _which(prog: str) -> Optional[str]:
    for d in os.environ.get("PATH", "/usr/bin:/bin").split(":"):
        cand = os.path.join(d or ".", prog)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    return None


if __name__ == "__main__":
    sys.exit(main())
