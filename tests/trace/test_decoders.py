"""Unit tests of the strace decoders and the tracer's line discipline,
on a fake task whose memory is a dict of pages (no machine needed)."""
from __future__ import annotations

import io
import struct

from tinyunix.strace import args as A
from tinyunix.strace.fmt import error, flags, quote, quote_cut, sigset
from tinyunix.strace.table import DECODERS
from tinyunix.strace.tracer import Tracer, with_ret
from tinyunix.strace import xlat as X


class FakeMem:
    """Call.read's view: a few byte ranges."""

    def __init__(self, chunks: dict[int, bytes]) -> None:
        self.chunks = chunks

    def read(self, addr: int, n: int):
        for base, data in self.chunks.items():
            if base <= addr and addr + n <= base + len(data):
                return data[addr - base:addr - base + n]
        return None


class FakeTask:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.mm = None
        self.pending = 0
        self.signal = None


class FakeCall(A.Call):
    __slots__ = ("mem",)

    def read(self, addr: int, n: int):
        return self.mem.read(addr, n)

    def cstr(self, addr: int, limit: int):
        b = self.mem.read(addr, 1)
        if b is None:
            return None
        n = 1
        while self.mem.read(addr, n + 1) is not None and n < limit:
            n += 1
        s = self.mem.read(addr, n)
        z = s.find(b"\0")
        return (s[:z], True) if z >= 0 else (s, False)


def call(name: str, args: tuple, mem: dict[int, bytes] | None = None, ret=None) -> A.Call:
    c = FakeCall(FakeTask(3), name, tuple(args) + (0,) * (6 - len(args)))
    c.mem = FakeMem(mem or {})
    c.ret = ret
    return c


def line(name: str, args: tuple, mem: dict[int, bytes] | None = None, ret=0) -> str:
    d = DECODERS[name]
    c = call(name, args, mem, ret)
    pieces = d.pieces(c) if d.pieces else list(zip(d.args, c.args))
    return f"{name}(" + ", ".join(a(c, v) for a, v in pieces) + ")"


def test_strings_quote_and_cut_like_strace() -> None:
    assert quote(b'a"\\\n\t\x00\x01' + b"7") == r'"a\"\\\n\t\0\0017"'
    assert quote(b"\x80\xff") == r'"\200\377"'
    assert quote(b"\x01\x02", force_hex=True) == r'"\x01\x02"'
    assert quote_cut(b"x" * 33) == '"' + "x" * 32 + '"...'
    assert quote_cut(b"x" * 32) == '"' + "x" * 32 + '"'


def test_flags_enums_and_errors() -> None:
    assert flags(0x1200011, X.CLONE_FLAGS) == "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|0x11"
    assert flags(0, X.PROT_FLAGS, "PROT_NONE") == "PROT_NONE"
    assert flags(0x100, X.WAIT4_OPTIONS, unknown="W???") == "0x100 /* W??? */"
    assert error(22) == "-1 EINVAL (Invalid argument)"
    assert error(512) == "? ERESTARTSYS (To be restarted if SA_RESTART is set)"
    assert sigset(((1 << 64) - 1) & ~(3 << 31)) == "~[RTMIN RT_1]"
    assert sigset(1 << 16) == "[CHLD]"


def test_clone_as_strace_prints_it() -> None:
    fl = 0x01200000 | 17                           # CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD
    assert line("clone", (fl, 0, 0, 0x7F0000001000, 0), ret=43) == (
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
        "child_tidptr=0x7f0000001000)")


def test_open_mmap_and_write() -> None:
    mem = {0x1000: b"/etc/passwd\0", 0x2000: b"hello, world\n"}
    assert line("openat", (-100 & (2**64 - 1), 0x1000, 0o2000000, 0), mem) == \
        'openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)'
    assert line("openat", (3, 0x1000, 0o1101, 0o644), mem) == \
        'openat(3, "/etc/passwd", O_WRONLY|O_CREAT|O_TRUNC, 0644)'
    assert line("write", (1, 0x2000, 13), mem, ret=13) == 'write(1, "hello, world\\n", 13)'
    assert line("mmap", (0, 4096, 3, 0x22, 2**64 - 1, 0)) == \
        "mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"


def test_output_arguments_read_at_exit_or_pointer_on_error() -> None:
    st = struct.pack("<QQQIIIIQq", 0, 0, 1, 0o100644, 0, 0, 0, 0, 1234) + bytes(144 - 56)
    mem = {0x1000: b"f\0", 0x3000: st}
    assert line("newfstatat", (2**64 - 100, 0x1000, 0x3000, 0), mem, ret=0) == \
        'newfstatat(AT_FDCWD, "f", {st_mode=S_IFREG|0644, st_size=1234, ...}, 0)'
    assert line("newfstatat", (2**64 - 100, 0x1000, 0x3000, 0), mem, ret=-2) == \
        'newfstatat(AT_FDCWD, "f", 0x3000, 0)'
    ts = struct.pack("<qq", 1, 500)
    assert line("clock_gettime", (1, 0x4000), {0x4000: ts}) == \
        "clock_gettime(CLOCK_MONOTONIC, {tv_sec=1, tv_nsec=500})"
    assert line("wait4", (2**64 - 1, 0x5000, 0, 0), {0x5000: struct.pack("<i", 0x0100)},
                ret=44) == "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 1}], 0, NULL)"
    assert line("rt_sigprocmask", (0, 0x6000, 0, 8), {0x6000: struct.pack("<Q", 1 << 16)}) == \
        "rt_sigprocmask(SIG_BLOCK, [CHLD], NULL, 8)"
    assert line("rt_sigprocmask", (7, 0x6000, 0, 8), {0x6000: bytes(8)}) == \
        "rt_sigprocmask(0x7 /* SIG_??? */, [], NULL, 8)"


def test_structs() -> None:
    sa = struct.pack("<QQQQ", 0x401000, 0x04000000 | 0x10000000, 0x401100, 0)
    assert line("rt_sigaction", (17, 0x1000, 0, 8), {0x1000: sa}) == (
        "rt_sigaction(SIGCHLD, {sa_handler=0x401000, sa_mask=[], "
        "sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x401100}, NULL, 8)")
    rl = struct.pack("<QQ", 8 << 20, 2**64 - 1)
    assert line("prlimit64", (0, 3, 0, 0x2000), {0x2000: rl}) == \
        "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY})"
    iov = struct.pack("<QQQQ", 0x3000, 2, 0x3002, 1)
    assert line("writev", (1, 0x2000, 2), {0x2000: iov, 0x3000: b"hi\n"}, ret=3) == \
        'writev(1, [{iov_base="hi", iov_len=2}, {iov_base="\\n", iov_len=1}], 2)'
    uts = b"Linux".ljust(65, b"\0") + b"vm".ljust(65, b"\0") + bytes(65 * 4)
    assert line("uname", (0x1000,), {0x1000: uts}) == 'uname({sysname="Linux", nodename="vm", ...})'


def test_futex_and_fcntl_by_command() -> None:
    assert line("futex", (0x1000, 128, 2, 0, 0, 0)) == "futex(0x1000, FUTEX_WAIT_PRIVATE, 2, NULL)"
    assert line("futex", (0x1000, 129, 1, 0, 0, 0)) == "futex(0x1000, FUTEX_WAKE_PRIVATE, 1)"
    assert line("fcntl", (3, 2, 1)) == "fcntl(3, F_SETFD, FD_CLOEXEC)"
    assert line("fcntl", (3, 3, 0)) == "fcntl(3, F_GETFL)"


def test_column_and_unfinished_resumed() -> None:
    assert with_ret("brk(NULL)", "0x4ac000") == "brk(NULL)" + " " * 31 + "= 0x4ac000"
    assert with_ret("x" * 50, "0") == "x" * 50 + " = 0"
    out = io.StringIO()
    t = Tracer(out, frozenset({"syscall"}), pid_prefix=True)
    a, b = FakeTask(10), FakeTask(11)
    t.on_syscall_enter({"task": a, "nr": 0, "name": "pause", "args": (0,) * 6})
    t.on_syscall({"task": a, "ret": None, "blocked": True})
    t.on_syscall_enter({"task": b, "nr": 39, "name": "getpid", "args": (0,) * 6})
    t.on_syscall({"task": b, "ret": 11, "blocked": False})
    t.on_syscall_resume({"task": a, "ret": (-4) & (2**64 - 1), "blocked": False})
    assert out.getvalue().splitlines() == [
        "[pid    10] pause( <unfinished ...>",
        "[pid    11] getpid()".ljust(40) + "= 11",
        "[pid    10] <... pause resumed>)".ljust(40) + "= -1 EINTR (Interrupted system call)"]


def test_every_implemented_syscall_has_a_decoder() -> None:
    """A new syscall gets its strace line with one sc(...) line in
    tinyunix/strace/table.py (rt_sigreturn's line comes from its event)."""
    from kernel.main import boot  # noqa: F401  (imports every syscall module)
    from kernel.syscalls import SYSCALL_TABLE
    missing = [e.name for e in SYSCALL_TABLE if e is not None
               and e.name not in DECODERS and e.name != "rt_sigreturn"]
    assert not missing, f"add sc(...) lines to tinyunix/strace/table.py for: {missing}"


def test_select_and_groups() -> None:
    fdset = (1 << 3).to_bytes(8, "little")
    assert line("select", (4, 0x1000, 0, 0, 0), {0x1000: fdset}) == \
        "select(4, [3], NULL, NULL, NULL)"
    assert line("setgroups", (2, 0x1000), {0x1000: struct.pack("<II", 0, 4)}) == \
        "setgroups(2, [0, 4])"
