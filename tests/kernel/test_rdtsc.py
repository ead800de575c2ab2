"""rdtsc reads the virtual clock: a run repeats exactly, and time moves on."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = r"""
#include <stdio.h>
#include <x86intrin.h>
int main(void)
{
    unsigned long long a = __rdtsc(), b = __rdtsc();
    printf("%llu %llu\n", a, b);
    return 0;
}
"""


def test_rdtsc_is_virtual_and_repeats(tmp_path: Path) -> None:
    if shutil.which("gcc") is None:
        pytest.skip("no gcc")
    (tmp_path / "r.c").write_text(SRC)
    prog = tmp_path / "r"
    subprocess.run(["gcc", "-O2", "-static", "-o", str(prog), str(tmp_path / "r.c")], check=True)
    outs = [subprocess.run([sys.executable, "-m", "tinyunix", "run", str(prog)], cwd=REPO,
                           capture_output=True, text=True, timeout=60).stdout for _ in range(2)]
    assert outs[0] == outs[1]
    a, b = map(int, outs[0].split())
    assert 0 < a < b < 10**12   # virtual ns since boot, not the host's counter
