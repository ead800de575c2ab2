"""`tinyunix run --gdb [HOST:]PORT PROGRAM`: gdb's remote serial protocol
over a Machine, so `gdb PROGRAM -ex 'target remote :PORT'` can look at a
guest: registers (fs_base/gs_base through target.xml), memory through the
guest's page tables, software breakpoints (Z0/Z1, kept by the machine's
step hook, never written into guest memory), stepi, continue, every task
as a thread, detach and kill.  Guest output goes to our stdout as it is
produced.  x87 and SSE registers read as zero; watchpoints and gdb's fork
and syscall catchpoints are not offered."""
from __future__ import annotations

import socket
import sys
from typing import Optional

from .inspect import REG_NAMES
from .machine import Event, Machine, MachineError

# gdb's amd64 register numbers: 0-15 GPRs, 16 rip, 17 eflags, 18-23 segment
# selectors, 24-31 st0-7 (10 bytes), 32-39 x87 control (4), 40-55 xmm
# (16), 56 mxcsr, 57 fs_base, 58 gs_base.
_SIZES = [8] * 17 + [4] * 7 + [10] * 8 + [4] * 8 + [16] * 16 + [4] + [8, 8]
_NAMED = {i: n for i, n in enumerate(REG_NAMES[:24])}
_NAMED[57], _NAMED[58] = "fs_base", "gs_base"


def _target_xml() -> str:
    gpr = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"] + [f"r{i}" for i in range(8, 16)]
    regs = [f'<reg name="{n}" bitsize="64" type="{"data_ptr" if n in ("rbp", "rsp") else "int64"}"/>'
            for n in gpr]
    regs.append('<reg name="rip" bitsize="64" type="code_ptr"/>')
    regs.append('<reg name="eflags" bitsize="32" type="int32"/>')
    regs += [f'<reg name="{s}" bitsize="32" type="int32"/>' for s in ("cs", "ss", "ds", "es", "fs", "gs")]
    regs += [f'<reg name="st{i}" bitsize="80" type="i387_ext"/>' for i in range(8)]
    regs += [f'<reg name="{n}" bitsize="32" type="int" group="float"/>'
             for n in ("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop")]
    sse = [f'<reg name="xmm{i}" bitsize="128" type="uint128"/>' for i in range(16)]
    sse.append('<reg name="mxcsr" bitsize="32" type="int" group="vector"/>')
    seg = ['<reg name="fs_base" bitsize="64" type="int"/>', '<reg name="gs_base" bitsize="64" type="int"/>']
    return ('<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target>'
            '<architecture>i386:x86-64</architecture>'
            f'<feature name="org.gnu.gdb.i386.core">{"".join(regs)}</feature>'
            f'<feature name="org.gnu.gdb.i386.sse">{"".join(sse)}</feature>'
            f'<feature name="org.gnu.gdb.i386.segments">{"".join(seg)}</feature>'
            '</target>')


class GdbStub:
    def __init__(self, m: Machine, conn: socket.socket, out=None) -> None:
        self.m = m
        self.conn = conn
        self.out = out if out is not None else sys.stdout.buffer
        self.printed = 0
        self.thread: Optional[int] = None     # Hg: whose registers
        self.buf = b""
        self.xml = _target_xml().encode()
        self.done = False

    # --- framing ---------------------------------------------------------------
    def _read_packet(self) -> Optional[str]:
        """The next packet's payload (acknowledged), or None at EOF."""
        while True:
            start = self.buf.find(b"$")
            if start >= 0:
                end = self.buf.find(b"#", start)
                if end >= 0 and len(self.buf) >= end + 3:
                    data = self.buf[start + 1:end]
                    cs = self.buf[end + 1:end + 3]
                    self.buf = self.buf[end + 3:]
                    try:
                        ok = int(cs, 16) == sum(data) & 0xFF
                    except ValueError:
                        ok = False
                    self.conn.sendall(b"+" if ok else b"-")
                    if ok:
                        return data.decode("latin-1")
                    continue
            elif self.buf:
                self.buf = b""          # acks and ^C outside a packet
            try:
                chunk = self.conn.recv(65536)
            except OSError:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def _send(self, payload: str) -> None:
        data = payload.encode("latin-1")
        self.conn.sendall(b"$" + data + b"#" + f"{sum(data) & 0xFF:02x}".encode())

    # --- the session ---------------------------------------------------------------
    def serve(self) -> None:
        while True:
            pkt = self._read_packet()
            if pkt is None:
                return
            try:
                reply = self.handle(pkt)
            except MachineError as e:
                reply = "E01" if not str(e) else "E14"
            except (ValueError, IndexError):
                reply = "E22"       # a malformed packet: an error, never a crash
            if reply is None:       # k or D: the session is over
                return
            self._send(reply)
            self._flush_output()

    def _flush_output(self) -> None:
        data = self.m.stdout
        if len(data) > self.printed:
            self.out.write(data[self.printed:])
            self.out.flush()
            self.printed = len(data)

    def _tid(self) -> int:
        if self.thread and any(t.pid == self.thread for t in self.m.tasks()):
            return self.thread
        pid = self.m.where.get("pid") or 0
        if not pid:
            user = [t.pid for t in self.m.tasks() if not t.kthread]
            pid = user[0] if user else 1
        return pid

    def stop_reply(self, ev: Event) -> str:
        self._flush_output()
        if ev.kind == "exited":
            self.done = True
            if ev.get("signal"):
                return f"X{ev.signal:02x}"
            return f"W{(ev.get('exit_code') or 0) & 0xFF:02x}"
        self.thread = None
        extra = "swbreak:;" if ev.kind == "breakpoint" else ""
        return f"T05thread:{ev.pid or self._tid():x};{extra}"

    def handle(self, pkt: str) -> Optional[str]:
        m = self.m
        c = pkt[0]
        if pkt.startswith("qSupported"):
            return "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+"
        if pkt.startswith("qXfer:features:read:"):
            _annex, rng = pkt[len("qXfer:features:read:"):].rsplit(":", 1)
            off, n = (int(x, 16) for x in rng.split(","))
            chunk = self.xml[off:off + n]
            return ("l" if off + n >= len(self.xml) else "m") + chunk.decode()
        if pkt == "?":
            return self.stop_reply(m.where) if not m.done else self.stop_reply(m.where)
        if pkt == "qAttached":
            return "1"
        if pkt == "qC":
            return f"QC{self._tid():x}"
        if pkt == "qfThreadInfo":
            tids = [t.pid for t in m.tasks() if not t.kthread]
            return "m" + ",".join(f"{t:x}" for t in tids) if tids else "l"
        if pkt == "qsThreadInfo":
            return "l"
        if pkt.startswith("qThreadExtraInfo,"):
            t = m.task(int(pkt.split(",")[1], 16))
            return f"pid {t.pid} {t.comm} ({t.state})".encode().hex()
        if c == "H":
            tid = int(pkt[2:], 16) if pkt[2:] not in ("", "-1", "0") else None
            if pkt[1] == "g":
                self.thread = tid
            return "OK"
        if c == "T":
            m.task(int(pkt[1:], 16))
            return "OK"
        if c == "g":
            return self._all_regs()
        if c == "G":
            return self._write_all_regs(pkt[1:])
        if c == "p":
            return self._reg(int(pkt[1:], 16))
        if c == "P":
            n, val = pkt[1:].split("=")
            return self._set_reg(int(n, 16), bytes.fromhex(val))
        if c == "m":
            addr, n = (int(x, 16) for x in pkt[1:].split(","))
            try:
                return m.read(addr, min(n, 0x4000), self._tid()).hex()
            except MachineError:
                return "E14"
        if c == "M":
            head, data = pkt[1:].split(":")
            addr = int(head.split(",")[0], 16)
            m.write(addr, bytes.fromhex(data), self._tid())
            return "OK"
        if c in "Zz" and pkt[1] in "01":
            _t, addr, _kind = pkt[1:].split(",")
            a = int(addr, 16)
            if c == "Z":
                m.break_at(a)
            elif a in m.breakpoints:
                m.breakpoints.remove(a)
                m._call("set_breakpoints", m.breakpoints)
            return "OK"
        if pkt == "vCont?":
            return "vCont;c;C;s;S"
        if pkt.startswith("vCont;"):
            action = pkt[6:].split(";")[0]
            return self._resume(action[0].lower())
        if c in "cC":
            return self._resume("c")
        if c in "sS":
            return self._resume("s")
        if c == "k" or pkt.startswith("vKill"):
            return None
        if c == "D":
            self._send("OK")
            if not m.done:
                m.clear_breakpoints()
                m.run()
            self._flush_output()
            return None
        return ""       # not supported: gdb falls back

    def _resume(self, how: str) -> str:
        if self.m.done:
            return self.stop_reply(self.m.where)
        ev = self.m.stepi() if how == "s" else self.m.cont()
        return self.stop_reply(ev)

    # --- registers -------------------------------------------------------------------
    def _regs(self) -> dict:
        if self.m.done:
            return {}
        try:
            return self.m.regs(self._tid()).__dict__
        except MachineError:
            return {}

    def _reg_bytes(self, regs: dict, n: int) -> bytes:
        size = _SIZES[n] if n < len(_SIZES) else 8
        name = _NAMED.get(n)
        val = regs.get(name, 0) if name else 0
        if n == 17 and not val and not regs:
            val = 0
        return (val & ((1 << (8 * size)) - 1)).to_bytes(size, "little")

    def _all_regs(self) -> str:
        regs = self._regs()
        return b"".join(self._reg_bytes(regs, n) for n in range(len(_SIZES))).hex()

    def _reg(self, n: int) -> str:
        if n >= len(_SIZES):
            return "E45"
        return self._reg_bytes(self._regs(), n).hex()

    def _set_reg(self, n: int, val: bytes) -> str:
        name = _NAMED.get(n)
        if name is None:
            return "OK"         # x87/SSE: not kept
        if name == "rip":
            return "E01"        # moving RIP of a stopped task is not supported
        self.m.set_reg(name, int.from_bytes(val, "little"), self._tid())
        return "OK"

    def _write_all_regs(self, hexdata: str) -> str:
        data = bytes.fromhex(hexdata)
        regs = self._regs()
        off = 0
        for n, size in enumerate(_SIZES):
            name = _NAMED.get(n)
            chunk = data[off:off + size]
            off += size
            if name and name != "rip" and len(chunk) == size:
                v = int.from_bytes(chunk, "little")
                if regs.get(name) != v:
                    self.m.set_reg(name, v, self._tid())
        return "OK"


def parse_address(spec: str) -> tuple[str, int]:
    host, _, port = spec.rpartition(":")
    return host or "127.0.0.1", int(port)


def gdb_serve(m: Machine, spec: str, err=sys.stderr) -> int:
    """Wait for one gdb on spec ([HOST:]PORT), serve it; the guest's status."""
    try:
        host, port = parse_address(spec)
    except ValueError:
        err.write(f"tinyunix: --gdb {spec}: expected [HOST:]PORT\n")
        return 2
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        srv.bind((host, port))
    except OSError as e:
        err.write(f"tinyunix: --gdb {spec}: {e.strerror}\n")
        return 2
    srv.listen(1)
    err.write(f"tinyunix: waiting for gdb on {host}:{srv.getsockname()[1]}\n")
    err.flush()
    conn, _ = srv.accept()
    srv.close()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stub = GdbStub(m, conn)
    try:
        stub.serve()
    finally:
        conn.close()
    st = m.status if m.done else None
    if st is None:
        return 137          # killed from gdb (or gdb went away) before the end
    if st.get("signal"):
        return 128 + st["signal"]
    return st.get("exit_code") or 0
