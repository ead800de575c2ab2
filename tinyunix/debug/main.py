"""`tinyunix debug [--batch FILE] [-ex CMD]... PROGRAM [ARGS]`: the
full-screen debugger, or with --batch/-ex its commands run without a
screen, each printed with its result, then every pane as text."""
from __future__ import annotations

import argparse
import sys


def add_parser(sub: "argparse._SubParsersAction") -> None:
    d = sub.add_parser("debug", help="step a guest through syscalls and faults (full screen)")
    d.add_argument("--batch", metavar="FILE", help="run the commands in FILE, print text, exit")
    d.add_argument("-ex", dest="ex", action="append", default=[], metavar="CMD",
                   help="run CMD (repeatable); with no screen, like --batch")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--root", default="/")
    d.add_argument("--screenshot", metavar="SVG", help=argparse.SUPPRESS)
    d.add_argument("program")
    d.add_argument("args", nargs=argparse.REMAINDER)


def debug_command(args: argparse.Namespace) -> int:
    from ..machine import Machine, MachineError
    from .session import DebugSession
    try:
        m = Machine([args.program] + args.args, seed=args.seed, root=args.root)
    except MachineError as e:
        sys.stderr.write(f"tinyunix: {e}\n")
        return 127 if "No such file" in str(e) else 126
    try:
        s = DebugSession(m)
        cmds = list(args.ex)
        if args.batch:
            try:
                with open(args.batch) as f:
                    cmds += [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
            except OSError as e:
                sys.stderr.write(f"tinyunix: {args.batch}: {e.strerror}\n")
                return 2
        if args.batch or (cmds and not args.screenshot):
            return run_batch(s, cmds)
        from .app import DebugApp, save_screenshot
        if args.screenshot:
            save_screenshot(s, cmds, args.screenshot)
            return 0
        DebugApp(s, startup=cmds).run()
        return 0
    finally:
        m.close()


def run_batch(s, cmds: list[str]) -> int:
    out = sys.stdout
    out.write(s.message + "\n")
    for c in cmds:
        out.write(f"(tinyunix) {c}\n")
        msg = s.execute(c)
        if msg == "quit":
            break
        out.write(msg + "\n")
    out.write(s.panes_text() + "\n")
    guest = s.m.stdout
    if guest:
        out.write("--- guest output ---\n" + guest.decode("utf-8", "replace"))
    return 0
