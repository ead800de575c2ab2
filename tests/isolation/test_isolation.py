"""Isolation: whatever a guest does, the host is untouched.

- The guest never writes a host file: creates, writes, appends, truncates,
  unlinks and renames go to the in-memory overlay (the guest sees its own
  changes), the host file and directory stay byte for byte the same.
- With --root DIR no path leaves DIR: `..` at the root stays at the root,
  absolute symlink targets are read relative to the root, relative ones
  cannot climb out of it, loops give ELOOP (the expected results are
  Linux's chroot semantics, written out here).
- User mode never reads, writes or executes a kernel page (the kernel
  half at 0xffffff8000000000: trampoline, GDT, kernel stack): SIGSEGV.
- No host code runs for the guest: data pages do not execute (NX), jumps
  outside the guest's mappings fault, and a program it execs is emulated
  in the same sandbox.
- A huge mmap is ENOMEM, not host memory: guest RAM is bounded.

guest/isolation_fs is hostile (it writes and unlinks the paths it is given
and reads kernel addresses): it only ever runs under tinyunix.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINYUNIX = REPO / ".venv" / "bin" / "tinyunix"
ISO = REPO / "guest" / "build" / "isolation_fs"


@pytest.fixture(autouse=True)
def _built(guests) -> None:
    if not TINYUNIX.exists() or not ISO.exists():
        pytest.skip("tinyunix or guest/build/isolation_fs missing")


def tinyunix(*args: str, cwd: Path = REPO, options: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    check = ["--check"] if (REPO / "kernel" / "check.py").exists() else []
    p = subprocess.run([str(TINYUNIX), "run", *check, *options, *args], cwd=cwd, check=False,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       errors="replace", timeout=120)
    assert "Traceback" not in p.stderr and "kernel BUG" not in p.stderr, p.stderr
    assert p.returncode != 70, p.stderr
    return p


def snapshot(d: Path) -> dict:
    """Every entry under d: type, mode, size, mtime and contents."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(d):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            data = os.readlink(p) if p.is_symlink() else (p.read_bytes() if p.is_file() else b"")
            out[str(p.relative_to(d))] = (st.st_mode, st.st_size, st.st_mtime_ns, data)
    return out


# --- the overlay ----------------------------------------------------------------

def test_guest_writes_never_reach_host_files(tmp_path: Path) -> None:
    d = tmp_path / "host"
    d.mkdir()
    for name in ("keep", "trunc", "ftrunc", "gone", "moved", "appended"):
        (d / name).write_text(f"original {name}\n")
    (d / "sub").mkdir()
    before = snapshot(d)
    p = tinyunix(str(ISO),
                 f"write:{d}/keep:hacked", f"read:{d}/keep",
                 f"append:{d}/appended:more", f"read:{d}/appended",
                 f"trunc:{d}/trunc", f"ftrunc:{d}/ftrunc",
                 f"unlink:{d}/gone", f"read:{d}/gone", f"stat:{d}/gone",
                 f"create:{d}/new", f"write:{d}/new:fresh", f"read:{d}/new",
                 f"rename:{d}/moved:{d}/moved2", f"mkdir:{d}/newdir", f"unlink:{d}/sub",
                 f"rmdir:{d}/sub", f"symlink:/etc/passwd:{d}/lnk",
                 f"write:{d}/sub/inner:x")
    assert p.returncode == 0, p.stderr
    assert snapshot(d) == before
    lines = p.stdout.splitlines()
    # The guest sees its own changes (the overlay), as on Linux.
    assert f"read {d}/keep -> ok [hacked]" in lines
    assert f"read {d}/appended -> ok [original appended.more]" in lines
    assert f"unlink {d}/gone -> ok" in lines
    assert f"read {d}/gone -> ENOENT" in lines
    assert f"stat {d}/gone -> ENOENT" in lines
    assert f"create {d}/new -> ok" in lines
    assert f"read {d}/new -> ok [fresh]" in lines
    assert f"unlink {d}/sub -> EISDIR" in lines
    assert f"rename {d}/moved -> ok" in lines or any(x.startswith(f"rename {d}/moved") and
                                                      x.endswith("ok") for x in lines)
    assert f"rmdir {d}/sub -> ok" in lines
    assert f"write {d}/sub/inner -> ENOENT" in lines
    assert not (d / "new").exists() and not (d / "newdir").exists()


def test_overlay_file_is_not_executable_and_host_unchanged(tmp_path: Path) -> None:
    """Writing over a host program in the overlay does not change it."""
    prog = tmp_path / "hello"
    shutil.copy(REPO / "guest" / "build" / "hello", prog)
    before = prog.read_bytes()
    p = tinyunix(str(ISO), f"write:{prog}:#!/bin/sh", f"read:{prog}")
    assert f"read {prog} -> ok [#!/bin/sh]" in p.stdout.splitlines()
    assert prog.read_bytes() == before


def test_proc_self_is_not_the_emulator() -> None:
    """/proc/self on the host is the emulator, and /proc/1 the host's
    init: their memory, environment and maps are not the guest's to read.
    The guest's /proc is its own: its maps are the guest's address space,
    /proc/1 is the guest kernel's init, and no mem file exists."""
    p = tinyunix(str(ISO), "read:/proc/self/mem", "read:/proc/self/environ",
                 "read:/proc/thread-self/maps", "read:/proc/1/status", "read:/proc/1/mem",
                 "stat:/proc/1", "stat:/proc/self/fd", "stat:/proc/self/fd/1")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0] == "read /proc/self/mem -> ENOENT", p.stdout
    assert lines[1].startswith("read /proc/self/environ -> ok"), p.stdout
    assert lines[2].startswith("read /proc/thread-self/maps -> ok [00400000-"), p.stdout
    assert lines[3].startswith("read /proc/1/status -> ok [Name:.init."), p.stdout
    assert lines[4] == "read /proc/1/mem -> ENOENT", p.stdout
    assert lines[5].startswith("stat /proc/1 -> ok dir"), p.stdout
    assert lines[6].startswith("stat /proc/self/fd -> ok dir"), p.stdout
    assert lines[7].startswith("stat /proc/self/fd/1 -> ok"), p.stdout


# --- --root confinement -----------------------------------------------------------

@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root directory with escape attempts in it; the host's secret is
    next to it, outside."""
    (tmp_path / "secret.txt").write_text("SECRET outside the root\n")
    r = tmp_path / "root"
    (r / "etc").mkdir(parents=True)
    (r / "bin").mkdir()
    (r / "data" / "sub").mkdir(parents=True)
    (r / "etc" / "passwd").write_text("inside passwd\n")
    (r / "data" / "file.txt").write_text("inside data\n")
    shutil.copy(ISO, r / "bin" / "isolation_fs")
    links = {
        "abs_link": "/etc/passwd",
        "rel_escape": "../../../../../../../../etc/passwd",
        "abs_dir": "/",
        "up": "..",
        "secret_rel": "../secret.txt",
        "secret_abs": str(tmp_path / "secret.txt"),
        "host_root_dir": str(tmp_path),
        "loop_a": "loop_b",
        "loop_b": "loop_a",
        "self_loop": "self_loop",
        "dangling": "/nonexistent",
        "data/deep_escape": "../../../../..",
        "data/sub/etc_abs": "/etc",
        "data/sub/to_data": "..",
        "chain1": "chain2",
        "chain2": "data/../abs_link",
    }
    for name, target in links.items():
        os.symlink(target, r / name)
    return r


def run_in_root(root: Path, *ops: str) -> list[str]:
    p = tinyunix("/bin/isolation_fs", *ops, cwd=root, options=("--root", str(root)))
    assert p.returncode == 0, p.stderr
    assert "SECRET" not in p.stdout
    return p.stdout.splitlines()


# (operation, Linux's answer under chroot(root))
ROOT_CASES = [
    ("read:/etc/passwd", "ok [inside passwd.]"),
    ("read:/../../../etc/passwd", "ok [inside passwd.]"),
    ("read:/data/../../../etc/passwd", "ok [inside passwd.]"),
    ("read:/abs_link", "ok [inside passwd.]"),
    ("read:/rel_escape", "ok [inside passwd.]"),
    ("read:/chain1", "ok [inside passwd.]"),
    ("read:/abs_dir/etc/passwd", "ok [inside passwd.]"),
    ("read:/abs_dir/../abs_dir/../etc/passwd", "ok [inside passwd.]"),
    ("read:/up/up/up/etc/passwd", "ok [inside passwd.]"),
    ("read:/data/deep_escape/etc/passwd", "ok [inside passwd.]"),
    ("read:/data/deep_escape/../../etc/passwd", "ok [inside passwd.]"),
    # `..` after a symlinked directory is the parent of its target, not of the link.
    ("read:/data/sub/etc_abs/../data/file.txt", "ok [inside data.]"),
    ("read:/data/sub/to_data/file.txt", "ok [inside data.]"),
    ("read:/secret_rel", "ENOENT"),
    ("read:/secret_abs", "ENOENT"),
    ("read:/../secret.txt", "ENOENT"),
    ("stat:/host_root_dir", "ENOENT"),
    ("read:/host_root_dir/secret.txt", "ENOENT"),
    ("read:/loop_a", "ELOOP"),
    ("stat:/self_loop", "ELOOP"),
    ("read:/self_loop/x", "ELOOP"),
    ("lstat:/loop_a", "ok link size 6"),
    ("readlink:/abs_link", "ok [/etc/passwd]"),
    ("readlink:/up", "ok [..]"),
    ("read:/dangling", "ENOENT"),
    ("stat:/abs_dir", "ok dir size"),
    ("read:/etc/passwd/..", "ENOTDIR"),
    ("read:/data/file.txt/x", "ENOTDIR"),
]


@pytest.mark.parametrize("op,expect", ROOT_CASES, ids=[c[0] for c in ROOT_CASES])
def test_root_confinement(root: Path, op: str, expect: str) -> None:
    lines = run_in_root(root, op)
    name, arg = op.split(":", 1)
    assert len(lines) == 1 and lines[0].startswith(f"{name} {arg} -> {expect}"), lines


def test_cwd_cannot_climb_out_of_root(root: Path) -> None:
    lines = run_in_root(root, "chdir:/data", "read:../../../etc/passwd", "read:file.txt",
                        "chdir:../../..", "cwd", "read:secret.txt",
                        "chdir:/data/sub/etc_abs", "cwd", "chdir:/abs_dir", "cwd")
    assert lines == [
        "chdir /data -> ok",
        "read ../../../etc/passwd -> ok [inside passwd.]",
        "read file.txt -> ok [inside data.]",
        "chdir ../../.. -> ok",
        "cwd  -> ok [/]",
        "read secret.txt -> ENOENT",
        "chdir /data/sub/etc_abs -> ok",
        "cwd  -> ok [/etc]",
        "chdir /abs_dir -> ok",
        "cwd  -> ok [/]",
    ]


def test_root_writes_stay_in_overlay(root: Path) -> None:
    before = snapshot(root.parent)
    lines = run_in_root(root, "write:/abs_link:owned", "read:/etc/passwd",
                        "write:/secret_rel:owned", "write:/up/up/escape:x", "unlink:/abs_link",
                        "read:/abs_link")
    assert snapshot(root.parent) == before
    # Writing through the absolute link writes the root's /etc/passwd (in the overlay).
    assert "read /etc/passwd -> ok [owned]" in lines
    assert "unlink /abs_link -> ok" in lines
    assert "read /abs_link -> ENOENT" in lines


# --- kernel pages from user mode ------------------------------------------------

KERNEL_ADDRS = ["0xffffff8000000000",   # trampoline (supervisor, r-x)
                "0xffffff8000001000",   # GDT
                "0xffffff8000002000",   # kernel stack
                "0xffff800000000000",   # start of the kernel half
                "0xffffffffffff0000",
                "0x800000000000"]       # non-canonical: #GP


@pytest.mark.parametrize("op", ["peek", "poke", "jump"])
@pytest.mark.parametrize("addr", KERNEL_ADDRS)
def test_user_mode_cannot_touch_kernel_pages(op: str, addr: str) -> None:
    p = tinyunix(str(ISO), f"{op}:{addr}")
    assert p.stdout.splitlines() == [f"{op} {addr} ..."], p.stdout
    assert p.returncode == 128 + 11, (p.returncode, p.stderr)


def test_kernel_half_still_works_after_attempts() -> None:
    """After a failed poke of the trampoline the emulator still enters
    user mode: the next program runs normally."""
    tinyunix(str(ISO), "poke:0xffffff8000000000")
    p = tinyunix(str(REPO / "guest" / "build" / "hello"))
    assert p.returncode == 3 and p.stdout == "hello, world\n"


# --- no host code ------------------------------------------------------------------

def test_data_pages_do_not_execute() -> None:
    """Code written into a writable page faults (NX) until mprotect makes
    it executable, as on Linux: guest bytes run only where the guest's
    own page tables say they may, and only on the emulated CPU."""
    p = tinyunix(str(ISO), "execdata:rw")
    assert p.stdout.splitlines() == ["execdata rw ..."] and p.returncode == 128 + 11
    p = tinyunix(str(ISO), "execdata:rx")
    assert p.stdout.splitlines() == ["execdata rx ...", "execdata rx -> ok returned 42"]
    assert p.returncode == 0


@pytest.mark.parametrize("addr", ["0x7f0000001000", "0x400000000000", "0x1000"])
def test_jumps_outside_the_guest_fault(addr: str) -> None:
    """Where the emulator's own libraries and heap live on the host is
    nothing to the guest: a jump to an address it has not mapped is
    SIGSEGV."""
    p = tinyunix(str(ISO), f"jump:{addr}")
    assert p.stdout.splitlines() == [f"jump {addr} ..."] and p.returncode == 128 + 11


def test_exec_runs_the_new_program_emulated_too(tmp_path: Path) -> None:
    """A program the guest execs is loaded into the guest, not run on the
    host: its writes go to the same overlay (the first program's file is
    there for it, its own is there for nobody on the host)."""
    a, b = tmp_path / "a", tmp_path / "b"
    p = tinyunix(str(ISO), f"create:{a}", f"exec:{ISO}", f"create:{b}", f"stat:{a}", f"stat:{b}")
    assert p.stdout.splitlines() == [f"create {a} -> ok", f"create {b} -> ok",
                                     f"stat {a} -> ok file size 0", f"stat {b} -> ok file size 0"]
    assert not a.exists() and not b.exists()


# --- memory -----------------------------------------------------------------------

def test_huge_mmap_is_enomem_not_host_memory() -> None:
    # 1 TiB anonymous private writable: larger than RAM + swap, so Linux's
    # overcommit heuristic refuses it; so does tinyunix (guest RAM 64 MiB).
    p = tinyunix(str(ISO), "mmap:0x10000000000", "mmap:0x100000", options=("--memory", "64M"))
    assert p.stdout.splitlines() == ["mmap 0x10000000000 -> ENOMEM", "mmap 0x100000 -> ok"]
    assert p.returncode == 0


def test_execve_arguments_bounded_on_the_host(tmp_path: Path) -> None:
    """execve with 5000 pointers to one 100 kB string: E2BIG, as on Linux
    (the arguments pass the 2 MiB limit), found while reading the strings
    -- not after copying 500 MB of them into the emulator."""
    err = tmp_path / "err"
    with open(tmp_path / "out", "w+b") as out, open(err, "w+b") as errf:
        p = subprocess.Popen([str(TINYUNIX), "run", "--memory", "64M", str(ISO),
                              "bigargv:5000:100000", "bigargv:1:131072"],
                             stdin=subprocess.DEVNULL, stdout=out, stderr=errf, cwd=REPO)
        _pid, wstatus, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(wstatus)   # reaped here, not by Popen
        out.seek(0)
        lines = out.read().decode().splitlines()
    assert p.returncode == 0, err.read_text()
    assert lines == ["bigargv 5000 -> E2BIG", "bigargv 1 -> E2BIG"]
    assert ru.ru_maxrss / 1024 < 300, ru.ru_maxrss     # peak host RSS, MiB
