"""Argument printers: each takes the call and one raw register value and
returns the text strace shows for it.  Scalars and flags are printed
from the register; pointers are followed through umem (side-effect free).
A printer made with `out(...)` shows an output argument: it is printed at
the syscall's exit, and as a bare pointer when the call failed.  Struct
layouts are x86-64's (include/uapi)."""
from __future__ import annotations

import os
import struct
from typing import Callable, Optional

from . import xlat as X
from .fmt import MAX_STRLEN, flags, ptr, quote, quote_cut, siginfo, signame, signed, sigset, xlat
from .umem import peek, peek_cstr

PATH_MAX = 4096


class Call:
    """One syscall as the tracer sees it: the task, its six raw argument
    registers and, at exit, its return value (signed; None while it runs
    or when it does not return)."""
    __slots__ = ("tsk", "mm", "name", "args", "ret")

    def __init__(self, tsk, name: str, args: tuple) -> None:
        self.tsk = tsk
        self.mm = tsk.mm
        self.name = name
        self.args = args
        self.ret: Optional[int] = None

    @property
    def failed(self) -> bool:
        return self.ret is not None and -4096 < self.ret < 0

    def i32(self, i: int) -> int:
        return signed(self.args[i], 32)

    def read(self, addr: int, n: int) -> Optional[bytes]:
        return peek(self.mm, addr, n)

    def cstr(self, addr: int, limit: int) -> Optional[tuple[bytes, bool]]:
        return peek_cstr(self.mm, addr, limit)


Printer = Callable[[Call, int], str]


class Arg:
    """A printer and whether its argument is an output (printed at exit)."""
    __slots__ = ("fn", "out")

    def __init__(self, fn: Printer, out: bool = False) -> None:
        self.fn = fn
        self.out = out

    def __call__(self, c: Call, v: int) -> str:
        return self.fn(c, v)


def arg(fn: Printer) -> Arg:
    return Arg(fn)


def out(a: Arg | Printer, also_on: tuple = ()) -> Arg:
    """An output argument: shown at exit, as a pointer if the call failed
    (unless with one of the errnos `also_on`, which still write it)."""
    fn = a.fn if isinstance(a, Arg) else a

    def shown(c: Call, v: int) -> str:
        if v == 0:
            return "NULL"
        if c.ret is None or c.failed and -c.ret not in also_on:
            return f"{v:#x}"
        return fn(c, v)
    return Arg(shown, True)


def struct_at(fn: Callable[[Call, bytes], str], size: int) -> Arg:
    """A pointer to a struct of `size` bytes, shown by fn(call, bytes):
    NULL, or the bare pointer when it cannot be read."""
    def show(c: Call, v: int) -> str:
        if v == 0:
            return "NULL"
        b = c.read(v, size)
        return f"{v:#x}" if b is None else fn(c, b)
    return Arg(show)


# --- scalars ---------------------------------------------------------------
INT = arg(lambda c, v: str(signed(v, 32)))
UINT = arg(lambda c, v: str(v & 0xFFFFFFFF))
LONG = arg(lambda c, v: str(signed(v)))
ULONG = arg(lambda c, v: str(v))


def chex(v: int) -> str:
    """C's %#x: 0x1f, and 0 as 0."""
    return f"{v:#x}" if v else "0"


HEX = arg(lambda c, v: chex(v))
HEX32 = arg(lambda c, v: chex(v & 0xFFFFFFFF))
PTR = arg(lambda c, v: ptr(v))
FD = INT
PID = INT
SIZE = ULONG
OFF = LONG
def octal(m: int) -> str:
    """C's %#03o: 0644, 022, 000."""
    return (f"0{m:o}" if m else "0").rjust(3, "0")


MODE = arg(lambda c, v: octal(v & 0o7777))
DIRFD = arg(lambda c, v: "AT_FDCWD" if signed(v, 32) == -100 else str(signed(v, 32)))
SIGNUM = arg(lambda c, v: signame(signed(v, 32)) if 0 < signed(v, 32) <= 64 else str(signed(v, 32)))


def FLAGS(tbl: list, empty: str = "0", bits: int = 64, unknown: str = "") -> Arg:
    """A flag set; bits no name covers show as strace does (`unknown` is
    strace's default string, e.g. W???; by default the names' prefix)."""
    if not unknown:
        prefix = os.path.commonprefix([n for _, n in tbl])
        prefix = prefix[:prefix.rfind("_") + 1]
        unknown = prefix + "???" if prefix else ""
    return arg(lambda c, v: flags(v & ((1 << bits) - 1), tbl, empty, unknown))


def ENUM(tbl: dict, unknown: str = "", bits: int = 32) -> Arg:
    """A value by name; an unknown one as strace shows it: 0x7 /* SIG_??? */
    (the names' common prefix), or `unknown`.format(value)."""
    if not unknown:
        prefix = os.path.commonprefix(list(tbl.values()))
        prefix = prefix[:prefix.rfind("_") + 1]
        unknown = "{:#x} /* " + prefix + "??? */" if prefix else "{:#x}"
    return arg(lambda c, v: xlat(v & ((1 << bits) - 1), tbl, unknown))


def _open_flags(c: Call, v: int) -> str:
    v &= 0xFFFFFFFF
    acc = X.OPEN_ACCMODE.get(v & 3, "0x3")
    rest = flags(v & ~3, X.OPEN_FLAGS, "")
    return acc + ("|" + rest if rest else "")


OPEN_FLAGS = arg(_open_flags)
ACCESS_MODE = arg(lambda c, v: flags(v & 0xFFFFFFFF, X.ACCESS_MODES, "F_OK"))
PROT = arg(lambda c, v: flags(v, X.PROT_FLAGS, "PROT_NONE"))


def _map_flags(c: Call, v: int) -> str:
    v &= 0xFFFFFFFF
    typ = X.MAP_TYPES.get(v & 0xF, f"{v & 0xF:#x}")
    rest = flags(v & ~0xF, X.MAP_FLAGS, "")
    return typ + ("|" + rest if rest else "")


MAP_FLAGS = arg(_map_flags)


# --- strings and buffers ---------------------------------------------------
def _cstr(c: Call, v: int, limit: int) -> str:
    if v == 0:
        return "NULL"
    r = c.cstr(v, limit + 1)
    if r is None:
        return f"{v:#x}"
    s, done = r
    return quote_cut(s, not done, limit)


PATH = arg(lambda c, v: _cstr(c, v, PATH_MAX))
STR = arg(lambda c, v: _cstr(c, v, MAX_STRLEN))


def _buf(c: Call, v: int, n: int, force_hex: bool = False) -> str:
    if v == 0:
        return "NULL"
    n = max(0, n)
    b = c.read(v, min(n, MAX_STRLEN))
    if b is None:
        return f"{v:#x}"
    return quote(b, force_hex) + ("..." if n > MAX_STRLEN else "")


def BUF(len_arg: int) -> Arg:
    """An input buffer whose length is argument `len_arg`."""
    return arg(lambda c, v: _buf(c, v, c.args[len_arg]))


OBUF = out(lambda c, v: _buf(c, v, c.ret or 0))                    # length = return value
OBUF_HEX = out(lambda c, v: _buf(c, v, c.ret or 0, force_hex=True))


def _path_ret(c: Call, v: int) -> str:
    b = c.read(v, min(c.ret or 0, MAX_STRLEN))
    return f"{v:#x}" if b is None else quote_cut(b.rstrip(b"\0"), (c.ret or 0) > MAX_STRLEN)


OPATH = out(_path_ret)       # getcwd, readlink: the path the call wrote


def _strarray(c: Call, v: int) -> str:
    """argv: ["a", "b"], cut after 32 elements as strace does."""
    items = []
    for i in range(MAX_STRLEN + 1):
        p = c.read(v + 8 * i, 8)
        if p is None:
            return f"{v:#x}" if not items else "[" + ", ".join(items) + ", ...]"
        a = struct.unpack("<Q", p)[0]
        if a == 0:
            return "[" + ", ".join(items) + "]"
        if i == MAX_STRLEN:
            return "[" + ", ".join(items) + ", ...]"
        items.append(_cstr(c, a, MAX_STRLEN))
    return "[" + ", ".join(items) + "]"


ARGV = arg(lambda c, v: "NULL" if v == 0 else _strarray(c, v))


def _envp(c: Call, v: int) -> str:
    if v == 0:
        return "NULL"
    n = 0
    while n < 1 << 16:
        p = c.read(v + 8 * n, 8)
        if p is None or struct.unpack("<Q", p)[0] == 0:
            break
        n += 1
    return f"{v:#x} /* {n} var{'' if n == 1 else 's'} */"


ENVP = arg(_envp)


# --- structs ---------------------------------------------------------------
def _timespec(b: bytes) -> str:
    s, ns = struct.unpack_from("<qq", b)
    return f"{{tv_sec={s}, tv_nsec={ns}}}"


def _timeval(b: bytes) -> str:
    s, us = struct.unpack_from("<qq", b)
    return f"{{tv_sec={s}, tv_usec={us}}}"


TIMESPEC = struct_at(lambda c, b: _timespec(b), 16)
TIMEVAL = struct_at(lambda c, b: _timeval(b), 16)
ITIMERSPEC = struct_at(lambda c, b: f"{{it_interval={_timespec(b)}, it_value={_timespec(b[16:])}}}", 32)
ITIMERVAL = struct_at(lambda c, b: f"{{it_interval={_timeval(b)}, it_value={_timeval(b[16:])}}}", 32)


def _rlim(v: int, inf: str) -> str:
    if v == (1 << 64) - 1:
        return inf
    if v and v % 1024 == 0:
        return f"{v // 1024}*1024"
    return str(v)


def _rlimit(inf: str) -> Callable[[Call, bytes], str]:
    def show(c: Call, b: bytes) -> str:
        cur, mx = struct.unpack_from("<QQ", b)
        return f"{{rlim_cur={_rlim(cur, inf)}, rlim_max={_rlim(mx, inf)}}}"
    return show


RLIMIT64 = struct_at(_rlimit("RLIM64_INFINITY"), 16)
RLIMIT = struct_at(_rlimit("RLIM_INFINITY"), 16)


def _utsname(c: Call, b: bytes) -> str:
    f = [b[i * 65:(i + 1) * 65].split(b"\0")[0] for i in range(2)]
    return f"{{sysname={quote(f[0])}, nodename={quote(f[1])}, ...}}"


UTSNAME = struct_at(_utsname, 65 * 6)


def _makedev(dev: int) -> str:
    major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF)
    minor = (dev & 0xFF) | ((dev >> 12) & ~0xFF)
    return f"makedev({major:#x}, {minor:#x})"


def mode_str(m: int) -> str:
    typ = X.MODE_TYPES.get(m & 0o170000)
    perm = octal(m & 0o7777)
    return f"{typ}|{perm}" if typ else perm


def _stat(c: Call, b: bytes) -> str:
    (_dev, _ino, _nlink, mode, _uid, _gid, _pad, rdev, size) = struct.unpack_from("<QQQIIIIQq", b)
    parts = [f"st_mode={mode_str(mode)}"]
    if mode & 0o170000 in (0o020000, 0o060000):
        parts.append(f"st_rdev={_makedev(rdev)}")
    else:
        parts.append(f"st_size={size}")
    return "{" + ", ".join(parts) + ", ...}"


STAT = struct_at(_stat, 144)


def SIGSET(size_arg: int, min_len: int = 8) -> Arg:
    """A sigset_t of argument `size_arg` bytes; a size out of
    [min_len, 8] shows the pointer, as strace does."""
    def show(c: Call, v: int) -> str:
        n = c.args[size_arg]
        if v == 0 or not min_len <= n <= 8:
            return ptr(v)
        b = c.read(v, n)
        return f"{v:#x}" if b is None else sigset(int.from_bytes(b, "little"))
    return arg(show)


def _handler(h: int) -> str:
    return {0: "SIG_DFL", 1: "SIG_IGN"}.get(h, f"{h:#x}")


def _sigaction(c: Call, b: bytes) -> str:
    h, fl, restorer, mask = struct.unpack_from("<QQQQ", b)
    s = f"{{sa_handler={_handler(h)}, sa_mask={sigset(mask)}, sa_flags={flags(fl, X.SA_FLAGS)}"
    if fl & 0x04000000:
        s += f", sa_restorer={ptr(restorer)}"
    return s + "}"


SIGACTION = struct_at(_sigaction, 32)


def _stack_t(c: Call, b: bytes) -> str:
    sp, fl, size = struct.unpack_from("<QixxxxQ", b)
    return f"{{ss_sp={ptr(sp)}, ss_flags={flags(fl & 0xFFFFFFFF, X.SS_FLAGS)}, ss_size={size}}}"


STACK_T = struct_at(_stack_t, 24)


def _tms(c: Call, b: bytes) -> str:
    u, s, cu, cs = struct.unpack_from("<qqqq", b)
    return f"{{tms_utime={u}, tms_stime={s}, tms_cutime={cu}, tms_cstime={cs}}}"


TMS = struct_at(_tms, 32)


def _rusage(c: Call, b: bytes) -> str:
    return f"{{ru_utime={_timeval(b)}, ru_stime={_timeval(b[16:])}, ...}}"


RUSAGE = struct_at(_rusage, 144)


def _siginfo_t(c: Call, b: bytes) -> str:
    from kernel.siginfo import siginfo_from_bytes
    if b[:4] == bytes(4):
        return "{}"                  # si_signo 0: nothing was filled in
    return siginfo(siginfo_from_bytes(b).fields())


SIGINFO = struct_at(_siginfo_t, 128)


def _int_array(n: int) -> Callable[[Call, bytes], str]:
    return lambda c, b: "[" + ", ".join(str(x) for x in struct.unpack_from(f"<{n}i", b)) + "]"


FD_PAIR = struct_at(_int_array(2), 8)       # pipe, socketpair
INT_PTR = struct_at(_int_array(1), 4)       # [42]


def wait_status(s: int) -> str:
    sig = s & 0x7F
    if sig == 0:
        return f"[{{WIFEXITED(s) && WEXITSTATUS(s) == {(s >> 8) & 0xFF}}}]"
    if sig == 0x7F:
        if s == 0xFFFF:
            return "[{WIFCONTINUED(s)}]"
        return f"[{{WIFSTOPPED(s) && WSTOPSIG(s) == {signame((s >> 8) & 0xFF)}}}]"
    core = " && WCOREDUMP(s)" if s & 0x80 else ""
    return f"[{{WIFSIGNALED(s) && WTERMSIG(s) == {signame(sig)}{core}}}]"


WSTATUS = struct_at(lambda c, b: wait_status(struct.unpack("<i", b)[0] & 0xFFFF), 4)


def _iovec(c: Call, v: int, n: int, total: Optional[int]) -> str:
    """[{iov_base="...", iov_len=5}, ...]: the data shown is at most 32
    bytes in all, and for an output vector only what the call filled."""
    if v == 0:
        return "NULL"
    items = []
    budget = MAX_STRLEN
    for i in range(min(n, 1024)):
        b = c.read(v + 16 * i, 16)
        if b is None:
            return f"{v:#x}" if not items else "[" + ", ".join(items) + ", ...]"
        base, ln = struct.unpack("<QQ", b)
        if i == MAX_STRLEN:
            items.append("...")
            break
        show = ln if total is None else max(0, min(ln, total))
        if total is not None:
            total -= show
        data = c.read(base, min(show, budget)) if base else None
        if data is None:
            s = ptr(base)
        else:
            s = quote(data) + ("..." if show > budget else "")
        budget = max(0, budget - show)
        items.append(f"{{iov_base={s}, iov_len={ln}}}")
    return "[" + ", ".join(items) + "]"


def IOVEC(count_arg: int) -> Arg:
    return arg(lambda c, v: _iovec(c, v, signed(c.args[count_arg], 32), None))


def OIOVEC(count_arg: int) -> Arg:
    return out(lambda c, v: _iovec(c, v, signed(c.args[count_arg], 32), c.ret or 0))


def _pollfds(c: Call, v: int, n: int, revents: bool) -> str:
    items = []
    for i in range(min(n, MAX_STRLEN)):
        b = c.read(v + 8 * i, 8)
        if b is None:
            return f"{v:#x}"
        fd, ev, rev = struct.unpack("<ihh", b)
        if revents:
            if rev:
                items.append(f"{{fd={fd}, revents={flags(rev & 0xFFFF, X.POLL_EVENTS)}}}")
        else:
            items.append(f"{{fd={fd}, events={flags(ev & 0xFFFF, X.POLL_EVENTS)}}}")
    return "[" + ", ".join(items) + ("..." if n > MAX_STRLEN else "") + "]"


def POLLFDS(count_arg: int) -> Arg:
    return arg(lambda c, v: "NULL" if v == 0 else _pollfds(c, v, c.args[count_arg] & 0xFFFFFFFF, False))


def poll_ret(c: Call) -> str:
    """poll's return: the count, then the ready fds ([{fd=3, revents=POLLIN}])."""
    r = str(c.ret)
    if c.ret and c.ret > 0:
        r += f" ({_pollfds(c, c.args[0], c.args[1] & 0xFFFFFFFF, True)})"
    elif c.ret == 0:
        r += " (Timeout)"
    return r


def _epoll_event(b: bytes) -> str:
    ev, data = struct.unpack_from("<IQ", b)
    return (f"{{events={flags(ev, X.EPOLL_EVENTS)}, "
            f"data={{u32={data & 0xFFFFFFFF}, u64={data}}}}}")


EPOLL_EVENT = struct_at(lambda c, b: _epoll_event(b), 12)


def _epoll_events(c: Call, v: int) -> str:
    n = c.ret or 0
    b = c.read(v, 12 * n)
    if b is None:
        return f"{v:#x}"
    return "[" + ", ".join(_epoll_event(b[12 * i:]) for i in range(n)) + "]"


OEPOLL_EVENTS = out(_epoll_events)


def _fds(c: Call, v: int, nfds: int) -> Optional[list[int]]:
    if v == 0 or nfds <= 0:
        return None
    b = c.read(v, (min(nfds, 1024) + 63) // 64 * 8)
    if b is None:
        return None
    bits = int.from_bytes(b, "little")
    return [i for i in range(min(nfds, 1024)) if bits >> i & 1]


def FDSET(nfds_arg: int) -> Arg:
    """An fd_set of argument `nfds_arg` bits: [3 4], as strace shows it."""
    def show(c: Call, v: int) -> str:
        fds = _fds(c, v, signed(c.args[nfds_arg], 32))
        return ptr(v) if fds is None else "[" + " ".join(map(str, fds)) + "]"
    return arg(show)


def select_ret(c: Call) -> str:
    """select's return: the count, then (in [3], out [4]) or (Timeout)."""
    if c.ret == 0:
        return "0 (Timeout)"
    parts = []
    for name, i in (("in", 1), ("out", 2), ("except", 3)):
        fds = _fds(c, c.args[i], signed(c.args[0], 32))
        if fds:
            parts.append(f"{name} [{' '.join(map(str, fds))}]")
    return f"{c.ret} ({', '.join(parts)})" if parts else str(c.ret)


SCHED_PARAM = struct_at(lambda c, b: f"[{struct.unpack_from('<i', b)[0]}]", 4)
