"""Dynamically linked programs (issue 12): the host's own programs and
dynamically linked builds of our guests run under tinyunix with --check,
through the host's ld.so, with the same stdout and status as natively."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, guest_programs, run_native, run_tinyunix
from test_differential import EXPECTED_STATUS, _compare

DYNAMIC = guest_programs("dynamic")


@pytest.mark.parametrize("name", DYNAMIC)
def test_dynamic_guest(guests: Path, name: str) -> None:
    prog = guests / "dyn" / name
    native = run_native(prog)
    assert native.status == EXPECTED_STATUS.get(name, 0)
    _compare(f"dyn/{name}", native, run_tinyunix(prog))


def _host(prog: str) -> Path:
    path = shutil.which(prog)
    if path is None:
        pytest.skip(f"no {prog} on this host")
    return Path(path)


# Host programs, each with the arguments it runs with.  They read only
# files of this repository, so the output is the same everywhere.
HOST_CASES = {
    "sh-arith": ("sh", ["-c", "echo hi; echo $((6*7))"]),
    "sh-sort": ("sh", ["-c", 'printf "b\\na\\n" | sort']),
    "sh-status": ("sh", ["-c", "false || exit 5"]),
    "ls-d": ("ls", ["-d", "/"]),
    "cat": ("cat", ["guest/hello.c"]),
    "env": ("env", ["-i", "A=1", "B=two", "env"]),
    "sh-script-exec": ("sh", ["-c", "exec /bin/echo exec'd"]),
    "head-wc": ("sh", ["-c", "head -3 guest/hello.c | wc -l"]),
}


@pytest.mark.parametrize("case", list(HOST_CASES))
def test_host_program(case: str) -> None:
    prog, args = HOST_CASES[case]
    path = _host(prog)
    _compare(case, run_native(path, args), run_tinyunix(path, args))


def test_script_with_dynamic_interpreter(tmp_path: Path) -> None:
    """A `#!/bin/sh` script run by path: the kernel execs sh (dynamic)
    with the script's path as argv[1]."""
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh\necho \"$0\" \"$1\"\nexit 3\n")
    script.chmod(0o755)
    _compare("script", run_native(script, ["arg"]), run_tinyunix(script, ["arg"]))


def test_python3() -> None:
    """python3 -S -c: the interpreter starts (lists directories, reads
    its frozen modules), computes and prints as natively.  Measured on a
    loaded 2-core machine: ~3 s of CPU (19 s wall) without --check, about
    1.5x that with it; -S (no site module) keeps it to that."""
    path = _host("python3")
    args = ["-S", "-c", "print(1+1); import os; print(os.getpid() > 0)"]
    _compare("python3", run_native(path, args), run_tinyunix(path, args, timeout=400))


def test_guest_sees_only_what_the_emulator_runs(tmp_path: Path) -> None:
    """CPUID as the guest sees it: no AVX/AVX2/AVX-512, no XSAVE/OSXSAVE
    (FXSAVE signal frames), no RDRAND/RDSEED (not repeatable); SSE4.2 and
    POPCNT are there (Unicorn runs them)."""
    src = tmp_path / "cpuid.c"
    src.write_text(r"""
#include <stdio.h>
#include <cpuid.h>
int main(void) {
    unsigned a, b, c, d, lo, hi, aux;
    __cpuid_count(1, 0, a, b, c, d); printf("1 %x %x\n", c, d);
    __cpuid_count(7, 0, a, b, c, d); printf("7 %x %x %x\n", b, c, d);
    __cpuid_count(0xd, 0, a, b, c, d); printf("d %x %x\n", a, b);
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    printf("aux %u\n", aux);
    return 0;
}
""")
    exe = tmp_path / "cpuid"
    subprocess.run(["gcc", "-O2", "-static", "-o", str(exe), str(src)], check=True)
    r = run_tinyunix(exe)
    assert r.status == 0, r.stderr
    out = dict((line.split()[0], [int(x, 16) for x in line.split()[1:]])
               for line in r.text().splitlines())
    ecx1, edx1 = out["1"]
    assert ecx1 & (1 << 20) and ecx1 & (1 << 23)                   # SSE4.2, POPCNT
    assert not ecx1 & ((1 << 26) | (1 << 27) | (1 << 28) | (1 << 12) | (1 << 30))
    ebx7, _ecx7, _edx7 = out["7"]
    assert not ebx7 & ((1 << 5) | (1 << 16) | (1 << 18))          # AVX2, AVX-512F, RDSEED
    assert out["d"] == [0, 0]
    assert out["aux"] == [0]


def test_ld_so_chooses_no_avx() -> None:
    """glibc's own view (ld.so --list-diagnostics): no AVX usable, so no
    AVX string routine is ever picked."""
    ld = Path("/lib64/ld-linux-x86-64.so.2")
    if not ld.exists():
        pytest.skip("no /lib64/ld-linux-x86-64.so.2")
    r = run_tinyunix(ld, ["--list-diagnostics"])
    if r.status != 0:
        pytest.skip("this ld.so has no --list-diagnostics")
    m = re.search(r"x86\.cpu_features\.isa_1=(0x[0-9a-f]+)", r.text())
    assert m, r.text()[-2000:]
    # isa_1: bit 0 baseline, bit 1 x86-64-v2, bit 2 v3 (AVX2), bit 3 v4 (AVX-512).
    assert int(m.group(1), 16) == 0x3


def test_cli_reports_program_through_interp(tmp_path: Path) -> None:
    """`tinyunix run` of a relative dynamic program from REPO works too."""
    r = run_tinyunix(REPO / "guest" / "build" / "dyn" / "hello")
    assert r.status == 3 and r.stdout == b"hello, world\n"


def _pagecache_reads(stderr: bytes) -> int:
    m = re.search(rb"page cache: (\d+) file pages read in", stderr)
    assert m, stderr[-2000:]
    return int(m.group(1))


def _frames_in_use(stderr: bytes) -> int:
    m = re.search(rb"frames in use: (\d+)", stderr)
    assert m, stderr[-2000:]
    return int(m.group(1))


@pytest.mark.parametrize("background", [";", "&"], ids=["one-by-one", "concurrently"])
def test_processes_share_library_frames(background: str) -> None:
    """Eight dynamically linked shells (one after the other, or all alive
    at once) read no more file pages than one: libc, ld.so and sh are read
    into the page cache once and every process maps those frames."""
    sh = _host("sh")
    loop = ("i=0; while [ $i -lt {n} ]; do /bin/sh -c /bin/true " + background
            + " i=$((i+1)); done; wait")
    one = run_tinyunix(sh, ["-c", loop.format(n=1)], options=["--stats"])
    many = run_tinyunix(sh, ["-c", loop.format(n=8)], options=["--stats"])
    assert one.status == 0 and many.status == 0, many.stderr[-2000:]
    assert _pagecache_reads(many.stderr) == _pagecache_reads(one.stderr)
    assert _frames_in_use(many.stderr) == 0
