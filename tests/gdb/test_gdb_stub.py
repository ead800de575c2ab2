"""`tinyunix run --gdb`: the real gdb drives a guest built with -g
(guest/fault_paths), and a raw client checks the protocol's edges."""
import re
import shutil
import socket
import subprocess
import sys

import pytest


def _start(*args: str) -> tuple[subprocess.Popen, int]:
    p = subprocess.Popen([sys.executable, "-m", "tinyunix", "run", "--gdb", "127.0.0.1:0", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = re.search(r"waiting for gdb on [\d.]+:(\d+)", line)
    assert m, line + p.stderr.read()
    return p, int(m.group(1))


@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
def test_real_gdb_breaks_steps_and_reads(fault_paths):
    stub, port = _start(fault_paths, "cow")
    gdb = subprocess.run(
        ["gdb", "-batch", "-nx", fault_paths, "-ex", "set confirm off",
         "-ex", f"target remote 127.0.0.1:{port}", "-ex", "break main", "-ex", "continue",
         "-ex", "info registers rip", "-ex", "stepi", "-ex", "info registers rip",
         "-ex", "p page[0]", "-ex", "info threads", "-ex", "p $fs_base != 0",
         "-ex", "delete", "-ex", "continue"],
        capture_output=True, text=True, timeout=120)
    out, _ = stub.communicate(timeout=60)
    text = gdb.stdout
    assert "Breakpoint 1, main (" in text
    assert re.search(r"rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <main>", text)
    assert "<main+2>" in text                       # stepi moved one instruction
    assert "$1 = 1" in text                         # page[0] read from the file, not faulted in
    assert "pid 3 fault_paths" in text              # tasks are threads
    assert "$2 = 1" in text                         # fs_base through target.xml
    assert "exited normally" in text
    assert out == "cow: child 0, parent sees 11\n"
    assert stub.returncode == 0


def _packet(s: socket.socket, payload: bytes) -> bytes:
    s.sendall(b"$" + payload + b"#" + b"%02x" % (sum(payload) & 0xFF))
    buf = b""
    while not (buf.count(b"#") and len(buf) >= buf.index(b"#") + 3):
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf.lstrip(b"+")


def test_malformed_packets_and_a_vanishing_gdb_end_cleanly(guests):
    stub, port = _start(str(guests / "hello"))
    s = socket.create_connection(("127.0.0.1", port))
    assert _packet(s, b"?").startswith(b"$T05thread:3;")
    assert _packet(s, b"mzz,4").startswith(b"$E")           # not hex
    assert _packet(s, b"m10,4").startswith(b"$E14")          # not mapped
    assert _packet(s, b"Z0,ffffff8000000000,1").startswith(b"$E")   # kernel half
    assert _packet(s, b"qNoSuchThing") == b"$#00"
    s.sendall(b"$m4000")                                     # gone mid-packet
    s.close()
    _out, err = stub.communicate(timeout=60)
    assert stub.returncode == 137           # gdb left before the guest ended
    assert "Traceback" not in err


def test_port_in_use_is_a_clear_error(guests):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    r = subprocess.run([sys.executable, "-m", "tinyunix", "run", "--gdb", f"127.0.0.1:{port}",
                        str(guests / "hello")], capture_output=True, text=True, timeout=60)
    busy.close()
    assert r.returncode == 2 and "in use" in r.stderr and "Traceback" not in r.stderr
