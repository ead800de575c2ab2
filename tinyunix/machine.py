"""tinyunix.Machine: a guest program on its own machine, driven from Python.

    m = Machine(["guest/build/cow"], seed=1, check=True)
    ev = m.run_until("fault", access="write")      # stopped inside the kernel
    m.walk(ev.addr).refcount                        # look at anything
    m.back()                                        # one instruction back
    m.run().exit_code

The machine runs in an engine process of its own (tinyunix/engine.py) and
stops by waiting inside the hook that reached the stop, so stopping never
changes the run: the same program, arguments and seed give the same
instructions, events and output however often it is stopped.  Snapshots
are forks of the engine; going back restores the nearest one before the
target and replays forward to it.  Changes made while stopped (memory,
registers) are not replayed.
"""
from __future__ import annotations

import os
import signal
import socket
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Union

from .engine import matches, recv_msg, send_msg

Kinds = Union[str, Iterable[str]]
EVENT_KINDS = ("syscall_enter", "syscall", "syscall_resume", "fault", "segv", "signal", "fork",
               "exec", "exit", "trap", "oom", "sigreturn", "release", "halt")

_INSN_STOPS = ("step", "breakpoint", "limit", "start")
_live: "weakref.WeakSet[Machine]" = weakref.WeakSet()


class MachineError(Exception):
    """The machine could not do what was asked (a message for the user)."""


class NotReached(MachineError):
    """A run ended before the stop it was asked for."""


class _Record:
    """Plain fields readable as attributes: ev.addr, task.comm."""

    def __init__(self, d: dict) -> None:
        self.__dict__.update(d)

    def __getitem__(self, k: str) -> Any:
        return self.__dict__[k]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def get(self, k: str, default: Any = None) -> Any:
        return self.__dict__.get(k, default)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:#x}" if isinstance(v, int) and k in ("addr", "rip") else f"{k}={v!r}"
                          for k, v in self.__dict__.items())
        return f"{type(self).__name__}({inner})"


class Event(_Record):
    """Where a run stopped: kind ("fault", "syscall_enter", "step",
    "breakpoint", "exited", ...), seq (events so far), insns (instructions
    started so far), pid, and the event's own fields (addr, access,
    resolution for a fault; name, args, ret for a syscall; ...)."""

    kind: str
    seq: int
    insns: int
    pid: int


class Task(_Record):
    pid: int
    tgid: int
    ppid: int
    state: str
    comm: str
    cpu: int
    current: bool


class Regs(_Record):
    rip: int
    rsp: int


class Vma(_Record):
    start: int
    end: int
    perms: str
    name: str


class Walk(_Record):
    """A page-table walk: levels (PML4..PT, each with entry and flags),
    present, pfn, refcount, mapcount, zero_page, writable, cow, shared."""

    present: bool
    refcount: int
    mapcount: int
    cow: bool


@dataclass
class Snapshot:
    """A stopped copy of the machine at `insns`/`seq`."""
    insns: int
    seq: int
    here: dict
    pid: int
    sock: socket.socket = field(repr=False)


class Machine:
    def __init__(self, argv: list[str], *, seed: int = 0, check: bool = False,
                 memory: int = 256 << 20, root: str = "/", env: Optional[dict] = None,
                 stdin: bytes = b"", cwd: Optional[str] = None,
                 snapshot_every: int = 200_000, max_snapshots: int = 32) -> None:
        from kernel.state import Options

        from .cli import _which
        if not argv:
            raise MachineError("no program given")
        cwd = cwd or os.getcwd()
        prog = argv[0]
        path = os.path.normpath(os.path.join(cwd, prog)) if "/" in prog else _which(prog)
        if path is None or not os.path.exists(path if root == "/" else
                                              os.path.join(root, path.lstrip("/"))):
            raise MachineError(f"{prog}: No such file or directory")
        self.path = path
        self.argv = list(argv)
        self.snapshot_every = snapshot_every
        self.max_snapshots = max_snapshots
        opts = Options(root=root, seed=seed, memory=memory, check=check)
        envp = [f"{k}={v}".encode() for k, v in (env if env is not None else
                                                 {"PATH": "/usr/bin:/bin"}).items()]
        argv_b = [a.encode("utf-8", "surrogateescape") for a in argv]
        self._out = os.memfd_create("tinyunix-stdout")
        self._err = os.memfd_create("tinyunix-stderr")
        self._in = os.memfd_create("tinyunix-stdin")
        os.write(self._in, stdin)
        os.lseek(self._in, 0, os.SEEK_SET)
        mine, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:    # the engine process
            try:
                mine.close()
                for other in list(_live):
                    other._close_fds()
                os.dup2(self._in, 0)
                os.dup2(self._out, 1)
                os.dup2(self._err, 2)
                from .engine import engine_main
                engine_main(theirs, path, argv_b, envp, cwd, opts, check)
            finally:
                os._exit(0)
        theirs.close()
        self._root_pid = pid
        self._engine = pid
        self._sock = mine
        self._closed = False
        self.snapshots: list[Snapshot] = []
        self.breakpoints: list[int] = []
        self.event_breaks: list[tuple[Optional[frozenset], dict]] = []
        self._symbols: Optional[dict] = None
        _live.add(self)
        msg = self._recv()
        if msg[0] == "error":
            self.close()
            raise MachineError(msg[1])
        self.where = Event(msg[1])
        self.snapshot()

    # --- plumbing ------------------------------------------------------------
    def _recv(self, sock: Optional[socket.socket] = None, want_fds: int = 0) -> Any:
        try:
            msg, fds = recv_msg(sock or self._sock, want_fds)
        except (EOFError, OSError):
            raise MachineError("the engine process is gone") from None
        if want_fds:
            return msg, fds
        return msg

    def _call(self, op: str, *args: Any) -> Any:
        if self._closed:
            raise MachineError("machine is closed")
        send_msg(self._sock, (op, args))
        kind, value = self._recv()
        if kind == "error":
            raise MachineError(value)
        return value

    def _cont(self, **stop: Any) -> Event:
        """Resume with a stop condition; the Event where it stopped."""
        if self._closed:
            raise MachineError("machine is closed")
        while True:
            limit = self._next_snapshot_at()
            send_msg(self._sock, ("cont", dict(stop, limit_insn=limit)))
            kind, value = self._recv()
            if kind == "error":
                raise MachineError(value)
            self.where = Event(value)
            if self.where.kind != "limit":
                return self.where
            self.snapshot()       # a periodic snapshot, then on as before

    def _next_snapshot_at(self) -> int:
        if not self.snapshot_every or not self.snapshots:
            return 0
        return max(s.insns for s in self.snapshots) + self.snapshot_every

    def _close_fds(self) -> None:
        """In a new engine process: let go of this machine's ends."""
        for s in [self._sock] + [sn.sock for sn in self.snapshots]:
            try:
                s.close()
            except OSError:
                pass

    def close(self) -> None:
        """End the engine and every snapshot."""
        if getattr(self, "_closed", True):
            return
        self._closed = True
        for s in self.snapshots:
            s.sock.close()
            _kill(s.pid)
        self.snapshots = []
        self._sock.close()
        _kill(self._engine)
        try:
            os.waitpid(self._root_pid, 0)
        except ChildProcessError:
            pass
        for fd in (self._out, self._err, self._in):
            os.close(fd)

    def __enter__(self) -> "Machine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # --- running -------------------------------------------------------------
    def run_until(self, kinds: Kinds, where: Optional[Callable[[Event], bool]] = None,
                  **fields: Any) -> Event:
        """Run to the next event of `kinds` whose fields equal `fields`
        (`addr` matches the page, or a (lo, hi) range) and for which
        where(event) holds.  NotReached if the run ends first."""
        ks = frozenset([kinds] if isinstance(kinds, str) else kinds)
        bad = ks - set(EVENT_KINDS)
        if bad:
            raise MachineError(f"unknown event kind {sorted(bad)[0]!r}; one of {', '.join(EVENT_KINDS)}")
        while True:
            ev = self._cont(conds=((ks, fields),), breakpoints=False)
            if ev.kind == "exited":
                want = "/".join(sorted(ks)) + "".join(f" {k}={v!r}" for k, v in fields.items())
                raise NotReached(f"the run ended ({self._exit_text()}) before {want}")
            if where is None or where(ev):
                return ev

    def step_syscall(self, **fields: Any) -> Event:
        """To the next syscall entry (the decoded call, before it runs)."""
        return self.run_until("syscall_enter", **fields)

    def finish_syscall(self) -> Event:
        """From a syscall entry to that call's return (or its resumption)."""
        pid = self.where.get("pid")
        return self.run_until(("syscall", "syscall_resume"), pid=pid)

    def stepi(self, n: int = 1) -> Event:
        """Run n user instructions (of any task: the machine's next ones)."""
        return self._cont(insn=self.insns + n)

    def cont(self) -> Event:
        """Run to the next breakpoint (address or event) or the end."""
        return self._cont(conds=tuple(self.event_breaks))

    def run(self) -> Event:
        """Run to the end (breakpoints ignored); the "exited" Event, with
        exit_code, signal and wait_status."""
        return self._cont(breakpoints=False)

    @property
    def insns(self) -> int:
        return self.where.insns

    @property
    def done(self) -> bool:
        return self.where.kind == "exited"

    @property
    def status(self) -> Optional[dict]:
        return self._call("status")

    @property
    def exit_code(self) -> Optional[int]:
        st = self.status
        return None if st is None else st["exit_code"]

    def _exit_text(self) -> str:
        st = self.status or {}
        if st.get("signal"):
            return f"killed by signal {st['signal']}"
        if st.get("exit_code") is not None:
            return f"exit status {st['exit_code']}"
        return st.get("reason") or "stopped"

    # --- breakpoints ------------------------------------------------------------
    def break_at(self, where: Union[int, str]) -> int:
        """A breakpoint on an address or a symbol of the program."""
        addr = self.symbol(where) if isinstance(where, str) else where
        if addr not in self.breakpoints:
            self._call("set_breakpoints", self.breakpoints + [addr])
            self.breakpoints.append(addr)
        return addr

    def break_on(self, kinds: Kinds, **fields: Any) -> None:
        """cont() stops at events like these (syscall names: name="openat")."""
        ks = frozenset([kinds] if isinstance(kinds, str) else kinds)
        self.event_breaks.append((ks, fields))

    def clear_breakpoints(self) -> None:
        self.breakpoints = []
        self.event_breaks = []
        self._call("set_breakpoints", [])

    def symbol(self, name: str) -> int:
        if self._symbols is None:
            from .elfsym import read_symbols
            self._symbols = read_symbols(self.path)
        if name not in self._symbols:
            raise MachineError(f"no symbol {name!r} in {self.argv[0]}")
        return self._symbols[name]

    def symbolize(self, addr: int) -> str:
        from .elfsym import nearest
        if self._symbols is None:
            from .elfsym import read_symbols
            self._symbols = read_symbols(self.path)
        return nearest(self._symbols, addr)

    # --- looking inside --------------------------------------------------------
    def tasks(self) -> list[Task]:
        return [Task(d) for d in self._call("tasks")]

    def task(self, pid: int) -> Task:
        for t in self.tasks():
            if t.pid == pid:
                return t
        raise MachineError(f"no task {pid}")

    def regs(self, pid: Optional[int] = None) -> Regs:
        return Regs(self._call("regs", pid))

    def set_reg(self, name: str, value: int, pid: Optional[int] = None) -> None:
        self._call("set_reg", pid, name, value)

    def read(self, addr: int, n: int, pid: Optional[int] = None) -> bytes:
        return self._call("read", pid, addr, n)

    def read_u64(self, addr: int, pid: Optional[int] = None) -> int:
        return int.from_bytes(self.read(addr, 8, pid), "little")

    def write(self, addr: int, data: bytes, pid: Optional[int] = None) -> None:
        self._call("write", pid, addr, bytes(data))

    def vmas(self, pid: Optional[int] = None) -> list[Vma]:
        return [Vma(d) for d in self._call("vmas", pid)]

    def vma(self, addr: int, pid: Optional[int] = None) -> Optional[Vma]:
        return next((v for v in self.vmas(pid) if v.start <= addr < v.end), None)

    def walk(self, addr: int, pid: Optional[int] = None) -> Walk:
        return Walk(self._call("walk", pid, addr))

    def stats(self) -> dict:
        return self._call("stats")

    def events(self, since: int = 0) -> list[Event]:
        """Events the engine remembers (the last few thousand)."""
        return [Event(d) for d in self._call("log", since)]

    @property
    def stdout(self) -> bytes:
        return _read_all(self._out)

    @property
    def stderr(self) -> bytes:
        return _read_all(self._err)

    # --- snapshots and going back -------------------------------------------------
    def snapshot(self) -> Snapshot:
        """A stopped copy of the machine as it is now."""
        send_msg(self._sock, ("snapshot", ()))
        (kind, info), fds = self._recv(want_fds=1)
        if kind == "error" or not fds:
            raise MachineError(f"snapshot failed: {info}")
        snap = Snapshot(info["insns"], info["seq"], info["here"], info["pid"],
                        socket.socket(fileno=fds[0]))
        self.snapshots.append(snap)
        if len(self.snapshots) > self.max_snapshots:
            self._thin_snapshots()
        return snap

    def _thin_snapshots(self) -> None:
        """Keep the count bounded on long runs: drop every other snapshot
        (never the first or the newest) and take them half as often."""
        keep = [self.snapshots[0]] + self.snapshots[1:-1][1::2] + [self.snapshots[-1]]
        for s in self.snapshots:
            if s not in keep:
                s.sock.close()          # the stopped copy ends at EOF
        self.snapshots = keep
        self.snapshot_every *= 2

    def restore(self, snap: Snapshot) -> Event:
        """Make `snap` the running machine again (the snapshot stays)."""
        mine, theirs = socket.socketpair()
        send_msg(snap.sock, ("activate", ()), fds=(theirs.fileno(),))
        theirs.close()
        kind, child = self._recv(snap.sock)
        kind2, here = self._recv(mine)
        old, self._sock, self._engine = self._sock, mine, child
        old.close()
        # The old engine is stopped in a request loop: closing its socket
        # ends it (and a stubborn one is killed).
        self.where = Event(here)
        return self.where

    def _best_snapshot(self, insn: int = 0, seq: int = 0) -> Snapshot:
        ok = [s for s in self.snapshots if (insn and s.insns < insn) or (seq and s.seq < seq)]
        if not ok:
            raise MachineError("no snapshot before that point")
        return max(ok, key=lambda s: (s.insns, s.seq))

    def goto(self, insn: int = 0, seq: int = 0) -> Event:
        """Be at instruction `insn` (before it runs) or at event `seq`,
        earlier or later than now, by replay from a snapshot."""
        cur = self.where
        at_insn = cur.kind in _INSN_STOPS
        if insn and insn == cur.insns and at_insn or seq and seq == cur.seq and not at_insn:
            return cur
        if (insn and insn <= cur.insns) or (seq and seq <= cur.seq):
            self.restore(self._best_snapshot(insn, seq))
        return self._cont(insn=insn, seq=seq, breakpoints=False, user_only=False)

    def back(self, n: int = 1) -> Event:
        """Reverse-stepi: the machine as it was n user instructions ago."""
        from emu.machine import KERNEL_BASE
        target = self.insns - n if self.where.kind in _INSN_STOPS else self.insns - n + 1
        while True:
            if target < 1:
                raise MachineError("already at the start")
            ev = self.goto(insn=target)
            if ev.get("rip", 0) < KERNEL_BASE:
                return ev
            target -= 1     # the kernel's iretq into a task: not a user step

    def reverse_until(self, kinds: Optional[Kinds] = None, *, breakpoints: bool = False,
                      **fields: Any) -> Event:
        """Back to the latest earlier stop of this kind (an event like
        run_until's, or with breakpoints=True an address breakpoint):
        replays from snapshots, newest first, until one holds a match."""
        conds: tuple = ()
        if kinds is not None:
            ks = frozenset([kinds] if isinstance(kinds, str) else kinds)
            conds = ((ks, fields),)
        here = self.where
        mark = (here.insns, here.seq)
        if conds and not breakpoints:
            # The engine's event log usually holds the answer: no scan.
            log = self.events()
            hits = [e for e in log if (e.insns, e.seq) < mark and matches(e.__dict__, *conds[0])]
            if hits:
                return self.goto(seq=hits[-1].seq)
            if log and log[0].seq == 1:
                raise NotReached("no earlier stop of that kind")
        for snap in sorted(self.snapshots, key=lambda s: (s.insns, s.seq), reverse=True):
            if (snap.insns, snap.seq) >= mark:
                continue
            self.restore(snap)
            last = None
            while True:
                at_insn = here.kind in _INSN_STOPS
                ev = self._cont(conds=conds, breakpoints=breakpoints, user_only=False,
                                insn=here.insns if at_insn else 0,
                                seq=0 if at_insn else here.seq)
                if ev.kind == "exited" or (ev.insns, ev.seq) >= mark:
                    break
                last = ev
            if last is not None:
                return self.goto(insn=last.insns if last.kind == "breakpoint" else 0,
                                 seq=last.seq if last.kind != "breakpoint" else 0)
        self.goto(insn=here.insns if here.kind in _INSN_STOPS else 0,
                  seq=0 if here.kind in _INSN_STOPS else here.seq)
        raise NotReached("no earlier stop of that kind")


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0) if size else b""


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
