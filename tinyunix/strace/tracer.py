"""The tracer: a K.listeners subscriber that prints what strace -f would.

Each syscall's input arguments are read at its entry and its outputs at
its exit, as strace does.  A call whose line is interrupted by another
task's line is split the way strace splits it:

    [pid    43] read(3,  <unfinished ...>
    [pid    44] write(4, "x", 1)            = 1
    [pid    43] <... read resumed>"x", 4096) = 1

Lines carry strace's `[pid N]` prefix while more than one task is traced
(always, with pid_prefix=True).  Event classes (--trace=...): syscall,
signal, exit, exec (strace's own lines) and fault, sched (tinyunix's:
strace cannot see them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Optional

from kernel.signal import fatal_signal_pending
from kernel.task import SIGNAL_GROUP_EXIT
from kernel.uapi import SIGKILL

from .args import HEX, INT, LONG, PTR, UINT, ULONG, Call, chex
from .fmt import error, quote_cut, si_code, signame, siginfo, signed, sigset
from .table import DECODERS, Decl

TRACE_CLASSES = ("syscall", "signal", "exit", "exec", "fault", "sched")
DEFAULT_CLASSES = ("syscall", "signal", "exit", "exec")
_COLUMN = 40                    # strace's -a default: where " = " goes
_TRAPS = {0: "#DE", 1: "#DB", 3: "#BP", 4: "#OF", 5: "#BR", 6: "#UD", 7: "#NM", 8: "#DF",
          13: "#GP", 16: "#MF", 17: "#AC", 19: "#XM"}


@dataclass(eq=False)
class _Pending:
    """A syscall between its entry and its exit."""
    call: Call
    decl: Decl
    pieces: list                  # (Arg, raw value) in order
    n_in: int                     # pieces printed at entry
    head: str                     # "name(inputs" and ", " if outputs follow
    prefix: str                   # decided at entry, as strace does
    flushed: bool = False         # the head was printed with <unfinished ...>
    exec_ok: bool = False


def _generic_decl(nr: int, name: str) -> Decl:
    """A syscall with no sc() line: its handler's hints say how each
    argument reads; an unknown call shows six raw arguments."""
    from kernel.syscalls import SYSCALL_TABLE
    ent = SYSCALL_TABLE[nr] if 0 <= nr < len(SYSCALL_TABLE) else None
    if ent is None:
        return Decl(name, (HEX,) * 6)
    by_hint = {"UPtr": PTR, "c_int": INT, "pid_t": INT, "fd_t": INT, "c_uint": UINT,
               "c_long": LONG, "off_t": LONG, "c_ulong": ULONG, "size_t": ULONG}
    return Decl(name, tuple(by_hint.get(h, HEX) for h in ent.hints))


def decl_for(nr: int, name: str) -> Decl:
    d = DECODERS.get(name)
    return d if d is not None else _generic_decl(nr, name)


def format_ret(c: Call, decl: Decl) -> str:
    """The text after `= `: the value, or -1 ERRNO (message)."""
    r = c.ret
    if r is None or decl.ret == "?":
        return "?"
    if -4096 < r < 0:
        return error(-r)
    if callable(decl.ret):
        return decl.ret(c)
    if decl.ret == "x":
        return chex(r & 0xFFFF_FFFF_FFFF_FFFF)
    if decl.ret == "o":
        return f"0{r:o}" if r else "0"
    return str(r)


def with_ret(head: str, ret: str) -> str:
    """`head = ret`, the `=` at column 40 when head is shorter."""
    if len(head) < _COLUMN:
        return head.ljust(_COLUMN) + "= " + ret
    return head + " = " + ret


def fault_str(f: dict) -> str:
    return (f"{{addr={f['addr']:#x}, rip={f['rip']:#x}, access={f['access']}, "
            f"vma={vma_str(f['vma'])}}}")


def vma_str(vma) -> str:
    if vma is None:
        return "none"
    f = vma.vm_flags
    perms = ("r" if f & 1 else "-") + ("w" if f & 2 else "-") + ("x" if f & 4 else "-") + \
            ("s" if f & 8 else "p")
    name = vma.name or (vma.vm_file.path if vma.vm_file is not None else "")
    return f"{vma.vm_start:#x}-{vma.vm_end:#x} {perms}" + (f" {name}" if name else "")


@dataclass(eq=False)
class Tracer:
    out: IO[str]
    classes: frozenset = frozenset(DEFAULT_CLASSES)
    pid_prefix: bool = False          # always `[pid N]`, even with one task
    pending: dict = field(default_factory=dict)        # pid -> _Pending
    nprocs: int = 0
    interrupted: dict = field(default_factory=dict)    # pid -> name of a call to restart
    deferred: dict = field(default_factory=dict)       # pid -> ignored signals not shown yet

    # --- output ------------------------------------------------------------
    def prefix(self, pid: int) -> str:
        return f"[pid {pid:5d}] " if self.pid_prefix or self.nprocs > 1 else ""

    def emit_line(self, pid: int, text: str) -> None:
        """Write one line for `pid`, after closing every other task's
        in-flight line with <unfinished ...>."""
        for p in self.pending.values():
            if not p.flushed and p.call.tsk.pid != pid:
                self.out.write(p.prefix + p.head + " <unfinished ...>\n")
                p.flushed = True
        self.out.write(text + "\n")

    # --- the listener ------------------------------------------------------
    def __call__(self, event: str, f: dict) -> None:
        h = getattr(self, "on_" + event, None)
        if h is not None:
            h(f)

    def on_syscall_enter(self, f: dict) -> None:
        tsk = f["task"]
        name = f["name"]
        if tsk.pid in self.deferred:
            self.show_deferred(tsk.pid)
        if name == "rt_sigreturn":
            return                        # its sigreturn event prints the line
        if "syscall" not in self.classes and not (
                "exec" in self.classes and name in ("execve", "execveat")):
            return
        c = Call(tsk, name, f["args"])
        decl = decl_for(f["nr"], name)
        if decl.pieces is not None:
            pieces = decl.pieces(c)
        else:
            pieces = list(zip(decl.args, c.args))
        n_in = 0
        while n_in < len(pieces) and not pieces[n_in][0].out:
            n_in += 1
        texts = [a(c, v) for a, v in pieces[:n_in]]
        head = name + "(" + ", ".join(texts) + (", " if texts and n_in < len(pieces) else "")
        if name == "restart_syscall":
            head += f"<... resuming interrupted {self.interrupted.pop(tsk.pid, 'call')} ...>"
        self.pending[tsk.pid] = _Pending(c, decl, pieces, n_in, head, self.prefix(tsk.pid))

    def finish(self, p: _Pending, ret: Optional[int]) -> None:
        c = p.call
        c.ret = None if ret is None else signed(ret)
        if c.ret is None and p.exec_ok:
            c.ret = 0
        if c.ret is not None and c.ret == -516:            # ERESTART_RESTARTBLOCK
            self.interrupted[c.tsk.pid] = c.name
        rest = ", ".join(a(c, v) for a, v in p.pieces[p.n_in:]) + ")"
        pid = c.tsk.pid
        del self.pending[pid]
        if p.flushed:
            head = self.prefix(pid) + f"<... {c.name} resumed>" + rest
        else:
            head = p.prefix + p.head + rest
        self.emit_line(pid, with_ret(head, format_ret(c, p.decl)))
        if pid in self.deferred:
            self.show_deferred(pid)

    def on_syscall(self, f: dict) -> None:
        tsk = f["task"]
        p = self.pending.get(tsk.pid)
        if p is None or f.get("blocked"):
            return
        # A task SIGKILL ends never stops at its syscall's exit under
        # ptrace: strace shows `= ?` and then the death.  (Another fatal
        # signal is delivered normally under ptrace, so its call returns.)
        killed = fatal_signal_pending(tsk) and (
            not tsk.signal.flags & SIGNAL_GROUP_EXIT or tsk.signal.group_exit_code == SIGKILL)
        self.finish(p, None if killed else f["ret"])

    def on_syscall_resume(self, f: dict) -> None:
        self.on_syscall(f)

    def on_sigreturn(self, f: dict) -> None:
        if "syscall" not in self.classes:
            return
        tsk = f["task"]
        c = Call(tsk, "rt_sigreturn", ())
        c.ret = signed(f["ret"])
        self.emit_line(tsk.pid, with_ret(
            self.prefix(tsk.pid) + f"rt_sigreturn({{mask={sigset(f['mask'])}}})",
            format_ret(c, decl_for(15, "rt_sigreturn"))))

    def on_fork(self, f: dict) -> None:
        self.nprocs += 1

    def on_exec(self, f: dict) -> None:
        tsk = f["task"]
        p = self.pending.get(tsk.pid)
        if p is not None and p.call.name in ("execve", "execveat"):
            p.exec_ok = True
            return
        if self.nprocs == 0:
            self.nprocs = 1
        if "exec" not in self.classes:
            return
        # The first program, started by the kernel (strace shows its execve).
        argv = f.get("argv") or []
        path = argv[0].decode("utf-8", "surrogateescape") if argv and b"/" in argv[0] else f["path"]
        args = ", ".join(quote_cut(a) for a in argv[:32]) + (", ..." if len(argv) > 32 else "")
        envc = f.get("envc", 0)
        envp = tsk.entry[1] + 8 * (len(argv) + 2) if tsk.entry else 0
        head = (self.prefix(tsk.pid) + f"execve({quote_cut(path.encode(), limit=4096)}, [{args}], "
                f"{envp:#x} /* {envc} var{'' if envc == 1 else 's'} */)")
        self.emit_line(tsk.pid, with_ret(head, "0"))

    def on_exit(self, f: dict) -> None:
        tsk = f["task"]
        p = self.pending.get(tsk.pid)
        if p is not None:
            if p.call.name in ("exit", "exit_group"):
                self.finish(p, None)
            else:
                # Killed inside a syscall: strace closes the line with `= ?`.
                del self.pending[tsk.pid]
                head = (self.prefix(tsk.pid) + f"<... {p.call.name} resumed>)" if p.flushed
                        else p.prefix + p.head + " <unfinished ...>)")
                self.emit_line(tsk.pid, with_ret(head, "?"))
        if "exit" in self.classes:
            code = f["code"]
            if code & 0x7F:
                core = " (core dumped)" if code & 0x80 else ""
                text = f"+++ killed by {signame(code & 0x7F)}{core} +++"
            else:
                text = f"+++ exited with {(code >> 8) & 0xFF} +++"
            self.emit_line(tsk.pid, self.prefix(tsk.pid) + text)
        self.nprocs -= 1
        self.deferred.pop(tsk.pid, None)

    def on_signal(self, f: dict) -> None:
        if "signal" in self.classes:
            pid = f["task"].pid
            self.emit_line(pid, self.prefix(pid) +
                           f"--- {signame(f['signo'])} {siginfo(f)} ---")

    def on_signal_ignored(self, f: dict) -> None:
        """A signal dropped as ignored: strace shows it when the task next
        leaves the kernel (after the syscall it is in, or when it is
        scheduled in), so it waits until then."""
        if "signal" in self.classes:
            self.deferred.setdefault(f["task"].pid, []).append(f)

    def show_deferred(self, pid: int) -> None:
        for f in self.deferred.pop(pid, ()):
            self.on_signal(f)

    def kernel_line(self, f: dict, what: str) -> None:
        """A line strace cannot show (faults, traps, OOM): `--- what ---`."""
        if "fault" in self.classes:
            pid = f["task"].pid
            self.emit_line(pid, f"{self.prefix(pid)}--- {what} ---")

    def on_fault(self, f: dict) -> None:
        self.kernel_line(f, f"page fault {fault_str(f)} => {f['how']}")

    def on_segv(self, f: dict) -> None:
        self.kernel_line(f, f"page fault {fault_str(f)} => {signame(f['signo'])} "
                            f"{{si_code={si_code(f['signo'], f['code'])}}}")

    def on_trap(self, f: dict) -> None:
        n = f["intno"]
        self.kernel_line(f, f"trap {{vector={_TRAPS.get(n, n)}, rip={f['rip']:#x}}} => "
                            f"{signame(f['signo'])}")

    def on_oom(self, f: dict) -> None:
        self.kernel_line(f, f"out of memory {{victim={f['victim']}, comm=\"{f['comm']}\"}}")

    def on_sched(self, f: dict) -> None:
        nxt = f["next"]
        if nxt is not None and nxt.pid in self.deferred and nxt.pid not in self.pending:
            self.show_deferred(nxt.pid)
        if "sched" in self.classes:
            prev, nxt = f["prev"], f["next"]
            pv = f"{prev.pid} ({prev.comm})" if prev is not None else "idle"
            pid = nxt.pid if nxt is not None else 0
            self.emit_line(pid, f"--- sched_switch cpu{f['cpu']} {{prev={pv}, "
                                f"reason={f['reason']}}} => {nxt.pid} ({nxt.comm}) ---")


def attach_tracer(K, out: IO[str], classes=DEFAULT_CLASSES, pid_prefix: bool = False) -> Tracer:
    """Subscribe a Tracer writing to `out` to machine K's events."""
    t = Tracer(out, frozenset(classes), pid_prefix)
    K.listeners.append(t)
    return t

