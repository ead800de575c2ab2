"""Syscall programs for guest/fuzz_syscalls: the file format, a runner
that executes one under `tinyunix run` and says what went wrong, and the
hypothesis strategies that generate them.

A program is a list of records (nr, args): nr a syscall number (or a
pseudo-op < 0, see the guest's header comment), args up to six
(kind, value) pairs.  The guest never runs natively: these programs send
kill(-1, SIGKILL), unmap random ranges and so on.
"""
from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hypothesis import strategies as st

from kernel.syscall_table import SYSCALL_NR

REPO = Path(__file__).resolve().parents[2]
FUZZ_GUEST = REPO / "guest" / "build" / "fuzz_syscalls"
TINYUNIX = REPO / ".venv" / "bin" / "tinyunix"
RUN_TIMEOUT = 30.0
# TINYUNIX_TREE=DIR runs the kernel from DIR (e.g. `git archive` of a
# commit plus the built emu/_uchook*.so) instead of this checkout.
TREE = os.environ.get("TINYUNIX_TREE", "")

K_LIT, K_BUF, K_RES, K_WORD, K_FUNC, K_RESOFF = range(6)
TOUCH_READ, TOUCH_WRITE, STORE, EXEC = -1, -2, -3, -4

Arg = tuple[int, int]
Record = tuple[int, Sequence[Arg]]

SCRATCH = 64 * 1024
SCRATCH_ADDR = 0x6F00_0000_0000      # where the guest maps it; the guard page follows
ARENA = 0x2000_0000_0000             # MAP_FIXED addresses the fuzzer picks from

# --- the scratch area's initial contents -----------------------------------
STRINGS = [b"/dev/null", b"/dev/zero", b"/etc/passwd", b"/tmp/fz_file", b"fz_rel", b"/",
           b".", b"..", b"", b"/proc/self/exe", b"/nonexistent/x", b"/etc", b"/tmp",
           b"../../../../../../etc/passwd", b"a/" * 200,
           str(REPO / "guest" / "build" / "hello").encode(), str(FUZZ_GUEST).encode()]
EXEC_PATHS = [len(STRINGS) - 2, len(STRINGS) - 1, 0, 2, 5, 10, 8]   # indices: what EXEC may run
STR_BASE = 0x0
TIMESPEC_BASE = 0x1000
TIMESPECS = [(0, 1000), (0, 0), (-1, 0), (0, 2_000_000_000), (0, 999_999_999), (1, 0),
             (-1, -1)]
OUT_BASE = 0x2000          # buffers the kernel writes into
PIPE_FDS = 0x3000          # pipe()/pipe2() put fd pairs here
FUTEX_BASE = 0x4000        # futex words (zero)
STRUCT_BASE = 0x5000       # structs built by STORE (sigaction, iovec, clone_args)
END = SCRATCH              # a buffer at END - k runs into the guard page


def _init_blob() -> tuple[bytes, list[int]]:
    blob = bytearray(0x6000)
    offs = []
    pos = STR_BASE
    for s in STRINGS:
        offs.append(pos)
        blob[pos:pos + len(s) + 1] = s + b"\0"
        pos += len(s) + 1
    assert pos < TIMESPEC_BASE
    for i, (sec, ns) in enumerate(TIMESPECS):
        struct.pack_into("<qq", blob, TIMESPEC_BASE + 16 * i, sec, ns)
    return bytes(blob), offs


INIT, STR_OFFS = _init_blob()


def encode(prog: Sequence[Record]) -> bytes:
    out = bytearray(b"TUFZ" + struct.pack("<II", len(prog), len(INIT)) + INIT)
    for nr, args in prog:
        args = list(args)[:6] + [(K_LIT, 0)] * (6 - min(len(args), 6))
        out += struct.pack("<q6BBB6Q", nr, *[k for k, _ in args], 0, 0,
                           *[v & 0xFFFF_FFFF_FFFF_FFFF for _, v in args])
    return bytes(out)


def show(prog: Sequence[Record]) -> str:
    """A program as Python source (paste it into a regression test)."""
    names = {v: k for k, v in SYSCALL_NR.items()}
    lines = []
    for nr, args in prog:
        n = repr(names[nr]) if nr in names else str(nr)
        lines.append(f"    ({n}, {list(args)!r}),")
    return "[\n" + "\n".join(lines) + "\n]"


def resolve(prog: Sequence[tuple[object, Sequence[Arg]]]) -> list[Record]:
    """Records may name syscalls by string."""
    return [(SYSCALL_NR[nr] if isinstance(nr, str) else int(nr), args) for nr, args in prog]


def tinyunix_available() -> bool:
    return TINYUNIX.exists() and FUZZ_GUEST.exists()


def check_option() -> list[str]:
    """--check once kernel/check.py exists (the invariant checker)."""
    return ["--check"] if (Path(TREE or REPO) / "kernel" / "check.py").exists() else []


def tinyunix_cmd() -> list[str]:
    if TREE:    # another source tree (e.g. a snapshot of a commit)
        return [sys.executable, "-m", "tinyunix"]
    return [str(TINYUNIX)]


def run_program(prog: Sequence[Record], extra: Sequence[str] = (),
                timeout: float = RUN_TIMEOUT, verbose: bool = False) -> tuple[int, str, str]:
    """Run one program under tinyunix (options `extra`); returns (status,
    stdout, stderr).  With `verbose` the guest prints "[pid] i: nr = ret"
    for each record on stderr.  Raises AssertionError on a timeout."""
    with tempfile.TemporaryDirectory(prefix="tufz") as d:
        path = Path(d) / "prog.bin"
        path.write_bytes(encode(prog))
        cmd = [*tinyunix_cmd(), "run", "--memory", "64M", *check_option(), *extra,
               str(FUZZ_GUEST), str(path), *(["-v"] if verbose else [])]
        env = dict(os.environ)
        if TREE:
            env["PYTHONPATH"] = TREE
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=d, env=env, start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            raise AssertionError(f"tinyunix timed out after {timeout:.0f} s\n"
                                 f"stderr: {err.decode('utf-8', 'replace')[-1500:]}\n"
                                 f"program:\n{show(prog)}") from None
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def results(err: str) -> dict[tuple[int, int], int]:
    """{(pid, record index): return value} from a verbose run's stderr."""
    out = {}
    for m in re.finditer(r"^\[(\d+)\] (\d+): -?\d+ = (-?\d+)$", err, re.MULTILINE):
        out[(int(m[1]), int(m[2]))] = int(m[3])
    return out


def failure(status: int, err: str) -> str | None:
    """Why a run counts as a kernel failure, or None."""
    if "Traceback" in err:
        return "Python traceback"
    if "kernel BUG" in err:
        return "kernel BUG"
    if status == 70:
        return "exit status 70"
    if "fuzz_syscalls:" in err:
        return "the fuzz guest could not read its program"
    return None


def check_program(prog: Sequence[Record], extra: Sequence[str] = (),
                  verbose: bool = False, timeout: float = RUN_TIMEOUT) -> tuple[int, str, str]:
    status, out, err = run_program(prog, extra, timeout=timeout, verbose=verbose)
    why = failure(status, err)
    assert why is None, (f"{why} (status {status})\nstderr:\n{err[-3000:]}\n"
                         f"program:\n{show(prog)}")
    return status, out, err


# --- strategies ---------------------------------------------------------------

U64 = (1 << 64) - 1
WILD_PTRS = [0, 1, 0xFFF, 0x1000, 0x10000, 0x400000, 0x7FFF_FFFF_EFFF, 0x7FFF_FFFF_F000,
             0x7FFF_FFFF_FFFF, 0x8000_0000_0000, 0xFFFF_8000_0000_0000,
             0xFFFF_FF80_0000_0000, 0xFFFF_FF80_0000_1000, 0xFFFF_FF80_0000_2000,
             0xFFFF_FF80_003F_F000, U64, 0xFFFF_FFFF_FFFF_F000, 0xDEAD_BEEF,
             SCRATCH_ADDR + SCRATCH, SCRATCH_ADDR + SCRATCH - 1, 0x1234_5678_9ABC_DEF0]
SIZES = [0, 1, 2, 7, 8, 16, 64, 144, 4095, 4096, 4097, 65536, 0x7FFF_F000, (1 << 31) - 1,
         1 << 31, 1 << 32, (1 << 32) + 1, 1 << 46, (1 << 63) - 1, 1 << 63, U64]
FDS = [-1, -100, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 63, 64, 1023, 1024, 65535,
       (1 << 31) - 1, -(1 << 31), (1 << 32) - 1, (1 << 32) + 1]


def resoff(index: int, offset: int) -> int:
    """A K_RESOFF value: result `index` plus a signed byte offset."""
    return ((offset << 16) | index) & U64


def lit(values: Sequence[int]) -> st.SearchStrategy[Arg]:
    return st.sampled_from(values).map(lambda v: (K_LIT, v))


def buf() -> st.SearchStrategy[Arg]:
    """A valid buffer, or one that runs into the guard page."""
    return st.one_of(
        st.sampled_from([OUT_BASE, OUT_BASE + 0x800, STRUCT_BASE, FUTEX_BASE, 0x6000, 0x8000]),
        st.integers(0x6000, END - 1),
        st.sampled_from([END - 1, END - 4, END - 8, END - 100, END - 4096]),
    ).map(lambda o: (K_BUF, o))


def res() -> st.SearchStrategy[Arg]:
    return st.integers(0, 40).map(lambda i: (K_RES, i))


def ptr() -> st.SearchStrategy[Arg]:
    return st.one_of(buf(), buf(), lit(WILD_PTRS), res(),
                     st.integers(0, U64).map(lambda v: (K_LIT, v)))


def string() -> st.SearchStrategy[Arg]:
    return st.one_of(st.sampled_from(STR_OFFS).map(lambda o: (K_BUF, o)), ptr())


def timespec() -> st.SearchStrategy[Arg]:
    return st.one_of(
        st.integers(0, len(TIMESPECS) - 1).map(lambda i: (K_BUF, TIMESPEC_BASE + 16 * i)),
        st.just((K_LIT, 0)), lit(WILD_PTRS))


def size() -> st.SearchStrategy[Arg]:
    return st.one_of(lit(SIZES), st.integers(0, 1 << 17).map(lambda v: (K_LIT, v)))


def fd() -> st.SearchStrategy[Arg]:
    return st.one_of(lit(FDS), res(),
                     st.integers(0, 7).map(lambda i: (K_WORD, PIPE_FDS + 4 * i)))


def word() -> st.SearchStrategy[Arg]:
    """Flags, modes, signal numbers: small and boundary values, or anything."""
    return st.one_of(st.integers(0, 70), st.sampled_from([-1, 1 << 31, (1 << 32) - 1, U64]),
                     st.integers(0, U64), st.integers(0, 31).map(lambda b: 1 << b)
                     ).map(lambda v: (K_LIT, v))


def page_addr() -> st.SearchStrategy[Arg]:
    """Addresses for mmap/munmap/mprotect/madvise: the arena, earlier
    mmap results (with offsets), odd and wild values."""
    return st.one_of(
        st.integers(0, 64).map(lambda p: (K_LIT, ARENA + p * 4096)),
        st.tuples(st.integers(0, 40), st.integers(-4, 8)).map(
            lambda t: (K_RESOFF, resoff(t[0], t[1] * 4096))),
        st.integers(0, 64).map(lambda p: (K_LIT, ARENA + p * 4096 + 1)),
        lit(WILD_PTRS), st.just((K_LIT, 0)))


def mm_len() -> st.SearchStrategy[Arg]:
    return st.one_of(st.integers(0, 32).map(lambda p: (K_LIT, p * 4096)),
                     st.integers(1, 70000).map(lambda v: (K_LIT, v)), lit(SIZES))


def prot() -> st.SearchStrategy[Arg]:
    return st.one_of(st.integers(0, 7), st.sampled_from([0x1000000, 0x2000000, 0x1000003, 8, 0x10]),
                     st.integers(0, U64)).map(lambda v: (K_LIT, v))


def map_flags() -> st.SearchStrategy[Arg]:
    bits = [1, 2, 3, 0x10, 0x20, 0x40, 0x100, 0x800, 0x1000, 0x2000, 0x4000, 0x8000,
            0x10000, 0x20000, 0x40000, 0x100000, 0x80000, 26 << 26]
    common = st.sampled_from([0x22, 0x32, 0x21, 0x31, 0x102022, 0x8022, 0x122, 0x2, 0x12,
                              0x100032, 0x4022, 0x20022])
    return st.one_of(common, common,
                     st.lists(st.sampled_from(bits), max_size=5).map(lambda l: sum(set(l))),
                     st.integers(0, U64)).map(lambda v: (K_LIT, v))


CLONE_BITS = [0x100, 0x200, 0x400, 0x800, 0x1000, 0x2000, 0x4000, 0x8000, 0x10000, 0x20000,
              0x40000, 0x80000, 0x100000, 0x200000, 0x400000, 0x800000, 0x1000000,
              0x2000000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000,
              0x80000000, 0x100000000, 0x200000000, 0x80]


def clone_flags() -> st.SearchStrategy[int]:
    exit_sig = st.sampled_from([0, 17, 17, 17, 1, 9, 10, 64, 65, 255])
    return st.one_of(
        st.tuples(st.lists(st.sampled_from(CLONE_BITS), max_size=8), exit_sig).map(
            lambda t: sum(set(t[0])) | t[1]),
        st.sampled_from([17, 0x11, 0x4111, 0x3D0F00, 0x50F00, 0x10900, 0x10000, 0x800,
                         0x100, 0x4100, 0x10d00 | 0x380000]),
        st.integers(0, U64))


def _rec(name: str, *args: st.SearchStrategy[Arg]) -> st.SearchStrategy[Record]:
    nr = SYSCALL_NR[name]
    return st.tuples(*args).map(lambda a: (nr, list(a)))


def _clone() -> st.SearchStrategy[Record]:
    # clone(flags, newsp, parent_tid, child_tid, tls)
    stack = st.one_of(st.just((K_LIT, 0)), st.sampled_from(
        [STRUCT_BASE + 0x800, END - 8, END]).map(lambda o: (K_BUF, o)), lit(WILD_PTRS))
    return st.tuples(clone_flags(), stack, ptr(), ptr(), ptr()).map(
        lambda t: (SYSCALL_NR["clone"], [(K_LIT, t[0]), t[1], t[2], t[3], t[4]]))


def _clone3() -> st.SearchStrategy[list[Record]]:
    """STOREs that build struct clone_args at STRUCT_BASE + 0x100, then clone3."""
    base = STRUCT_BASE + 0x100
    fields = st.tuples(clone_flags(), st.sampled_from([0, 17, 9, 65, U64]),
                       st.one_of(st.just((K_LIT, 0)), ptr()), ptr(), ptr(),
                       st.one_of(st.just((K_LIT, 0)), st.just((K_BUF, STRUCT_BASE + 0x400))),
                       st.sampled_from([0, 4096, 1 << 20, U64]), ptr(),
                       st.sampled_from([64, 80, 88, 0, 8, 63, 4096, 1 << 20, U64]))

    def build(t: tuple) -> list[Record]:
        flags, sig, pidfd, child_tid, parent_tid, stack, stack_size, tls, sz = t
        vals = [(K_LIT, flags), pidfd, child_tid, parent_tid, (K_LIT, sig), stack,
                (K_LIT, stack_size), tls]
        recs: list[Record] = [(STORE, [(K_LIT, base + 8 * i), v]) for i, v in enumerate(vals)]
        recs.append((SYSCALL_NR["clone3"], [(K_BUF, base), (K_LIT, sz)]))
        return recs
    return fields.map(build)


def _sigaction() -> st.SearchStrategy[list[Record]]:
    """struct sigaction {handler, flags, restorer, mask} built by STOREs."""
    base = STRUCT_BASE + 0x200
    handler = st.one_of(st.sampled_from([(K_LIT, 0), (K_LIT, 1), (K_FUNC, 0)]), ptr())
    flags = st.sampled_from([0x04000000, 0x04000000 | 0x10000000, 0x04000000 | 0x80000000,
                             0, 0x08000000 | 0x04000000, U64])
    sig = st.one_of(st.integers(0, 65), st.sampled_from([-1, 1 << 31]))
    return st.tuples(handler, flags, st.sampled_from([(K_FUNC, 1), (K_LIT, 0)]), word(),
                     sig, st.sampled_from([8, 0, 4, 16, U64]),
                     st.one_of(st.just((K_LIT, 0)), ptr())).map(
        lambda t: [(STORE, [(K_LIT, base), t[0]]), (STORE, [(K_LIT, base + 8), (K_LIT, t[1])]),
                   (STORE, [(K_LIT, base + 16), t[2]]), (STORE, [(K_LIT, base + 24), t[3]]),
                   (SYSCALL_NR["rt_sigaction"],
                    [(K_LIT, t[4]), (K_BUF, base), t[6], (K_LIT, t[5])])])


def _iov() -> st.SearchStrategy[list[Record]]:
    """An iovec array of up to 3 entries at STRUCT_BASE + 0x300, then readv/writev."""
    base = STRUCT_BASE + 0x300
    ent = st.tuples(ptr(), size())
    return st.tuples(st.sampled_from(["readv", "writev"]), fd(), st.lists(ent, max_size=3),
                     st.sampled_from([0, 1, 2, 3, 1024, 1025, -1])).map(
        lambda t: [r for i, (b, n) in enumerate(t[2])
                   for r in ((STORE, [(K_LIT, base + 16 * i), b]),
                             (STORE, [(K_LIT, base + 16 * i + 8), n]))]
        + [(SYSCALL_NR[t[0]], [t[1], (K_BUF, base), (K_LIT, t[3] if t[3] >= 0 else U64)])])


def _exec() -> st.SearchStrategy[list[Record]]:
    """execve of hello or of the fuzz guest itself (no program: exit 2), or of
    a path that fails; argv/envp built at STRUCT_BASE + 0x600 or wild."""
    base = STRUCT_BASE + 0x600
    vec = st.one_of(st.just((K_BUF, base)), st.just((K_LIT, 0)), ptr())
    return st.tuples(st.sampled_from(EXEC_PATHS), vec, vec, st.booleans()).map(
        lambda t: [(STORE, [(K_LIT, base), (K_BUF, STR_OFFS[t[0]])]),
                   (STORE, [(K_LIT, base + 8), (K_LIT, 0 if t[3] else 0xDEAD)]),
                   (EXEC, [(K_BUF, STR_OFFS[t[0]]), t[1], t[2]])])


def _touch() -> st.SearchStrategy[Record]:
    return st.tuples(st.sampled_from([TOUCH_READ, TOUCH_WRITE]), page_addr(), mm_len()).map(
        lambda t: (t[0], [t[1], t[2]]))


def _fork() -> st.SearchStrategy[Record]:
    return st.just((SYSCALL_NR["fork"], []))


def _wait() -> st.SearchStrategy[Record]:
    pid = st.one_of(st.sampled_from([-1, 0, 1, 2, 3, 4, 99999, -(1 << 31)]).map(lambda v: (K_LIT, v)),
                    res())
    wflags = st.sampled_from([0, 1, 2, 4, 8, 0x1000000, 0x40000000, 0x80000000, 0x20000000,
                              1 | 0x40000000, 3, U64])
    return st.one_of(
        st.tuples(pid, st.one_of(st.just((K_LIT, 0)), ptr()), wflags, st.one_of(
            st.just((K_LIT, 0)), ptr())).map(
            lambda t: (SYSCALL_NR["wait4"], [t[0], t[1], (K_LIT, t[2] | 1 if t[2] != U64 else t[2]),
                                             t[3]])),
        st.tuples(st.sampled_from([0, 1, 2, 3, 7]), pid, ptr(), wflags).map(
            lambda t: (SYSCALL_NR["waitid"], [(K_LIT, t[0]), t[1], t[2],
                                              (K_LIT, t[3] | 1 | 4)])))


def _futex() -> st.SearchStrategy[Record]:
    addr = st.one_of(st.integers(0, 15).map(lambda i: (K_BUF, FUTEX_BASE + 4 * i)),
                     st.just((K_BUF, FUTEX_BASE + 1)), ptr())
    op = st.one_of(st.integers(0, 13), st.integers(0, 13).map(lambda o: o | 128),
                   st.integers(0, 13).map(lambda o: o | 384), st.integers(0, U64))
    return st.tuples(addr, op, st.sampled_from([0, 1, 2, 0x7FFFFFFF, U64]), timespec(), addr,
                     st.sampled_from([0, 1, U64, 0xFFFFFFFF, 0x10000000])).map(
        lambda t: (SYSCALL_NR["futex"], [t[0], (K_LIT, t[1]), (K_LIT, t[2]), t[3], t[4],
                                         (K_LIT, t[5])]))


def _kill() -> st.SearchStrategy[Record]:
    pid = st.one_of(st.sampled_from([0, -1, 1, 2, 3, 4, 5, 99999, -2, -3, -(1 << 31),
                                     (1 << 31) - 1]).map(lambda v: (K_LIT, v)), res())
    sig = st.one_of(st.sampled_from([0, 1, 9, 10, 11, 13, 15, 17, 19, 18, 20, 28, 32, 34, 64]),
                    st.sampled_from([65, -1, 1 << 31, U64])).map(lambda v: (K_LIT, v))
    return st.one_of(
        st.tuples(pid, sig).map(lambda t: (SYSCALL_NR["kill"], list(t))),
        st.tuples(pid, pid, sig).map(lambda t: (SYSCALL_NR["tgkill"], list(t))),
        st.tuples(pid, sig).map(lambda t: (SYSCALL_NR["tkill"], list(t))))


def _signals() -> st.SearchStrategy:
    """The signal calls that neither block for good nor jump: sigtimedwait
    with a bounded timeout, sigqueueinfo with a guest-made siginfo,
    sigaltstack with a STORE-built stack_t, restart_syscall."""
    pid = st.one_of(st.sampled_from([0, -1, 1, 2, 3, 4, 99999, -(1 << 31)]).map(
        lambda v: (K_LIT, v)), res())
    sig = st.one_of(st.integers(0, 66), st.sampled_from([-1, 1 << 31, U64])).map(
        lambda v: (K_LIT, v))
    bounded = st.one_of(st.sampled_from([0, 1, 2, 3, 4, 5, 6]).map(
        lambda i: (K_BUF, TIMESPEC_BASE + 16 * i)), lit(WILD_PTRS[1:]))
    setsize = lit([8, 0, 4, 16, U64])
    info = st.one_of(st.just((K_BUF, STRUCT_BASE + 0x500)), ptr())
    code = st.sampled_from([-1, -2, -6, -60, -7, -100, 0, 1, 0x80, 3])
    stack = STRUCT_BASE + 0x580
    return st.one_of(
        _rec("rt_sigtimedwait", st.one_of(buf(), ptr()), st.one_of(st.just((K_LIT, 0)), ptr()),
             bounded, setsize).map(lambda r: [r]),
        st.tuples(code, st.sampled_from(["rt_sigqueueinfo", "rt_tgsigqueueinfo"]), pid, pid,
                  sig, info).map(
            lambda t: [(STORE, [(K_LIT, STRUCT_BASE + 0x508), (K_LIT, t[0] & U64)]),
                       (SYSCALL_NR[t[1]], [t[2], t[4], t[5]] if t[1] == "rt_sigqueueinfo"
                        else [t[2], t[3], t[4], t[5]])]),
        st.tuples(st.one_of(buf(), lit(WILD_PTRS)), st.sampled_from([0, 1, 2, 4, 1 << 31, 7, U64]),
                  st.sampled_from([0, 2047, 2048, 8192, 1 << 16, U64]),
                  st.one_of(st.just((K_BUF, stack)), st.just((K_LIT, 0)), ptr()),
                  st.one_of(st.just((K_LIT, 0)), ptr())).map(
            lambda t: [(STORE, [(K_LIT, stack), t[0]]), (STORE, [(K_LIT, stack + 8), (K_LIT, t[1])]),
                       (STORE, [(K_LIT, stack + 16), (K_LIT, t[2])]),
                       (SYSCALL_NR["sigaltstack"], [t[3], t[4]])]),
        _rec("restart_syscall").map(lambda r: [r]),
    )


def _nanosleep() -> st.SearchStrategy[Record]:
    short = st.sampled_from([0, 1, 4]).map(lambda i: (K_BUF, TIMESPEC_BASE + 16 * i))
    return st.one_of(
        st.tuples(st.one_of(short, timespec()), st.one_of(st.just((K_LIT, 0)), ptr())).map(
            lambda t: (SYSCALL_NR["nanosleep"], list(t))),
        st.tuples(st.sampled_from([0, 1, 7, 100, U64]), st.sampled_from([0, 1, 2, U64]), short,
                  st.one_of(st.just((K_LIT, 0)), ptr())).map(
            lambda t: (SYSCALL_NR["clock_nanosleep"], [(K_LIT, t[0]), (K_LIT, t[1]), t[2], t[3]])))


def _waits() -> st.SearchStrategy[Record]:
    """poll, select, epoll, eventfd and signalfd with bounded timeouts
    (0 or 1 ms, or a TIMESPECS entry, never none), wild sets and events."""
    short_ms = lit([0, 1])
    bounded = st.one_of(st.sampled_from(range(len(TIMESPECS))).map(
        lambda i: (K_BUF, TIMESPEC_BASE + 16 * i)), lit(WILD_PTRS[1:]))
    nfds = st.one_of(lit([0, 1, 2, 8, 64, 1024, 1 << 20, -1, U64]), st.integers(0, 70).map(
        lambda v: (K_LIT, v)))
    setsize = lit([8, 0, 4, U64])
    maybe = st.one_of(st.just((K_LIT, 0)), buf(), ptr())
    return st.one_of(
        _rec("poll", st.one_of(buf(), ptr()), nfds, short_ms),
        _rec("ppoll", st.one_of(buf(), ptr()), nfds, bounded, maybe, setsize),
        _rec("select", nfds, maybe, maybe, maybe, bounded),
        _rec("pselect6", nfds, maybe, maybe, maybe, bounded, maybe),
        _rec("epoll_create1", lit([0, 0o2000000, 1, U64])),
        _rec("epoll_create", lit([0, 1, -1, 1 << 31])),
        _rec("epoll_ctl", fd(), lit([1, 2, 3, 0, 4, U64]), fd(), st.one_of(buf(), ptr())),
        _rec("epoll_wait", fd(), st.one_of(buf(), ptr()), lit([1, 8, 0, -1, 1 << 30]), short_ms),
        _rec("epoll_pwait", fd(), st.one_of(buf(), ptr()), lit([1, 8, 0, -1]), short_ms, maybe,
             setsize),
        _rec("epoll_pwait2", fd(), st.one_of(buf(), ptr()), lit([1, 8, 0, -1]), bounded, maybe,
             setsize),
        _rec("eventfd2", word(), lit([0, 1, 0o4000, 0o2000000, 0o4001, 2, U64])),
        _rec("eventfd", word()),
        _rec("signalfd4", st.one_of(lit([-1]), fd()), st.one_of(buf(), ptr()), lit([8, 4, 0, U64]),
             lit([0, 0o4000, 0o2000000, 1, U64])),
    )


def _timers() -> st.SearchStrategy[list[Record]]:
    """Clocks and timers: timer_create with a STORE-built sigevent (any
    notify, signal and thread id), the timer_* calls on small ids,
    itimers, alarm, timerfds, CPU clocks, times and getrusage."""
    sev = STRUCT_BASE + 0x600
    clock = st.one_of(st.integers(0, 12), st.sampled_from([-2, -6, -14, -8, (1 << 31) - 1,
                                                            -(1 << 31), U64])).map(lambda v: (K_LIT, v))
    tid = st.one_of(st.integers(0, 6), st.sampled_from([-1, 99999, U64])).map(lambda v: (K_LIT, v))
    notify = st.sampled_from([0, 1, 2, 4, 3, 99, -1])
    signo = st.sampled_from([0, 1, 9, 14, 17, 34, 64, 65, -1])
    itspec = st.one_of(st.integers(0, len(TIMESPECS) - 2).map(
        lambda i: (K_BUF, TIMESPEC_BASE + 16 * i)), st.just((K_LIT, 0)), lit(WILD_PTRS))
    small = st.one_of(st.integers(0, 3), st.sampled_from([-1, 12345, U64])).map(lambda v: (K_LIT, v))
    out = st.one_of(st.just((K_LIT, 0)), buf(), ptr())
    flags = lit([0, 1, 2, 3, 0o4000, 0o2000000, U64])
    return st.one_of(
        st.tuples(clock, notify, signo, tid, st.one_of(st.just((K_BUF, sev)), st.just((K_LIT, 0)),
                                                        ptr()), out).map(
            lambda t: [(STORE, [(K_LIT, sev), (K_LIT, 7)]),
                       (STORE, [(K_LIT, sev + 8), (K_LIT, (t[2] & 0xFFFFFFFF) | (t[1] & 0xFFFFFFFF) << 32)]),
                       (STORE, [(K_LIT, sev + 16), t[3]]),
                       (SYSCALL_NR["timer_create"], [t[0], t[4], t[5]])]),
        _rec("timer_settime", small, flags, itspec, out).map(lambda r: [r]),
        _rec("timer_gettime", small, out).map(lambda r: [r]),
        _rec("timer_getoverrun", small).map(lambda r: [r]),
        _rec("timer_delete", small).map(lambda r: [r]),
        _rec("setitimer", lit([0, 1, 2, 3, -1]), itspec, out).map(lambda r: [r]),
        _rec("getitimer", lit([0, 1, 2, 3, -1]), out).map(lambda r: [r]),
        _rec("alarm", lit([0, 1, 2, 1 << 31, U64])).map(lambda r: [r]),
        _rec("timerfd_create", clock, flags).map(lambda r: [r]),
        _rec("timerfd_settime", fd(), flags, itspec, out).map(lambda r: [r]),
        _rec("timerfd_gettime", fd(), out).map(lambda r: [r]),
        _rec("clock_gettime", clock, out).map(lambda r: [r]),
        _rec("clock_getres", clock, out).map(lambda r: [r]),
        _rec("times", out).map(lambda r: [r]),
        _rec("getrusage", lit([0, 1, -1, 2, -2, U64]), out).map(lambda r: [r]),
    )


BLOCKING_OR_EXEC = {"execve", "execveat", "pause", "rt_sigsuspend", "exit", "exit_group",
                    "nanosleep", "clock_nanosleep", "vfork", "fork", "clone", "clone3",
                    "rt_sigreturn", "futex", "wait4", "waitid", "select", "poll", "ppoll",
                    "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2", "rt_sigtimedwait",
                    "futex_wait", "futex_waitv", "accept", "accept4", "recvfrom", "recvmsg",
                    "msgrcv", "semop", "semtimedop", "mq_timedreceive", "io_getevents",
                    "read", "readv", "preadv", "preadv2", "kill", "tkill", "tgkill",
                    "reboot", "kexec_load", "kexec_file_load", "restart_syscall",
                    "rt_sigqueueinfo", "rt_tgsigqueueinfo"}
ANY_NR = sorted(nr for name, nr in SYSCALL_NR.items() if name not in BLOCKING_OR_EXEC)


def _any() -> st.SearchStrategy[Record]:
    nr = st.one_of(st.sampled_from(ANY_NR), st.sampled_from(
        [335, 400, 423, 457, 1000, 0x40000000 + 39, 0xFFFFFFFF, (1 << 63) - 1]))
    a = st.one_of(ptr(), fd(), size(), word())
    return st.tuples(nr, st.lists(a, min_size=6, max_size=6)).map(lambda t: (t[0], t[1]))


def _rw() -> st.SearchStrategy[Record]:
    return st.one_of(
        _rec("read", fd(), ptr(), size()),
        _rec("write", fd(), ptr(), size()),
        _rec("pread64", fd(), ptr(), size(), size()),
        _rec("pwrite64", fd(), ptr(), size(), size()),
        _rec("lseek", fd(), st.one_of(size(), lit([-1, -4096, 1 << 62])), lit([0, 1, 2, 3, 4, 5, U64])),
    )


def _files() -> st.SearchStrategy[Record]:
    oflags = st.one_of(st.sampled_from([0, 1, 2, 0o100 | 1, 0o1101, 0o301, 0o200000, 0o2000002,
                                        0o10000000, 0o4002, 0o2002, 0o400000]),
                       st.integers(0, U64)).map(lambda v: (K_LIT, v))
    mode = st.sampled_from([0o644, 0, 0o7777, U64]).map(lambda v: (K_LIT, v))
    return st.one_of(
        _rec("openat", fd(), string(), oflags, mode),
        _rec("open", string(), oflags, mode),
        _rec("close", fd()),
        _rec("dup", fd()),
        _rec("dup2", fd(), fd()),
        _rec("dup3", fd(), fd(), lit([0, 0o2000000, 1, U64])),
        _rec("pipe", st.integers(0, 3).map(lambda i: (K_BUF, PIPE_FDS + 8 * i))),
        _rec("pipe2", st.one_of(st.integers(0, 3).map(lambda i: (K_BUF, PIPE_FDS + 8 * i)), ptr()),
             lit([0, 0o4000, 0o2000000, 0o40000, 1, U64])),
        _rec("pipe", ptr()),
        _rec("fcntl", fd(), st.one_of(st.integers(0, 12), st.integers(1024, 1040)).map(lambda v: (K_LIT, v)),
             st.one_of(word(), fd())),
        _rec("fstat", fd(), ptr()),
        _rec("newfstatat", fd(), string(), ptr(), lit([0, 0x100, 0x1000, 0x800, U64])),
        _rec("ioctl", fd(), st.one_of(lit([0x5401, 0x5413, 0x541B, 0x5421, 0x5402]), word()), ptr()),
        _rec("getcwd", ptr(), size()),
        _rec("chdir", string()),
        _rec("unlink", string()),
        _rec("access", string(), word()),
        _rec("readlink", string(), ptr(), size()),
        _rec("readlinkat", fd(), string(), ptr(), size()),
        _rec("umask", word()),
    )


def _names() -> st.SearchStrategy[Record]:
    """The file-system calls of issue 12 (no FIFOs: an open of one would
    wait for ever for its other side)."""
    at = lit([0, 0x100, 0x200, 0x400, 0x1000, 0x800, U64])
    mode = lit([0o644, 0, 0o7777, 0o40755, 0o100600, 0o20666, U64])
    return st.one_of(
        _rec("getdents64", fd(), ptr(), size()),
        _rec("getdents", fd(), ptr(), size()),
        _rec("mkdir", string(), mode),
        _rec("mkdirat", fd(), string(), mode),
        _rec("rmdir", string()),
        _rec("unlinkat", fd(), string(), at),
        _rec("rename", string(), string()),
        _rec("renameat2", fd(), string(), fd(), string(), lit([0, 1, 2, 3, 4, U64])),
        _rec("link", string(), string()),
        _rec("linkat", fd(), string(), fd(), string(), at),
        _rec("symlink", string(), string()),
        _rec("symlinkat", string(), fd(), string()),
        _rec("mknod", string(), lit([0o100644, 0, 0o20666, 0o60600, 0o140644, U64]),
             lit([0, 0x103, 0x107, U64])),
        _rec("truncate", string(), st.one_of(size(), lit([-1]))),
        _rec("ftruncate", fd(), st.one_of(size(), lit([-1]))),
        _rec("fallocate", fd(), lit([0, 1, 2, 3, 0x10, U64]), size(), size()),
        _rec("chmod", string(), mode),
        _rec("fchmod", fd(), mode),
        _rec("fchmodat", fd(), string(), mode),
        _rec("chown", string(), word(), word()),
        _rec("fchown", fd(), word(), word()),
        _rec("fchownat", fd(), string(), word(), word(), at),
        _rec("utimensat", fd(), st.one_of(string(), lit([0])), st.one_of(ptr(), lit([0])), at),
        _rec("utimes", string(), st.one_of(ptr(), lit([0]))),
        _rec("statfs", string(), ptr()),
        _rec("fstatfs", fd(), ptr()),
        _rec("statx", fd(), string(), at, lit([0x7FF, 0, 0x80000000, U64]), ptr()),
        _rec("fsync", fd()),
        _rec("fdatasync", fd()),
        _rec("syncfs", fd()),
        _rec("flock", fd(), lit([5, 6, 8, 12, 0, 4, U64])),
        _rec("faccessat2", fd(), string(), word(), at),
    )


def _mm() -> st.SearchStrategy[Record]:
    off = st.one_of(lit([0, 4096, 1, 1 << 40, U64, 1 << 63]), st.just((K_LIT, 0)))
    return st.one_of(
        _rec("mmap", page_addr(), mm_len(), prot(), map_flags(), fd(), off),
        _rec("mmap", page_addr(), mm_len(), prot(), map_flags(), lit([-1]), off),
        _rec("munmap", page_addr(), mm_len()),
        _rec("mprotect", page_addr(), mm_len(), prot()),
        _rec("madvise", page_addr(), mm_len(), st.one_of(st.sampled_from(
            [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 100, U64]).map(lambda v: (K_LIT, v)), word())),
        _rec("brk", st.one_of(lit([0, 1, 0x1000, 1 << 46, U64, 0x7FFF_FFFF_F000]), res(),
                              st.tuples(st.integers(0, 40), st.integers(-16, 64)).map(
                                  lambda t: (K_RESOFF, resoff(t[0], t[1] * 4096))))),
        _rec("mremap", page_addr(), mm_len(), mm_len(), word(), page_addr()),
    )


def _proc() -> st.SearchStrategy[Record]:
    return st.one_of(
        _rec("getpid"), _rec("gettid"), _rec("getppid"), _rec("sched_yield"),
        _rec("setpgid", lit([0, 1, 2, 3, -1, 99999]), lit([0, 1, 2, 3, -1, 99999])),
        _rec("setsid"), _rec("getpgid", lit([0, 1, 2, 3, -1])), _rec("getsid", lit([0, 1, 2, 3, -1])),
        _rec("prctl", st.integers(0, 60).map(lambda v: (K_LIT, v)), st.one_of(word(), ptr()),
             word(), word(), word()),
        _rec("arch_prctl", lit([0x1001, 0x1002, 0x1003, 0x1004, 0x3001, 0x3002, 0, U64]),
             st.one_of(ptr(), word())),
        _rec("set_tid_address", ptr()),
        _rec("set_robust_list", ptr(), lit([24, 0, 23, U64])),
        _rec("get_robust_list", lit([0, 1, 3, -1]), ptr(), ptr()),
        _rec("prlimit64", lit([0, 1, 3, -1]), st.integers(0, 16).map(lambda v: (K_LIT, v)),
             st.one_of(st.just((K_LIT, 0)), ptr()), st.one_of(st.just((K_LIT, 0)), ptr())),
        _rec("setrlimit", st.integers(0, 16).map(lambda v: (K_LIT, v)), ptr()),
        _rec("getrlimit", st.integers(0, 16).map(lambda v: (K_LIT, v)), ptr()),
        _rec("rt_sigprocmask", lit([0, 1, 2, 3, -1]), ptr(), ptr(), lit([8, 0, 16, U64])),
        _rec("rt_sigpending", ptr(), lit([8, 0, 16, U64])),
        _rec("sigaltstack", ptr(), ptr()),
        _rec("uname", ptr()), _rec("times", ptr()), _rec("time", ptr()),
        _rec("gettimeofday", ptr(), ptr()),
        _rec("clock_gettime", lit([0, 1, 2, 3, 4, 5, 6, 7, 11, -1, U64]), ptr()),
        _rec("clock_getres", lit([0, 1, 2, 3, -1, U64]), ptr()),
        _rec("getrandom", ptr(), size(), lit([0, 1, 2, 4, 7, U64])),
        _rec("sched_getaffinity", lit([0, 1, -1]), size(), ptr()),
        _rec("rseq", ptr(), size(), word(), word()),
    )


def _creds() -> st.SearchStrategy[list[Record]]:
    """The credential calls with ids a program would use (root, a user,
    "no change", out of range), group lists of every size, capability
    headers of each version (STOREd at STRUCT_BASE + 0x600) and prctl's
    capability options.  Dropping root is one-way, so later kills meet
    EPERM as they would natively."""
    uid = lit([0, 1000, 2000, 0xFFFFFFFF, U64, (1 << 31)])
    hdr = STRUCT_BASE + 0x600
    version = st.sampled_from([0x19980330, 0x20071026, 0x20080522, 0, 0x12345678])
    cap_pid = st.sampled_from([0, 1, -1, 99999])
    data = st.one_of(st.just((K_BUF, hdr + 8)), st.just((K_LIT, 0)), ptr())
    caps = st.sampled_from(["capget", "capset"])
    single = st.one_of(
        _rec("setuid", uid), _rec("setgid", uid), _rec("setreuid", uid, uid),
        _rec("setregid", uid, uid), _rec("setresuid", uid, uid, uid),
        _rec("setresgid", uid, uid, uid), _rec("setfsuid", uid), _rec("setfsgid", uid),
        _rec("getresuid", ptr(), ptr(), ptr()), _rec("getresgid", ptr(), ptr(), ptr()),
        _rec("getgroups", lit([0, 1, 8, -1, 1 << 20]), ptr()),
        _rec("setgroups", lit([0, 1, 3, 65536, 65537, -1]), ptr()),
        _rec("prctl", lit([7, 8, 23, 24, 27, 38, 39, 47]), lit([0, 1, 2, 5, 40, 41, 99, U64]),
             lit([0, 1, 5]), lit([0]), lit([0])))
    return st.one_of(
        single.map(lambda r: [r]),
        st.tuples(version, cap_pid, caps, data).map(
            lambda t: [(STORE, [(K_LIT, hdr), (K_LIT, t[0] | (t[1] & 0xFFFFFFFF) << 32)]),
                       (SYSCALL_NR[t[2]], [(K_BUF, hdr), t[3]])]))


def _one() -> st.SearchStrategy[list[Record]]:
    # exit/exit_group end whichever process reaches them (a fork child, or
    # the parent before its children): the interleavings of exit and wait.
    # 2 % of records, so most programs still run to their end.
    leave = st.one_of(_rec("exit", word()), _rec("exit_group", word()))
    base = st.one_of(_files(), _files(), _names(), _rw(), _mm(), _mm(), _mm(), _proc(), _proc(),
                     _touch(), _fork(), _fork(), _wait(), _wait(), _futex(), _kill(),
                     _nanosleep(), _clone(), _rec("vfork"), _any(), _any(), _waits())
    single = st.integers(0, 99).flatmap(lambda k: leave if k < 2 else base)
    group = st.one_of(single.map(lambda r: [r]), single.map(lambda r: [r]),
                      single.map(lambda r: [r]), _clone3(), _sigaction(), _iov(), _signals(),
                      _timers(), _creds())
    # exec ends the program that runs it: 3 % of groups.
    return st.integers(0, 99).flatmap(lambda k: _exec() if k < 3 else group)


def programs(max_size: int = 24, min_size: int = 1) -> st.SearchStrategy[list[Record]]:
    return st.lists(_one(), min_size=min_size, max_size=max_size).map(
        lambda groups: [r for g in groups for r in g])


def signal_programs(max_size: int = 30) -> st.SearchStrategy[list[Record]]:
    """Programs about signals: handlers (ours, SIG_DFL/SIG_IGN, wild) and
    masks, signals sent every way, waits for them, forks and reaps, so
    that deliveries land on frames, restarts and sigreturns."""
    mask = _rec("rt_sigprocmask", lit([0, 1, 2]), st.one_of(buf(), st.just((K_LIT, 0))),
                st.one_of(buf(), st.just((K_LIT, 0))), lit([8]))
    one = st.one_of(_sigaction(), _sigaction(), _signals(), _signals(),
                    _kill().map(lambda r: [r]), _kill().map(lambda r: [r]),
                    mask.map(lambda r: [r]), _fork().map(lambda r: [r]),
                    _wait().map(lambda r: [r]), _touch().map(lambda r: [r]),
                    _nanosleep().map(lambda r: [r]), _timers(), _waits().map(lambda r: [r]))
    return st.lists(one, min_size=1, max_size=max_size).map(
        lambda groups: [r for g in groups for r in g])
