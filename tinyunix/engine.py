"""The engine: one machine and its kernel, run in a process of its own and
driven over a socket by tinyunix.machine.Machine (the debugger and the
gdb stub use that API too).

The engine stops by *waiting*: at a kernel event or before an instruction
it answers requests inside the hook that got there, and the run goes on
when a request says so.  Nothing about the run changes by stopping (no
engine stop, no slice cut short), so a run stopped a thousand times and a
run never stopped are the same run, instruction for instruction.

A snapshot is a fork of the engine process, stopped where it is: guest
RAM, vCPU state, kernel objects and even the Python stack inside the hook
are shared copy-on-write with the running engine.  Restoring one forks it
again; the child carries on from that point as the new running engine.
Guest output goes to memory files whose length each snapshot records, so
restoring takes back what was printed after it.

Positions in a run: `insns` counts instructions started (the C glue's
step hook, on from the first instruction), `seq` counts kernel events.
Both only grow, so (insns, seq) orders every stop of a run.
"""
from __future__ import annotations

import os
import pickle
import signal
import socket
import struct
import traceback
from typing import Any, Optional

from emu.machine import KERNEL_BASE

from . import inspect as ins

_LEN = struct.Struct("<I")
LOG_MAX = 5000          # events the engine remembers for the views
_REPLIED = object()     # a request that sent its own answer

# The kernel's fault event says how it was resolved (`how`); the names
# shown here.  Older kernels did not: then the vmstat counter that moved.
_HOW = {"zero-page": "zero page", "anon-page": "new page", "zero-page-copy": "new page",
        "page-cache": "file page", "file-cow-copy": "CoW copy", "cow-copy": "CoW copy",
        "cow-reuse": "CoW reuse", "shmem": "shared page", "shmem-write": "shared page",
        "spurious": "spurious"}
_RESOLUTIONS = (("cow_copy", "CoW copy"), ("cow_reuse", "CoW reuse"), ("pgfault_zero", "zero page"),
                ("pgfault_anon", "new page"), ("pgfault_file", "file page"),
                ("pgfault_shared", "shared page"))


def send_msg(sock: socket.socket, obj: Any, fds: tuple = ()) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    if fds:
        socket.send_fds(sock, [_LEN.pack(len(data)) + data], list(fds))
    else:
        sock.sendall(_LEN.pack(len(data)) + data)


def recv_msg(sock: socket.socket, want_fds: int = 0) -> tuple[Any, list[int]]:
    """One message (and the fds passed with it); EOFError when the peer
    is gone."""
    fds: list[int] = []
    if want_fds:
        head, fds, _flags, _addr = socket.recv_fds(sock, 4, want_fds)
    else:
        head = sock.recv(4)
    while 0 < len(head) < 4:
        more = sock.recv(4 - len(head))
        if not more:
            break
        head += more
    if len(head) < 4:
        raise EOFError
    n = _LEN.unpack(head)[0]
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError
        buf += chunk
    return pickle.loads(bytes(buf)), fds


def plain(v: Any) -> Any:
    """An event field as plain data: a task becomes its pid."""
    if isinstance(v, (int, str, bytes, float, type(None))):
        return int(v) if isinstance(v, int) else v
    if isinstance(v, (tuple, list)):
        return tuple(plain(x) for x in v)
    if hasattr(v, "pid") and hasattr(v, "tgid"):
        return v.pid
    if hasattr(v, "vm_start"):
        return (v.vm_start, v.vm_end)
    return repr(v)


def matches(rec: dict, kinds: Optional[frozenset], filters: dict) -> bool:
    if kinds is not None and rec["kind"] not in kinds:
        return False
    for k, want in filters.items():
        have = rec.get(k)
        if k == "addr" and have is not None:
            if isinstance(want, tuple):
                if not want[0] <= have < want[1]:
                    return False
            elif have >> 12 != want >> 12:
                return False
        elif have != want:
            return False
    return True


class Stop:
    """Where the running engine must stop next: an event matching one of
    `conds` ((kinds, fields) pairs), the event numbered `seq`, the
    instruction numbered `insn` (a user one unless not `user_only`), a
    breakpoint address, the instruction numbered `limit_insn`, or the end."""

    def __init__(self, conds: tuple = (), insn: int = 0, seq: int = 0, breakpoints: bool = True,
                 user_only: bool = True, limit_insn: int = 0) -> None:
        self.conds = conds
        self.insn = insn
        self.seq = seq
        self.breakpoints = breakpoints
        self.user_only = user_only
        self.limit_insn = limit_insn

    def wants(self, rec: dict) -> bool:
        if self.seq and rec["seq"] == self.seq:
            return True
        return any(matches(rec, kinds, filters) for kinds, filters in self.conds)


class Engine:
    def __init__(self, sock: socket.socket, K: Any) -> None:
        self.sock = sock
        self.K = K
        self.glue = K.cpus[0].hw.glue
        self.seq = 0
        self.log: list[dict] = []
        self.stop = Stop()
        self.breakpoints: list[int] = []
        self.vm_base = K.vmstat.as_dict()
        self.done = False
        self.status: Optional[dict] = None
        self.here: dict = {"kind": "start", "insns": 0, "seq": 0}
        self.glue.set_step_hook(self.on_step)
        K.listeners.append(self.on_event)

    # --- where the run stops ------------------------------------------------
    def insns(self) -> int:
        return self.glue.insns()

    def _arm(self) -> None:
        """Tell the C hook which instruction to call us at next."""
        s = self.stop
        targets = [n for n in (s.insn, s.limit_insn) if n > self.insns()]
        self.glue.set_step_at(min(targets) if targets else 0)
        self.glue.set_breakpoints(self.breakpoints if s.breakpoints else ())

    def on_step(self, addr: int) -> None:
        n = self.insns()
        s = self.stop
        if s.insn and n == s.insn and s.user_only and addr >= KERNEL_BASE:
            s.insn += 1             # step over the kernel's own iretq
            self._arm()
            return
        if s.insn and n == s.insn:
            kind = "step"
        elif s.limit_insn and n == s.limit_insn:
            kind = "limit"
        elif s.breakpoints and addr in self.breakpoints:
            kind = "breakpoint"
        else:
            return
        self.pause({"kind": kind, "insns": n, "seq": self.seq, "rip": addr,
                    "pid": self._current_pid()})

    def _current_pid(self) -> int:
        c = self.K.cpus[0]
        t = c.curr or c.loaded
        return t.pid if t is not None else 0

    def on_event(self, event: str, f: dict) -> None:
        self.seq += 1
        rec: dict = {"kind": event, "seq": self.seq, "insns": self.insns()}
        t = f.get("task") or f.get("parent")
        rec["pid"] = t.pid if t is not None else 0
        for k, v in f.items():
            if k not in ("task", "ent"):
                rec[k] = plain(v)
        if event == "fault":
            how = f.get("how")
            base = self._resolution()
            rec["resolution"] = _HOW.get(how, how) if how else base
            err = f["err"]
            rec["access"] = "exec" if err & 16 else "write" if err & 2 else "read"
        elif event == "segv":
            rec["resolution"] = "SIGSEGV"
            err = f["err"]
            rec["access"] = "exec" if err & 16 else "write" if err & 2 else "read"
        if event in ("syscall", "signal", "exec", "segv"):
            self.vm_base = self.K.vmstat.as_dict()
        if len(self.log) >= LOG_MAX:
            del self.log[:LOG_MAX // 10]
        self.log.append(rec)
        if self.stop.wants(rec):
            self.pause(rec)

    def _resolution(self) -> str:
        now = self.K.vmstat.as_dict()
        base, self.vm_base = self.vm_base, now
        for key, name in _RESOLUTIONS:
            if now[key] > base[key]:
                return name
        return "spurious"

    # --- answering requests while stopped ------------------------------------
    def pause(self, where: dict) -> None:
        """Stopped at `where`: answer requests until one resumes the run."""
        self.here = where
        self.reply(("stopped", where))
        self.serve()

    def reply(self, msg: Any, fds: tuple = ()) -> None:
        try:
            send_msg(self.sock, msg, fds)
        except OSError:
            os._exit(0)

    def serve(self) -> None:
        while True:
            try:
                (op, args), _ = recv_msg(self.sock)
            except (EOFError, OSError):
                os._exit(0)
            if op == "cont":
                self.stop = Stop(**args)
                self._arm()
                if self.done:
                    self.reply(("stopped", self.here))
                    continue
                return
            if op == "quit":
                self.reply(("ok", None))
                os._exit(0)
            try:
                fn = getattr(self, "op_" + op)
                value = fn(*args)
                if value is _REPLIED:
                    continue
                result = ("ok", value)
            except ins.InspectError as e:
                result = ("error", str(e))
            except Exception as e:  # noqa: BLE001 - reported to the caller, engine lives on
                result = ("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
            self.reply(result)

    def _entered(self) -> Any:
        from kernel.state import entered
        return entered(self.K)

    # --- requests ---------------------------------------------------------------
    def op_where(self) -> dict:
        return dict(self.here, insns_now=self.insns(), seq_now=self.seq, done=self.done)

    def op_tasks(self) -> list:
        return ins.task_list(self.K)

    def op_regs(self, pid: Optional[int]) -> dict:
        with self._entered():
            return ins.registers(self.K, pid)

    def op_set_reg(self, pid: Optional[int], name: str, value: int) -> None:
        with self._entered():
            ins.set_register(self.K, pid, name, value)

    def op_read(self, pid: Optional[int], addr: int, n: int) -> bytes:
        return ins.read_memory(self.K, pid, addr, n)

    def op_write(self, pid: Optional[int], addr: int, data: bytes) -> None:
        with self._entered():
            ins.write_memory(self.K, pid, addr, data)

    def op_vmas(self, pid: Optional[int]) -> list:
        return ins.vma_list(self.K, pid)

    def op_walk(self, pid: Optional[int], addr: int) -> dict:
        return ins.page_walk(self.K, pid, addr)

    def op_log(self, since: int) -> list:
        return [r for r in self.log if r["seq"] > since]

    def op_stats(self) -> dict:
        from kernel.sched.core import blocks_run, syscalls_run
        K = self.K
        with self._entered():
            d = dict(K.vmstat.as_dict(), **K.counters)
            d.update(syscalls=syscalls_run(), blocks=blocks_run(), insns=self.insns(),
                     frames_used=K.alloc.nr_used(), events=self.seq,
                     context_switches=sum(c.nr_switches for c in K.cpus))
        return d

    def op_status(self) -> Optional[dict]:
        return self.status

    def op_set_breakpoints(self, addrs: list) -> None:
        for a in addrs:
            if a >= KERNEL_BASE or a < 0:
                raise ins.InspectError(f"breakpoint at {a:#x}: not a user address")
        self.breakpoints = list(addrs)

    def op_snapshot(self) -> dict:
        """Fork a stopped copy of this engine; its socket goes to the caller."""
        mine, theirs = socket.socketpair()
        out_pos = [os.lseek(fd, 0, os.SEEK_END) for fd in (1, 2)]
        in_pos = os.lseek(0, 0, os.SEEK_CUR) if _seekable(0) else None
        pid = os.fork()
        if pid == 0:
            self.sock.close()
            mine.close()
            # Only a running engine forked from the snapshot gets here.
            return self._checkpoint(theirs, out_pos, in_pos)
        theirs.close()
        self.reply(("ok", {"pid": pid, "insns": self.insns(), "seq": self.seq,
                           "here": self.here}), fds=(mine.fileno(),))
        mine.close()
        return _REPLIED

    def _checkpoint(self, sock: socket.socket, out_pos: list, in_pos: Optional[int]) -> dict:
        """Stay stopped; each "activate" forks a running engine from here."""
        while True:
            try:
                (_op, _args), fds = recv_msg(sock, want_fds=1)
            except (EOFError, OSError):
                os._exit(0)
            if not fds:
                os._exit(0)
            child = os.fork()
            if child == 0:
                sock.close()
                self.sock = socket.socket(fileno=fds[0])
                for fd, pos in zip((1, 2), out_pos):
                    os.ftruncate(fd, pos)
                    os.lseek(fd, pos, os.SEEK_SET)
                if in_pos is not None:
                    os.lseek(0, in_pos, os.SEEK_SET)
                return dict(self.here, engine=os.getpid())
            os.close(fds[0])
            send_msg(sock, ("ok", child))


def _seekable(fd: int) -> bool:
    try:
        os.lseek(fd, 0, os.SEEK_CUR)
        return True
    except OSError:
        return False


def engine_main(sock: socket.socket, path: str, argv: list[bytes], envp: list[bytes], cwd: str,
                opts: Any, check: bool) -> None:
    """Body of the engine process: boot, stop before the first
    instruction, run to the end, then answer requests until told to quit."""
    from kernel.binfmt_elf import ExecFormatError
    from kernel.main import boot, run_kernel, shutdown, start_guest
    from kernel.panic import Errno, KernelBug, OutOfMemory
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # snapshots' forks reap themselves
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # ^C belongs to the front end
    try:
        K = boot(opts)
        if check:
            from kernel.check import attach_checker
            attach_checker(K)
        eng = Engine(sock, K)
        start_guest(K, path, argv, envp, cwd)
    except (ExecFormatError, Errno, OutOfMemory, OSError) as e:
        send_msg(sock, ("error", f"{os.path.basename(path)}: cannot execute: {e}"))
        os._exit(0)
    eng.pause({"kind": "start", "insns": 0, "seq": 0, "pid": K.main_task.pid})
    reason = ""
    try:
        run_kernel(K)
    except KernelBug as e:
        reason = f"kernel BUG: {e}"
    except Exception as e:  # noqa: BLE001 - an invariant check or a bug: reported
        reason = f"{type(e).__name__}: {e}"
    try:
        os.fsync(1)
    except OSError:
        pass
    eng.done = True
    st = K.main_status
    eng.status = {"wait_status": st, "reason": reason or K.stop_reason,
                  "exit_code": None if st is None or st & 0x7F else (st >> 8) & 0xFF,
                  "signal": st & 0x7F if st is not None and st & 0x7F else None}
    if not reason:
        try:
            shutdown(K)
        except Exception as e:  # noqa: BLE001
            eng.status["reason"] = f"shutdown: {e}"
    eng.pause(dict(eng.status, kind="exited", insns=eng.insns(), seq=eng.seq, pid=0))
    eng.serve()
