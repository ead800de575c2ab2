"""Several machines in one Python process, each independent and
deterministic (kernel/state.py): two kernels booted side by side and run
in turns -- A partly, then B, then the rest of A, or both in small steps --
print what each prints alone, with the same event stream and the same
statistics, and leave the caller's current kernel as it was."""
from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import GUEST_BUILD, REPO
from kernel import state
from kernel.fs.console import console_file
from kernel.main import boot, run_kernel, shutdown, start_guest
from kernel.sched.core import blocks_run, syscalls_run
from kernel.state import KernelState, Options, entered
from kernel.uapi import O_WRONLY


@dataclass(eq=False)
class Guest:
    K: KernelState
    out: Path
    events: list
    done: bool = False

    def run(self, syscalls: int | None = None) -> None:
        """Run on until the guest has made `syscalls` more syscalls (or to
        its end when None)."""
        if syscalls is None:
            self.done = run_kernel(self.K)
            return
        goal = self.nsyscalls() + syscalls
        self.done = run_kernel(self.K, until=lambda: self.nsyscalls() >= goal)

    def nsyscalls(self) -> int:
        return sum(1 for e in self.events if e[0] == "syscall")

    def result(self) -> tuple:
        """What must not depend on what else ran in the process."""
        K = self.K
        with entered(K):
            blocks, sysc = blocks_run(), syscalls_run()
        return (self.out.read_bytes(), K.main_status, self.events, K.vmstat.as_dict(),
                dict(K.counters), [c.nr_switches for c in K.cpus], blocks, sysc,
                K.alloc.allocs, K.alloc.nr_used())


def start(name: str, tmp: Path, tag: str, seed: int = 0, args: tuple = ()) -> Guest:
    K = boot(Options(memory=64 << 20, seed=seed))
    events: list = []

    def record(ev: str, f: dict) -> None:
        t = f.get("task")
        events.append((ev, t.pid if t is not None else None, f.get("name"), f.get("ret")))
    K.listeners.append(record)
    prog = GUEST_BUILD / name
    assert prog.exists(), f"{prog} was not built"
    task = start_guest(K, str(prog), [str(prog).encode(), *[a.encode() for a in args]], [],
                       str(REPO))
    out = tmp / f"{tag}.out"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # The guest's stdout and stderr: a file of its own instead of the host's.
    for n in (1, 2):
        old = task.files.fd[n]
        task.files.fd[n] = console_file(fd, O_WRONLY)
        if old is not None:
            old.put()
    g = Guest(K, out, events)
    g.fd = fd  # type: ignore[attr-defined]
    return g


def finish(g: Guest) -> tuple:
    assert g.done and g.K.stop_reason == ""
    shutdown(g.K)
    os.close(g.fd)  # type: ignore[attr-defined]
    return g.result()


def solo(name: str, tmp: Path, seed: int = 0) -> tuple:
    g = start(name, tmp, f"solo-{name}-{seed}", seed)
    g.run()
    return finish(g)


@pytest.mark.parametrize("a, b", [("pipes", "fork_wait"), ("forktree", "thread_join")])
def test_interleaved_runs_match_solo_runs(guests, tmp_path: Path, a: str, b: str) -> None:
    want_a, want_b = solo(a, tmp_path), solo(b, tmp_path)
    assert want_a[0] and want_b[0]                     # they print something
    before = state.K
    ga, gb = start(a, tmp_path, "a"), start(b, tmp_path, "b")
    ga.run(syscalls=40)                                # A partly
    assert not ga.done and ga.nsyscalls() >= 40
    gb.run()                                           # B all the way
    ga.run()                                           # the rest of A
    assert finish(ga) == want_a
    assert finish(gb) == want_b
    assert state.K is before


def test_small_alternating_steps_with_seeds(guests, tmp_path: Path) -> None:
    """Both machines in steps of a few syscalls, turn about, with other
    seeds (other schedules): each still runs as it runs alone."""
    want_a, want_b = solo("pipes", tmp_path, seed=7), solo("forktree", tmp_path, seed=3)
    ga = start("pipes", tmp_path, "a", seed=7)
    gb = start("forktree", tmp_path, "b", seed=3)
    turns = 0
    while not (ga.done and gb.done):
        for g in (ga, gb):
            if not g.done:
                g.run(syscalls=5)
        turns += 1
    assert turns > 20
    assert finish(ga) == want_a
    assert finish(gb) == want_b


def test_one_binary_on_two_live_machines(guests, tmp_path: Path) -> None:
    want = solo("fork_wait", tmp_path)
    ga, gb = start("fork_wait", tmp_path, "a"), start("fork_wait", tmp_path, "b")
    ga.run(syscalls=20)
    gb.run()
    ga.run()
    assert finish(ga) == want
    assert finish(gb) == want


def test_hooks_enter_their_own_kernel(guests, tmp_path: Path) -> None:
    """A machine's hooks run its kernel even when another is current on
    this thread (a caller that entered B and drives A's run loop)."""
    want = solo("fork_wait", tmp_path)
    ga = start("fork_wait", tmp_path, "a")
    other = boot(Options(memory=32 << 20))
    with entered(other):
        ga.run()
        assert state.K is other
    assert finish(ga) == want
    shutdown(other)


# --- no module-level mutable state in kernel/ --------------------------------

# Module-level containers that are not machine state: tables filled once at
# import, and a fact of the host.
ALLOWED_GLOBALS = {
    ("kernel/syscalls.py", "_DECODE"),         # hint -> decoding expression
    ("kernel/sys.py", "_host_caps"),           # the host process's CapEff, read once
}
# Calls at module level that build constants, not state.
_CONSTANT_CALLS = {"Struct", "NewType", "compile", "attrgetter", "frozenset", "range", "tuple",
                   "namedtuple", "lru_cache", "k_sigaction", "_mask", "TypeVar"}
_CONTAINERS = {"dict", "list", "set", "deque", "defaultdict", "Counter", "OrderedDict",
               "bytearray"}


def module_state(src: str) -> list[tuple[int, str]]:
    """(line, name) of module-level names bound to mutable state in
    `src`: empty containers to be filled at run time, instances of
    classes, and names rebound by `global` in a function."""
    tree = ast.parse(src)
    found = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            v = node.value
            mutable = (isinstance(v, (ast.Dict, ast.List, ast.Set)) and not _elts(v)) or (
                isinstance(v, ast.Call) and _callee(v) not in _CONSTANT_CALLS
                and (_callee(v) in _CONTAINERS or _callee(v)[:1].isupper()))
            if mutable:
                found += [(node.lineno, ast.unparse(t)) for t in targets]
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found += [(node.lineno, n) for n in node.names]
    return found


def _elts(v: ast.expr) -> list:
    return v.keys if isinstance(v, ast.Dict) else v.elts   # type: ignore[attr-defined]


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")


def test_kernel_has_no_module_level_state() -> None:
    found = []
    for path in sorted((REPO / "kernel").rglob("*.py")):
        rel = str(path.relative_to(REPO))
        if rel in ("kernel/state.py", "kernel/percpu.py"):
            continue        # state.K and the running CPU: swapped at each entry
        found += [f"{rel}:{line} {name}" for line, name in module_state(path.read_text())
                  if (rel, name) not in ALLOWED_GLOBALS]
    assert found == []


def test_module_state_scanner() -> None:
    src = ("import struct\nA = {}\nB: list = []\nC = VmStat()\nD = struct.Struct('<Q')\n"
           "E = {1: 2}\nF = deque()\ndef f():\n    global G\n    G = 1\n")
    assert module_state(src) == [(2, "A"), (3, "B"), (4, "C"), (7, "F"), (9, "G")]
