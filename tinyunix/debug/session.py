"""The debugger's model: a Machine, the commands that drive it, and the
panes that show it, as text.  The full-screen view (app.py) and the batch
mode (`tinyunix debug --batch`) both use it, so scripts and tests see
exactly what the screen shows."""
from __future__ import annotations

import shlex
from typing import Callable, Optional

from ..machine import EVENT_KINDS, Event, Machine, MachineError

REG_ORDER = ("rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
             "r11", "r12", "r13", "r14", "r15", "eflags", "fs_base")
HELP = """commands:
  si [N]            stepi (N instructions)         back [N] / rsi   reverse-stepi
  s                 to the next syscall entry, then to its return
  rs                back to the previous syscall entry
  c                 continue to a breakpoint       rc               reverse-continue
  fault|signal|fork|exec|exit   continue to the next such event
  b ADDR|SYMBOL     break at an address            b syscall NAME   break on a syscall
  b fork|exec|exit|signal|fault [LO HI]            break on a kernel event
  task PID          select a task                  walk ADDR        page-table walk of ADDR
  x ADDR [N]        examine memory                 set REG VALUE    change a register
  set *ADDR HEX     change memory                  run              to the end
  info              print every pane               quit"""


def fmt_event(ev: Event, m: Optional[Machine] = None) -> str:
    """One log line for a stop or an event, as the trace shows it."""
    k = ev.kind
    who = f"[{ev.pid}] " if ev.get("pid") else ""
    if k == "syscall_enter":
        return f"{who}{ev.name}({', '.join(_arg(a) for a in ev.args[:_nargs(ev.name)])}) ..."
    if k == "syscall":
        ret = ev.ret
        return f"{who}{ev.name}(...) = {_ret(ret)}"
    if k == "syscall_resume":
        return f"{who}<... resumed> = {_ret(ev.ret)}"
    if k in ("fault", "segv"):
        return (f"{who}fault {ev.access} at {ev.addr:#x} (rip {ev.rip:#x}): {ev.resolution}")
    if k == "signal":
        return f"{who}--- signal {ev.signo} code {ev.code} ---"
    if k == "fork":
        return f"{who}fork -> child {ev.child}"
    if k == "exec":
        return f"{who}exec {ev.path}"
    if k == "exit":
        return f"{who}exit (status {ev.code:#x})"
    if k in ("step", "breakpoint", "limit", "start"):
        where = f"{ev.rip:#x}" if ev.get("rip") is not None else ""
        if where and m is not None:
            where = f"{where} <{m.symbolize(ev.rip)}>"
        return f"{who}{k} {where} (insn {ev.insns})".replace("  ", " ")
    if k == "exited":
        if ev.get("signal"):
            return f"exited: killed by signal {ev.signal}"
        if ev.get("exit_code") is not None:
            return f"exited: status {ev.exit_code}"
        return f"exited: {ev.get('reason') or 'stopped'}"
    rest = " ".join(f"{a}={v}" for a, v in ev.__dict__.items() if a not in ("kind", "pid", "seq", "insns"))
    return f"{who}{k} {rest}"


_ARGS = {"write": 3, "read": 3, "openat": 4, "close": 1, "brk": 1, "mmap": 6, "munmap": 2,
         "mprotect": 3, "exit_group": 1, "exit": 1, "wait4": 4, "clone": 5, "execve": 3,
         "arch_prctl": 2, "set_tid_address": 1, "fstat": 2, "newfstatat": 4, "pipe2": 2,
         "getpid": 0, "fork": 0, "vfork": 0, "kill": 2, "rt_sigaction": 4,
         "rt_sigprocmask": 4}


def _nargs(name: str) -> int:
    return _ARGS.get(name, 6)


def _arg(a: int) -> str:
    return str(a) if a < 0x10000 else f"{a:#x}"


def _ret(r: Optional[int]) -> str:
    if r is None:
        return "?"
    if r >= 1 << 63:
        r -= 1 << 64
    return str(r) if -4096 < r < 0x10000 else f"{r:#x}"


class DebugSession:
    def __init__(self, m: Machine) -> None:
        self.m = m
        self.pid: Optional[int] = None        # selected task (None: current)
        self.addr: Optional[int] = None       # the address whose walk is shown
        self.prev_regs: dict = {}
        self.regs: dict = {}
        self.log: list[str] = []
        self.last_seq = 0
        self.message = fmt_event(m.where, m)
        self._refresh()

    # --- commands -----------------------------------------------------------
    def execute(self, line: str) -> str:
        """Run one command line; the message to show (never raises for a
        user's mistake)."""
        try:
            words = shlex.split(line)
        except ValueError as e:
            return self._say(f"error: {e}")
        if not words:
            return self.message
        cmd, args = words[0], words[1:]
        fn = self._commands().get(cmd)
        if fn is None:
            return self._say(f"unknown command {cmd!r} (help lists them)")
        try:
            out = fn(args)
        except (MachineError, ValueError, IndexError) as e:
            out = f"error: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
        self._refresh()
        return self._say(out)

    def _say(self, msg: str) -> str:
        self.message = msg
        return msg

    def _commands(self) -> dict[str, Callable[[list[str]], str]]:
        c = {"si": self.c_stepi, "stepi": self.c_stepi, "s": self.c_step, "step": self.c_step,
             "back": self.c_back, "rsi": self.c_back, "reverse-stepi": self.c_back,
             "rs": self.c_rstep, "c": self.c_cont, "continue": self.c_cont, "rc": self.c_rcont,
             "reverse-continue": self.c_rcont, "b": self.c_break, "break": self.c_break,
             "task": self.c_task, "walk": self.c_walk, "x": self.c_examine, "set": self.c_set,
             "run": self.c_run, "info": lambda a: self.panes_text(), "help": lambda a: HELP,
             "quit": lambda a: "quit", "q": lambda a: "quit"}
        for kind in ("fault", "signal", "fork", "exec", "exit", "segv"):
            c[kind] = self._to_event(kind)
        return c

    def _stopped(self, ev: Event) -> str:
        return fmt_event(ev, self.m)

    def c_stepi(self, a: list[str]) -> str:
        return self._stopped(self.m.stepi(int(a[0]) if a else 1))

    def c_step(self, a: list[str]) -> str:
        if self.m.where.kind == "syscall_enter":
            return self._stopped(self.m.finish_syscall())
        return self._stopped(self.m.step_syscall())

    def c_back(self, a: list[str]) -> str:
        return self._stopped(self.m.back(int(a[0]) if a else 1))

    def c_rstep(self, a: list[str]) -> str:
        return self._stopped(self.m.reverse_until("syscall_enter"))

    def c_cont(self, a: list[str]) -> str:
        return self._stopped(self.m.cont())

    def c_rcont(self, a: list[str]) -> str:
        m = self.m
        if m.event_breaks:
            ks = frozenset().union(*(k for k, _ in m.event_breaks))
            return self._stopped(m.reverse_until(ks, breakpoints=bool(m.breakpoints)))
        return self._stopped(m.reverse_until(None, breakpoints=True))

    def c_run(self, a: list[str]) -> str:
        return self._stopped(self.m.run())

    def _to_event(self, kind: str) -> Callable[[list[str]], str]:
        return lambda a: self._stopped(self.m.run_until(kind))

    def c_break(self, a: list[str]) -> str:
        if not a:
            bps = [f"{x:#x} <{self.m.symbolize(x)}>" for x in self.m.breakpoints]
            bps += [f"{'/'.join(sorted(k))} {f}" for k, f in self.m.event_breaks]
            return "breakpoints: " + (", ".join(bps) or "none")
        if a[0] == "syscall":
            self.m.break_on("syscall_enter", name=a[1])
            return f"break on syscall {a[1]}"
        if a[0] in EVENT_KINDS:
            fields = {"addr": (_num(a[1]), _num(a[2]))} if len(a) == 3 else {}
            self.m.break_on(a[0], **fields)
            return f"break on {a[0]}" + (f" in [{a[1]}, {a[2]})" if fields else "")
        addr = self.m.break_at(_num(a[0]) if a[0][0].isdigit() else a[0])
        return f"breakpoint at {addr:#x} <{self.m.symbolize(addr)}>"

    def c_task(self, a: list[str]) -> str:
        t = self.m.task(int(a[0]))
        self.pid = t.pid
        return f"task {t.pid} ({t.comm}) selected"

    def c_walk(self, a: list[str]) -> str:
        self.addr = _num(a[0]) if a[0][0].isdigit() else self.m.symbol(a[0])
        return f"walk of {self.addr:#x}"

    def c_examine(self, a: list[str]) -> str:
        addr = _num(a[0]) if a[0][0].isdigit() else self.m.symbol(a[0])
        n = int(a[1]) if len(a) > 1 else 64
        data = self.m.read(addr, n, self.pid)
        return "\n".join(f"{addr + i:#014x}: {data[i:i + 16].hex(' ')}" for i in range(0, len(data), 16))

    def c_set(self, a: list[str]) -> str:
        if a[0].startswith("*"):
            addr = _num(a[0][1:])
            self.m.write(addr, bytes.fromhex(a[1]), self.pid)
            return f"wrote {len(a[1]) // 2} bytes at {addr:#x}"
        self.m.set_reg(a[0], _num(a[1]), self.pid)
        return f"{a[0]} = {_num(a[1]):#x}"

    # --- panes ----------------------------------------------------------------
    def _refresh(self) -> None:
        m = self.m
        if self.pid is not None and not any(t.pid == self.pid for t in m.tasks()):
            self.pid = None
        new = {}
        if not m.done:
            try:
                new = m.regs(self.pid).__dict__
            except MachineError:
                new = {}
        self.prev_regs, self.regs = self.regs, new
        for ev in m.events(self.last_seq):
            if ev.kind in ("syscall", "syscall_resume", "fault", "segv", "signal", "fork",
                           "exec", "exit"):
                self.log.append(f"{ev.seq:5} {fmt_event(ev)}")
            self.last_seq = ev.seq
        del self.log[:-200]

    def changed(self) -> set[str]:
        if not self.prev_regs:
            return set()
        return {k for k, v in self.regs.items() if self.prev_regs.get(k) != v}

    def pane_regs(self, mark: Callable[[str], str] = lambda s: s + " *") -> str:
        if not self.regs:
            return "(no registers)"
        ch = self.changed()
        lines = []
        for k in REG_ORDER:
            line = f"{k:>8} {self.regs[k]:#018x}"
            lines.append(mark(line) if k in ch else line)
        return "\n".join(lines)

    def pane_disasm(self, n: int = 12) -> str:
        if not self.regs:
            return "(not running)"
        rip = self.regs["rip"]
        m = self.m
        start = rip
        sym = m.symbolize(rip)
        if "+" in sym:
            off = int(sym.rsplit("+", 1)[1], 16)
            if off < 256:
                start = rip - off
        data = self._read_some(start, (rip - start) + 16 * n)
        if not data:
            return f"{rip:#x}: (not mapped)"
        from capstone import CS_ARCH_X86, CS_MODE_64, Cs
        cs = Cs(CS_ARCH_X86, CS_MODE_64)
        lines: list[str] = []
        for insn in cs.disasm(data, start):
            mark = "=>" if insn.address == rip else "  "
            lines.append(f"{mark} {insn.address:#x} <{m.symbolize(insn.address)}>: "
                         f"{insn.mnemonic} {insn.op_str}".rstrip())
            if insn.address > rip and len(lines) >= 2 * n:
                break
        at = next((i for i, x in enumerate(lines) if x.startswith("=>")), 0)
        return "\n".join(lines[max(0, at - 4):at + n - 4])

    def _read_some(self, addr: int, n: int) -> bytes:
        """As many of the n bytes at addr as are mapped, page by page."""
        out = b""
        while n > 0:
            k = min(n, 0x1000 - (addr & 0xFFF))
            try:
                out += self.m.read(addr, k, self.pid)
            except MachineError:
                break
            addr += k
            n -= k
        return out

    def pane_tasks(self) -> str:
        lines = ["  PID  TGID  PPID S CPU COMM"]
        for t in self.m.tasks():
            cur = "*" if t.current else (">" if t.pid == self.pid else " ")
            lines.append(f"{cur}{t.pid:4} {t.tgid:5} {t.ppid:5} {t.state} {t.cpu:3} {t.comm}")
        return "\n".join(lines)

    def pane_vmas(self) -> str:
        try:
            vmas = self.m.vmas(self.pid)
        except MachineError as e:
            return str(e)
        return "\n".join(f"{v.start:012x}-{v.end:012x} {v.perms} {v.name}" for v in vmas)

    def pane_walk(self) -> str:
        addr = self.addr
        if addr is None:
            addr = self.regs.get("rip") if self.regs else None
        if addr is None:
            return "(walk ADDR chooses an address)"
        try:
            w = self.m.walk(addr, self.pid)
        except MachineError as e:
            return str(e)
        lines = [f"walk of {addr:#x}"]
        for lv in w.levels:
            lines.append(f"  {lv['level']:4}[{lv['index']:3}] {lv['entry']:#018x} {' '.join(lv['flags'])}")
        if w.present:
            kind = "zero page" if w.zero_page else "CoW" if w.cow else "shared" if w.shared else \
                "writable" if w.writable else "read-only"
            lines.append(f"  frame {w.pfn:#x} refcount {w.refcount} mapcount {w.mapcount} ({kind})")
        else:
            lines.append("  not present")
        return "\n".join(lines)

    def pane_log(self, n: int = 12) -> str:
        return "\n".join(self.log[-n:])

    def panes_text(self) -> str:
        sections = (("disassembly", self.pane_disasm()), ("registers", self.pane_regs()),
                    ("tasks", self.pane_tasks()), ("vmas", self.pane_vmas()),
                    ("page walk", self.pane_walk()), ("log", self.pane_log()))
        return "\n".join(f"--- {name} ---\n{body}" for name, body in sections)


def _num(s: str) -> int:
    return int(s, 0)
