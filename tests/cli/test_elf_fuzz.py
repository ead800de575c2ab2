"""Malformed ELF files made by mutating guest/build/hello (hypothesis,
derandomized): header fields and program headers set to out-of-range,
overlapping, huge, kernel-half and misaligned values, truncations and byte
flips.  Each run ends with a one-line `tinyunix: ...` error and exit 126,
or the program loads and then exits or dies by a signal -- never a Python
traceback, never exit 70 (kernel BUG), never a hang.

TINYUNIX_FUZZ_EXAMPLES=N runs N examples instead of the quick default.
These files are only ever run under tinyunix, never natively.
"""
from __future__ import annotations

import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "guest" / "build" / "hello"
EXAMPLES = int(os.environ.get("TINYUNIX_FUZZ_EXAMPLES", "40"))
U64 = (1 << 64) - 1

# Elf64_Ehdr fields: name -> (offset, struct format)
EHDR = {"e_type": (16, "<H"), "e_machine": (18, "<H"), "e_entry": (24, "<Q"),
        "e_phoff": (32, "<Q"), "e_shoff": (40, "<Q"), "e_ehsize": (52, "<H"),
        "e_phentsize": (54, "<H"), "e_phnum": (56, "<H"), "e_shentsize": (58, "<H"),
        "e_shnum": (60, "<H"), "e_shstrndx": (62, "<H")}
# Elf64_Phdr fields
PHDR = {"p_type": (0, "<I"), "p_flags": (4, "<I"), "p_offset": (8, "<Q"),
        "p_vaddr": (16, "<Q"), "p_paddr": (24, "<Q"), "p_filesz": (32, "<Q"),
        "p_memsz": (40, "<Q"), "p_align": (48, "<Q")}

BOUNDARY = [0, 1, 2, 3, 6, 55, 56, 57, 63, 64, 0xFFF, 0x1000, 0x10000, 0x400000, 0x401000,
            0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, 1 << 32, 1 << 46, 1 << 47, 0x7FFF_FFFF_F000,
            0x7FFF_FFFF_FFFF, 0x8000_0000_0000, 0xFFFF_8000_0000_0000, 0xFFFF_FF80_0000_0000,
            (1 << 63) - 1, 1 << 63, U64 - 0xFFF, U64]


def run(path: str) -> subprocess.CompletedProcess:
    # --max-instructions: a mutated entry may jump into a loop; the guest
    # is then stopped with a message (that is not an emulator hang).
    return subprocess.run([sys.executable, "-m", "tinyunix", "run", "--memory", "64M",
                           "--max-instructions", "5000000", path], cwd=REPO,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          errors="replace", timeout=60, check=False)


def check(p: subprocess.CompletedProcess) -> None:
    err = p.stderr
    assert "Traceback" not in err and "kernel BUG" not in err, err[-3000:]
    assert p.returncode != 70, err
    if p.returncode == 126:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("tinyunix: "), err
    # Otherwise it loaded: hello as before, or a guest that died by a
    # signal, or one that ran off somewhere (a moved entry point, a
    # shifted segment, a bad PT_GNU_RELRO that the guest's own libc
    # complains about on stderr): any exit status is the guest's.


def _field(table: dict, name: str, base: int, data: bytearray, value: int) -> None:
    off, fmt = table[name]
    size = struct.calcsize(fmt)
    if base + off + size <= len(data):
        struct.pack_into(fmt, data, base + off, value & ((1 << (8 * size)) - 1))


def _phdr_base(data: bytes, i: int) -> int:
    if len(data) < 40:
        return len(data)          # truncated before e_phoff: nothing to mutate
    phoff = struct.unpack_from("<Q", data, 32)[0]
    return phoff + 56 * i


values = st.one_of(st.sampled_from(BOUNDARY), st.integers(0, U64), st.integers(0, 0x200000))

mutation = st.one_of(
    st.tuples(st.just("ehdr"), st.sampled_from(sorted(EHDR)), values),
    st.tuples(st.just("phdr"), st.tuples(st.integers(0, 9), st.sampled_from(sorted(PHDR))), values),
    st.tuples(st.just("phdr"), st.tuples(st.integers(0, 3), st.sampled_from(
        ["p_offset", "p_vaddr", "p_filesz", "p_memsz"])), values),
    # p_vaddr += delta (misaligned, overlapping, kernel half)
    st.tuples(st.just("shift"), st.integers(0, 3), st.one_of(
        st.integers(-0x100000, 0x100000), st.sampled_from([1, 8, 0x1000, -0x1000, 1 << 46,
                                                           0xFFFF_8000_0000_0000]))),
    st.tuples(st.just("copy"), st.integers(0, 9), st.integers(0, 9)),   # duplicate a phdr
    st.tuples(st.just("flip"), st.integers(0, 64 + 56 * 10 - 1), st.integers(0, 7)),
    st.tuples(st.just("cut"), st.integers(0, 800_000), st.just(0)),
)


def mutate(data: bytearray, muts: list) -> bytes:
    for kind, a, b in muts:
        if kind == "ehdr":
            _field(EHDR, a, 0, data, b)
        elif kind == "phdr":
            _field(PHDR, a[1], _phdr_base(data, a[0]), data, b)
        elif kind == "shift":
            base = _phdr_base(data, a)
            if base + 24 <= len(data):
                v = struct.unpack_from("<Q", data, base + 16)[0]
                struct.pack_into("<Q", data, base + 16, (v + b) & U64)
        elif kind == "copy":
            src, dst = _phdr_base(data, a), _phdr_base(data, b)
            if max(src, dst) + 56 <= len(data):
                data[dst:dst + 56] = data[src:src + 56]
        elif kind == "flip":
            if a < len(data):
                data[a] ^= 1 << b
        elif kind == "cut":
            del data[a:]
    return bytes(data)


@pytest.fixture(scope="module")
def hello(guests) -> bytes:
    if not HELLO.exists():
        pytest.skip("guest/build/hello not built")
    return HELLO.read_bytes()


@pytest.mark.usefixtures("hello")
@settings(derandomize=True, max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(muts=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_elf(muts: list) -> None:
    # hello is read here, not passed in: hypothesis would print all of it.
    data = mutate(bytearray(HELLO.read_bytes()), muts)
    with tempfile.TemporaryDirectory(prefix="elfz") as d:
        path = Path(d) / "mutant"
        path.write_bytes(data)
        path.chmod(0o755)
        p = run(str(path))
    check(p)


# Each named case, run as a plain test: the error it must give.
def _set(table: dict, name: str, value: int, index: int = 0):
    def f(d: bytearray) -> None:
        _field(table, name, 0 if table is EHDR else _phdr_base(d, index), d, value)
    return f


CASES = {
    "phoff past end": (_set(EHDR, "e_phoff", 1 << 40), "program headers past end"),
    "phoff overflow": (_set(EHDR, "e_phoff", U64 - 8), "program headers past end"),
    "phnum zero": (_set(EHDR, "e_phnum", 0), "bad program header table"),
    "phnum huge": (_set(EHDR, "e_phnum", 0xFFFF), "bad program header table"),
    "phentsize": (_set(EHDR, "e_phentsize", 32), "bad program header table"),
    "offset past end": (_set(PHDR, "p_offset", 1 << 40, 1), "past end of file"),
    "filesz past end": (_set(PHDR, "p_filesz", 1 << 30, 1), "p_filesz > p_memsz"),
    "memsz < filesz": (_set(PHDR, "p_memsz", 0x10, 1), "p_filesz > p_memsz"),
    "vaddr kernel half": (_set(PHDR, "p_vaddr", 0xFFFF_FF80_0000_0000, 1), "outside user space"),
    "vaddr non-canonical": (_set(PHDR, "p_vaddr", 0x8000_0000_1000, 1), "outside user space"),
    "vaddr misaligned": (_set(PHDR, "p_vaddr", 0x401001, 1), "congruent"),
    "memsz 2^64-1": (_set(PHDR, "p_memsz", U64, 3), "outside user space"),
    "vaddr page 0": (_set(PHDR, "p_vaddr", 0, 0), "lowest mappable"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_elf_case(hello: bytes, tmp_path: Path, name: str) -> None:
    fix, words = CASES[name]
    data = bytearray(hello)
    fix(data)
    path = tmp_path / "mutant"
    path.write_bytes(bytes(data))
    path.chmod(0o755)
    p = run(str(path))
    check(p)
    assert p.returncode == 126 and words in p.stderr, p.stderr


def test_overlapping_segments(hello: bytes, tmp_path: Path) -> None:
    data = bytearray(hello)
    data[_phdr_base(data, 2):_phdr_base(data, 2) + 56] = data[_phdr_base(data, 1):_phdr_base(data, 1) + 56]
    struct.pack_into("<Q", data, _phdr_base(data, 2) + 16, 0x402000)   # inside segment 1
    struct.pack_into("<Q", data, _phdr_base(data, 2) + 8, 0x2000)
    path = tmp_path / "mutant"
    path.write_bytes(bytes(data))
    path.chmod(0o755)
    p = run(str(path))
    check(p)
    assert p.returncode == 126 and "overlapping" in p.stderr, p.stderr


def test_huge_bss_loads_lazily(hello: bytes, tmp_path: Path) -> None:
    """p_memsz of 2^46 (64 TiB of .bss) maps lazily and the program runs."""
    data = bytearray(hello)
    struct.pack_into("<Q", data, _phdr_base(data, 3) + 40, 1 << 46)
    path = tmp_path / "mutant"
    path.write_bytes(bytes(data))
    path.chmod(0o755)
    p = run(str(path))
    check(p)
    assert p.returncode == 3 and p.stdout == "hello, world\n", p.stderr


@pytest.mark.parametrize("field,value", [("e_shoff", 1 << 40), ("e_shstrndx", 0xFFFF),
                                         ("e_shentsize", 3), ("e_shnum", 0xFFFF)])
def test_section_headers_are_ignored(hello: bytes, tmp_path: Path, field: str, value: int) -> None:
    """load_elf_binary never reads section headers: garbage there still runs."""
    data = bytearray(hello)
    _field(EHDR, field, 0, data, value)
    path = tmp_path / "mutant"
    path.write_bytes(bytes(data))
    path.chmod(0o755)
    p = run(str(path))
    check(p)
    assert p.returncode == 3 and p.stdout == "hello, world\n", p.stderr
