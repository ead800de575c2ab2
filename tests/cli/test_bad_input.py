"""Bad programs get a one-line error and a non-zero exit, never a traceback."""
from __future__ import annotations


import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "guest" / "build" / "hello"


def run(prog: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinyunix", "run", prog, *args], cwd=REPO,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def check_refused(p: subprocess.CompletedProcess, code: int, words: str) -> None:
    assert p.returncode == code, p.stderr
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinyunix: ") and words in lines[0], p.stderr


def test_missing_program_is_127(tmp_path: Path) -> None:
    check_refused(run(str(tmp_path / "nope")), 127, "No such file or directory")


def _exe(tmp_path: Path, name: str, data: bytes) -> str:
    f = tmp_path / name
    f.write_bytes(data)
    f.chmod(0o755)
    return str(f)


def test_not_elf(tmp_path: Path) -> None:
    check_refused(run(_exe(tmp_path, "text", b"hello\n")), 126, "not an ELF")


def test_script_runs_its_dynamic_interpreter(tmp_path: Path) -> None:
    """`#!/bin/false`: the interpreter (dynamically linked) runs, status 1."""
    p = run(_exe(tmp_path, "text", b"#!/bin/false\nhello\n"))
    assert p.returncode == 1 and p.stderr == "", p.stderr


def test_script_with_missing_interpreter_is_127(tmp_path: Path) -> None:
    check_refused(run(_exe(tmp_path, "text", b"#!/no/such/sh\n")), 127,
                  "interpreter /no/such/sh: No such file or directory")


@pytest.mark.parametrize("cut", [10, 63, 200, 3000])
def test_truncated_elf(tmp_path: Path, cut: int) -> None:
    data = HELLO.read_bytes()[:cut]
    p = run(_exe(tmp_path, "trunc", data))
    check_refused(p, 126, "ELF")


def test_32bit_elf(tmp_path: Path) -> None:
    data = bytearray(HELLO.read_bytes())
    data[4] = 1  # ELFCLASS32
    check_refused(run(_exe(tmp_path, "elf32", bytes(data))), 126, "32-bit")


def test_non_x86_elf(tmp_path: Path) -> None:
    data = bytearray(HELLO.read_bytes())
    struct.pack_into("<H", data, 18, 183)  # EM_AARCH64
    check_refused(run(_exe(tmp_path, "arm", bytes(data))), 126, "x86-64")


def test_entry_outside_image(tmp_path: Path) -> None:
    data = bytearray(HELLO.read_bytes())
    struct.pack_into("<Q", data, 24, 0xDEAD0000)
    check_refused(run(_exe(tmp_path, "entry", bytes(data))), 126, "entry point")


def test_dynamic_program_runs() -> None:
    true = shutil.which("true")
    assert true is not None
    p = run(true)
    assert p.returncode == 0 and p.stderr == "", p.stderr


def _with_interp(tmp_path: Path, interp: bytes) -> str:
    """/bin/true with its PT_INTERP path replaced (same length or shorter)."""
    true = shutil.which("true")
    assert true is not None
    data = bytearray(Path(true).read_bytes())
    old = b"/lib64/ld-linux-x86-64.so.2\0"
    i = data.index(old)
    data[i:i + len(old)] = interp.ljust(len(old), b"\0")
    return _exe(tmp_path, "dyn", bytes(data))


def test_missing_interpreter_is_127(tmp_path: Path) -> None:
    check_refused(run(_with_interp(tmp_path, b"/nonexistent/ld.so")), 127,
                  "interpreter /nonexistent/ld.so: No such file or directory")


def test_interpreter_not_elf_is_elibbad(tmp_path: Path) -> None:
    ldd = Path("/usr/bin/ldd")      # an executable shell script on Debian
    if not ldd.exists() or ldd.read_bytes()[:2] != b"#!":
        pytest.skip("no /usr/bin/ldd script")
    check_refused(run(_with_interp(tmp_path, b"/usr/bin/ldd")), 126, "ELIBBAD")


def test_dynamic_interpreter_is_elibbad(tmp_path: Path) -> None:
    check_refused(run(_with_interp(tmp_path, b"/bin/true")), 126, "ELIBBAD")


def test_guest_segfault_status_and_emulator_survives() -> None:
    seg = REPO / "guest" / "build" / "segfault"
    if not seg.exists():
        pytest.skip("guest/build/segfault not built")
    p = run(str(seg))
    assert p.returncode == 128 + 11 and "Traceback" not in p.stderr


def test_hello_status() -> None:
    p = run(str(HELLO))
    assert p.stdout == "hello, world\n" and p.returncode == 3, (p.stdout, p.stderr)


