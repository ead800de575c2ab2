"""The decoder table: one line per syscall, the argument printers in
order (see args.py; `out(...)` marks what the call writes back), and how
the return value reads ("d" decimal, "x" hex, "o" octal, "?" none, or a
function of the call).  Adding a syscall's decoder is one `sc(...)` line;
a syscall with no line is printed from its handler's type hints
(pointers in hex, integers in decimal).

A few calls print differently by their flags or command (clone, clone3,
futex, fcntl, ioctl, prctl, arch_prctl, open): their `pieces` function
returns (printer, raw value) pairs in order instead."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, Optional, Union

from . import xlat as X
from .args import (
    ACCESS_MODE, ARGV, DIRFD, ENUM, ENVP, EPOLL_EVENT, FD, FD_PAIR, FLAGS, HEX, HEX32, INT,
    INT_PTR, IOVEC, ITIMERSPEC, ITIMERVAL, MAP_FLAGS, MODE, OBUF, OBUF_HEX, OEPOLL_EVENTS,
    OFF, OIOVEC, OPATH, OPEN_FLAGS, PATH, PID, POLLFDS, PROT, PTR, RLIMIT64, RUSAGE,
    SIGACTION, SIGINFO, SIGNUM, SIGSET, SIZE, STACK_T, STAT, STR, TIMESPEC, TIMEVAL, TMS,
    UINT, ULONG, UTSNAME, WSTATUS, Arg, BUF, Call, arg, chex, out, poll_ret, struct_at,
    FDSET, SCHED_PARAM, select_ret,
)
from .fmt import flags, ptr, signame, signed, xlat


@dataclass(frozen=True)
class Decl:
    name: str
    args: tuple[Arg, ...]
    ret: Union[str, Callable[[Call], str]] = "d"
    pieces: Optional[Callable[[Call], list[tuple[Arg, int]]]] = None


DECODERS: dict[str, Decl] = {}


def sc(name: str, *args: Arg, ret: Union[str, Callable[[Call], str]] = "d",
       pieces: Optional[Callable[[Call], list[tuple[Arg, int]]]] = None) -> None:
    """Declare how syscall `name` is printed."""
    DECODERS[name] = Decl(name, args, ret, pieces)


def _ret_sig(c: Call) -> str:
    return f"{c.ret} ({signame(c.ret)})" if c.ret and c.ret > 0 else str(c.ret)


# --- processes ---------------------------------------------------------------
sc("fork"); sc("vfork")
sc("execve", PATH, ARGV, ENVP)
sc("execveat", DIRFD, PATH, ARGV, ENVP, FLAGS(X.AT_FLAGS))
sc("exit", INT, ret="?"); sc("exit_group", INT, ret="?")
sc("wait4", PID, out(arg(lambda c, v: WSTATUS(c, v) if c.ret else f"{v:#x}")), FLAGS(X.WAIT4_OPTIONS, bits=32, unknown="W???"), out(RUSAGE))
sc("waitid", ENUM(X.IDTYPES), INT, out(SIGINFO), FLAGS(X.WAIT_OPTIONS, bits=32, unknown="W???"), out(RUSAGE))
for _n in ("getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getpgrp",
           "setsid", "sched_yield", "pause", "sync", "munlockall", "vhangup"):
    sc(_n)
sc("getpgid", PID); sc("getsid", PID); sc("setpgid", PID, PID)
sc("setuid", UINT); sc("setgid", UINT); sc("setfsuid", UINT); sc("setfsgid", UINT)
sc("setreuid", INT, INT); sc("setregid", INT, INT)
sc("setresuid", INT, INT, INT); sc("setresgid", INT, INT, INT)
sc("getresuid", out(INT_PTR), out(INT_PTR), out(INT_PTR))
sc("getresgid", out(INT_PTR), out(INT_PTR), out(INT_PTR))
sc("umask", MODE, ret="o")
sc("uname", out(UTSNAME))
sc("set_tid_address", PTR)
sc("set_robust_list", PTR, SIZE)
sc("get_robust_list", PID, out(arg(lambda c, v: _ptr_at(c, v))), out(arg(lambda c, v: _ulong_at(c, v))))
sc("prlimit64", PID, ENUM(X.RLIMITS), RLIMIT64, out(RLIMIT64))
sc("getrlimit", ENUM(X.RLIMITS), out(RLIMIT64)); sc("setrlimit", ENUM(X.RLIMITS), RLIMIT64)
sc("getrusage", ENUM({0: "RUSAGE_SELF", -1 & 0xFFFFFFFF: "RUSAGE_CHILDREN", 1: "RUSAGE_THREAD"}),
   out(RUSAGE))
sc("getrandom", OBUF_HEX, SIZE, FLAGS(X.GRND_FLAGS, bits=32))
sc("sched_getaffinity", PID, UINT, out(arg(lambda c, v: _cpuset(c, v))))
sc("rseq", PTR, HEX32, INT, HEX32)
sc("getpriority", ENUM(X.PRIO_WHICH), INT); sc("setpriority", ENUM(X.PRIO_WHICH), INT, INT)
sc("sched_getscheduler", PID, ret=lambda c: xlat(c.ret, X.SCHED_POLICIES, "{}") if c.ret >= 0 else "")

# --- signals -----------------------------------------------------------------
sc("kill", PID, SIGNUM); sc("tkill", PID, SIGNUM); sc("tgkill", PID, PID, SIGNUM)
sc("rt_sigaction", SIGNUM, SIGACTION, out(SIGACTION), SIZE)
sc("rt_sigprocmask", ENUM(X.SIGPROCMASK_HOW), SIGSET(3), out(SIGSET(3)), SIZE)
sc("rt_sigpending", out(SIGSET(1, 4)), SIZE)
sc("rt_sigsuspend", SIGSET(1), SIZE)
sc("rt_sigtimedwait", SIGSET(3), out(SIGINFO), TIMESPEC, SIZE, ret=_ret_sig)
sc("rt_sigqueueinfo", PID, SIGNUM, SIGINFO)
sc("rt_tgsigqueueinfo", PID, PID, SIGNUM, SIGINFO)
sc("sigaltstack", STACK_T, out(STACK_T))
sc("alarm", UINT)
sc("setitimer", ENUM(X.ITIMERS), ITIMERVAL, out(ITIMERVAL))
sc("getitimer", ENUM(X.ITIMERS), out(ITIMERVAL))

# --- time ----------------------------------------------------------------------
sc("clock_gettime", ENUM(X.CLOCKS), out(TIMESPEC))
sc("clock_getres", ENUM(X.CLOCKS), out(TIMESPEC))
sc("clock_settime", ENUM(X.CLOCKS), TIMESPEC)
sc("gettimeofday", out(TIMEVAL), out(PTR))
sc("time", out(arg(lambda c, v: f"[{c.ret}]")))
sc("times", out(TMS))
# The time left is written when a signal interrupts the sleep.
sc("nanosleep", TIMESPEC, out(TIMESPEC, also_on=(4, 516)))
sc("clock_nanosleep", ENUM(X.CLOCKS), FLAGS(X.TIMER_FLAGS, bits=32), TIMESPEC,
   out(TIMESPEC, also_on=(4, 516)))
sc("timer_create", ENUM(X.CLOCKS), PTR, out(INT_PTR))
sc("timer_settime", INT, FLAGS(X.TIMER_FLAGS, bits=32), ITIMERSPEC, out(ITIMERSPEC))
sc("timer_gettime", INT, out(ITIMERSPEC))
sc("timer_getoverrun", INT); sc("timer_delete", INT)
sc("timerfd_create", ENUM(X.CLOCKS), FLAGS(X.TFD_FLAGS, bits=32))
sc("timerfd_settime", FD, FLAGS(X.TFD_FLAGS, bits=32), ITIMERSPEC, out(ITIMERSPEC))
sc("timerfd_gettime", FD, out(ITIMERSPEC))

# --- memory --------------------------------------------------------------------
sc("brk", PTR, ret="x")
sc("mmap", PTR, SIZE, PROT, MAP_FLAGS, FD, HEX, ret="x")
sc("munmap", PTR, SIZE)
sc("mprotect", PTR, SIZE, PROT)
sc("madvise", PTR, SIZE, ENUM(X.MADV))
sc("mremap", PTR, SIZE, SIZE, FLAGS(X.MREMAP_FLAGS), PTR, ret="x")
sc("msync", PTR, SIZE, FLAGS([(1, "MS_ASYNC"), (2, "MS_INVALIDATE"), (4, "MS_SYNC")]))
sc("mlock", PTR, SIZE); sc("munlock", PTR, SIZE)

# --- files -----------------------------------------------------------------------
sc("read", FD, OBUF, SIZE)
sc("write", FD, BUF(2), SIZE)
sc("pread64", FD, OBUF, SIZE, OFF)
sc("pwrite64", FD, BUF(2), SIZE, OFF)
sc("readv", FD, OIOVEC(2), INT)
sc("writev", FD, IOVEC(2), INT)
sc("preadv", FD, OIOVEC(2), INT, OFF)
sc("pwritev", FD, IOVEC(2), INT, OFF)
sc("lseek", FD, OFF, ENUM(X.SEEK))
sc("close", FD); sc("dup", FD); sc("dup2", FD, FD)
sc("dup3", FD, FD, FLAGS(X.PIPE_FLAGS, bits=32))
sc("pipe", out(FD_PAIR)); sc("pipe2", out(FD_PAIR), FLAGS(X.PIPE_FLAGS, bits=32))
sc("fstat", FD, out(STAT))
sc("stat", PATH, out(STAT)); sc("lstat", PATH, out(STAT))
sc("newfstatat", DIRFD, PATH, out(STAT), FLAGS(X.AT_FLAGS, bits=32))
sc("access", PATH, ACCESS_MODE)
sc("faccessat", DIRFD, PATH, ACCESS_MODE)
sc("faccessat2", DIRFD, PATH, ACCESS_MODE, FLAGS(X.FACCESSAT_FLAGS, bits=32))
sc("getcwd", OPATH, SIZE)
sc("chdir", PATH); sc("fchdir", FD); sc("chroot", PATH)
sc("readlink", PATH, OPATH, SIZE)
sc("readlinkat", DIRFD, PATH, OPATH, SIZE)
sc("unlink", PATH); sc("rmdir", PATH)
sc("unlinkat", DIRFD, PATH, FLAGS(X.AT_FLAGS, bits=32))
sc("creat", PATH, MODE)
sc("mkdir", PATH, MODE); sc("mkdirat", DIRFD, PATH, MODE)
sc("mknod", PATH, MODE, HEX); sc("mknodat", DIRFD, PATH, MODE, HEX)
sc("rename", PATH, PATH); sc("renameat", DIRFD, PATH, DIRFD, PATH)
sc("renameat2", DIRFD, PATH, DIRFD, PATH, FLAGS(X.RENAME_FLAGS, bits=32))
sc("link", PATH, PATH); sc("linkat", DIRFD, PATH, DIRFD, PATH, FLAGS(X.AT_FLAGS, bits=32))
sc("symlink", PATH, PATH); sc("symlinkat", PATH, DIRFD, PATH)
sc("truncate", PATH, OFF); sc("ftruncate", FD, OFF)
sc("chmod", PATH, MODE); sc("fchmod", FD, MODE); sc("fchmodat", DIRFD, PATH, MODE)
sc("chown", PATH, INT, INT); sc("lchown", PATH, INT, INT); sc("fchown", FD, INT, INT)
sc("fchownat", DIRFD, PATH, INT, INT, FLAGS(X.AT_FLAGS, bits=32))
sc("fsync", FD); sc("fdatasync", FD)
sc("getdents64", FD, out(arg(lambda c, v: f"{v:#x} /* {_dirents(c, v)} entries */")), UINT)
sc("getdents", FD, out(arg(lambda c, v: f"{v:#x} /* {_dirents(c, v)} entries */")), UINT)
sc("utimensat", DIRFD, PATH, arg(lambda c, v: _timespec_pair(c, v)), FLAGS(X.AT_FLAGS, bits=32))
sc("statx", DIRFD, PATH, FLAGS(X.AT_FLAGS, bits=32), HEX32, out(arg(lambda c, v: _statx(c, v))))
sc("statfs", PATH, out(PTR)); sc("fstatfs", FD, out(PTR))
sc("sendfile", FD, FD, PTR, SIZE)
sc("poll", POLLFDS(1), UINT, INT, ret=poll_ret)
sc("ppoll", POLLFDS(1), UINT, TIMESPEC, SIGSET(4), SIZE, ret=poll_ret)
sc("epoll_create", INT); sc("epoll_create1", FLAGS(X.CLOEXEC_FLAGS, bits=32))
sc("epoll_ctl", FD, ENUM(X.EPOLL_CTL), FD, EPOLL_EVENT)
sc("epoll_wait", FD, OEPOLL_EVENTS, INT, INT)
sc("epoll_pwait", FD, OEPOLL_EVENTS, INT, INT, SIGSET(5), SIZE)
sc("eventfd", UINT); sc("eventfd2", UINT, FLAGS(X.EFD_FLAGS, bits=32))
sc("epoll_pwait2", FD, OEPOLL_EVENTS, INT, TIMESPEC, SIGSET(5), SIZE)
sc("signalfd", FD, SIGSET(2), SIZE)
sc("signalfd4", FD, SIGSET(2), SIZE, FLAGS(X.SFD_FLAGS, bits=32))
sc("select", INT, FDSET(0), FDSET(0), FDSET(0), TIMEVAL, ret=select_ret)
sc("pselect6", INT, FDSET(0), FDSET(0), FDSET(0), TIMESPEC, PTR, ret=select_ret)
sc("restart_syscall")
sc("getgroups", INT, out(arg(lambda c, v: _int_list(c, v, c.ret or 0))))
sc("setgroups", INT, arg(lambda c, v: _int_list(c, v, signed(c.args[0], 32))))
sc("capget", PTR, out(PTR)); sc("capset", PTR, PTR)
sc("sched_get_priority_max", ENUM(X.SCHED_POLICIES)); sc("sched_get_priority_min", ENUM(X.SCHED_POLICIES))
sc("sched_getparam", PID, out(SCHED_PARAM)); sc("sched_setparam", PID, SCHED_PARAM)
sc("sched_setscheduler", PID, ENUM(X.SCHED_POLICIES), SCHED_PARAM)
sc("sched_rr_get_interval", PID, out(TIMESPEC))
sc("sched_setaffinity", PID, UINT, arg(lambda c, v: _cpuset(c, v, c.args[1] & 0xFFFFFFFF)))
sc("sched_getattr", PID, out(PTR), UINT, UINT); sc("sched_setattr", PID, PTR, UINT)
sc("unshare", FLAGS(X.CLONE_FLAGS)); sc("setns", FD, FLAGS(X.CLONE_FLAGS, bits=32))
sc("flock", FD, FLAGS([(1, "LOCK_SH"), (2, "LOCK_EX"), (4, "LOCK_NB"), (8, "LOCK_UN")], bits=32))
sc("mincore", PTR, SIZE, out(PTR))
sc("mlockall", FLAGS([(1, "MCL_CURRENT"), (2, "MCL_FUTURE"), (4, "MCL_ONFAULT")], bits=32))
sc("mlock2", PTR, SIZE, FLAGS([(1, "MLOCK_ONFAULT")], bits=32))
sc("utime", PATH, PTR); sc("utimes", PATH, PTR); sc("futimesat", DIRFD, PATH, PTR)
sc("fallocate", FD, FLAGS([(1, "FALLOC_FL_KEEP_SIZE"), (2, "FALLOC_FL_PUNCH_HOLE"),
                           (8, "FALLOC_FL_COLLAPSE_RANGE"), (0x10, "FALLOC_FL_ZERO_RANGE"),
                           (0x20, "FALLOC_FL_INSERT_RANGE"), (0x40, "FALLOC_FL_UNSHARE_RANGE")],
                          bits=32), OFF, OFF)
sc("syncfs", FD)
sc("memfd_create", STR, FLAGS([(1, "MFD_CLOEXEC"), (2, "MFD_ALLOW_SEALING"), (4, "MFD_HUGETLB")],
                              bits=32))


# --- the ones printed by their flags or command -------------------------------
def _open_pieces(c: Call, first: int) -> list[tuple[Arg, int]]:
    a = c.args
    ps = ([(DIRFD, a[0])] if first else []) + [(PATH, a[first]), (OPEN_FLAGS, a[first + 1])]
    if a[first + 1] & 0o20100000 or a[first + 1] & 0o100:      # O_CREAT or O_TMPFILE
        ps.append((MODE, a[first + 2]))
    return ps


sc("open", pieces=lambda c: _open_pieces(c, 0))
sc("openat", pieces=lambda c: _open_pieces(c, 1))


def _named(prefix: str, fn: Callable[[Call, int], str]) -> Arg:
    return arg(lambda c, v: prefix + fn(c, v))


def _clone_flags(c: Call, v: int) -> str:
    sig = v & 0xFF
    s = flags(v & ~0xFF, X.CLONE_FLAGS, "")
    if sig:
        s += ("|" if s else "") + signame(sig)
    return s or "0"


def _clone_pieces(c: Call) -> list[tuple[Arg, int]]:
    fl, stack, ptid, ctid, tls = c.args[:5]
    ps = [(_named("child_stack=", lambda c, v: ptr(v)), stack),
          (_named("flags=", _clone_flags), fl)]
    if fl & 0x100000:                                   # CLONE_PARENT_SETTID
        ps.append((out(_named("parent_tid=", lambda c, v: _int_at(c, v))), ptid))
    if fl & 0x80000:                                    # CLONE_SETTLS
        ps.append((Arg(lambda c, v: f"tls={ptr(v)}", True), tls))
    if fl & 0x1200000:                                  # CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID
        ps.append((Arg(lambda c, v: f"child_tidptr={ptr(v)}", True), ctid))
    return ps


sc("clone", pieces=_clone_pieces)


def _clone3_args(c: Call, v: int) -> str:
    b = c.read(v, 64)
    if b is None:
        return ptr(v)
    fl, pidfd, ctid, ptid, exit_sig, stack, ssize, tls = struct.unpack_from("<8Q", b)
    parts = [f"flags={flags(fl, X.CLONE_FLAGS, '0')}"]
    if fl & 0x1000:
        parts.append(f"pidfd={ptr(pidfd)}")
    if fl & 0x1200000:
        parts.append(f"child_tid={ptr(ctid)}")
    if fl & 0x100000:
        parts.append(f"parent_tid={ptr(ptid)}")
    parts.append(f"exit_signal={signame(exit_sig) if exit_sig else 0}")
    parts.append(f"stack={ptr(stack)}")
    parts.append(f"stack_size={chex(ssize)}")
    if fl & 0x80000:
        parts.append(f"tls={ptr(tls)}")
    return "{" + ", ".join(parts) + "}"


def _clone3_result(c: Call, v: int) -> str:
    b = c.read(v, 64)
    if b is None or c.failed:
        return ""
    fl, _pidfd, _ctid, ptid = struct.unpack_from("<4Q", b)
    if fl & 0x100000:
        return f" => {{parent_tid={_int_at(c, ptid)}}}"
    return ""


def _clone3_pieces(c: Call) -> list[tuple[Arg, int]]:
    return [(arg(_clone3_args), c.args[0]),
            (Arg(lambda c, v: _clone3_result(c, v), True), c.args[0]),
            (SIZE, c.args[1])]


sc("clone3", pieces=_clone3_pieces)

_FUTEX_PRIVATE, _FUTEX_CLOCK_RT = 128, 256


def _futex_op(v: int) -> str:
    op = v & 0xFFFFFFFF
    s = xlat(op & ~(_FUTEX_PRIVATE | _FUTEX_CLOCK_RT) & 0x7F, X.FUTEX_OPS, "{:#x}")
    if op & _FUTEX_PRIVATE:
        s += "_PRIVATE"
    if op & _FUTEX_CLOCK_RT:
        s += "|FUTEX_CLOCK_REALTIME"
    return s


def _futex_pieces(c: Call) -> list[tuple[Arg, int]]:
    uaddr, op, val, utime, uaddr2, val3 = c.args
    cmd = op & 0x7F
    ps = [(PTR, uaddr), (arg(lambda c, v: _futex_op(v)), op), (INT, val)]
    bitset = arg(lambda c, v: "FUTEX_BITSET_MATCH_ANY" if v & 0xFFFFFFFF == 0xFFFFFFFF
                 else chex(v & 0xFFFFFFFF))
    if cmd in (0, 11):                                   # WAIT, WAIT_REQUEUE_PI
        ps.append((TIMESPEC, utime))
    elif cmd == 9:                                       # WAIT_BITSET
        ps += [(TIMESPEC, utime), (bitset, val3)]
    elif cmd == 10:                                      # WAKE_BITSET
        ps.append((bitset, val3))
    elif cmd == 3:                                       # REQUEUE
        ps += [(UINT, utime), (PTR, uaddr2)]
    elif cmd in (4, 12):                                 # CMP_REQUEUE
        ps += [(UINT, utime), (PTR, uaddr2), (INT, val3)]
    elif cmd == 5:                                       # WAKE_OP
        ps += [(UINT, utime), (PTR, uaddr2), (HEX32, val3)]
    elif cmd in (6, 13):                                 # LOCK_PI
        ps.append((TIMESPEC, utime))
    return ps


sc("futex", pieces=_futex_pieces)


def _fcntl_pieces(c: Call) -> list[tuple[Arg, int]]:
    fd, cmd, a = c.args[:3]
    cmd &= 0xFFFFFFFF
    ps = [(FD, fd), (ENUM(X.FCNTL), cmd)]
    if cmd == 2:                                         # F_SETFD
        ps.append((FLAGS(X.FD_FLAGS), a))
    elif cmd == 4:                                       # F_SETFL
        ps.append((OPEN_FLAGS, a))
    elif cmd in (0, 1030, 8, 10, 1031, 1033, 1024, 1026):
        ps.append((INT, a))
    elif cmd not in (1, 3, 9, 11, 1025, 1032, 1034):
        ps.append((PTR, a))
    return ps


def _fcntl_ret(c: Call) -> str:
    cmd = c.args[1] & 0xFFFFFFFF
    if c.ret is not None and c.ret >= 0:
        if cmd == 1:
            return f"{chex(c.ret)} (flags {flags(c.ret, X.FD_FLAGS)})" if c.ret else "0"
        if cmd == 3:
            return f"{chex(c.ret)} (flags {OPEN_FLAGS(c, c.ret)})"
    return str(c.ret)


sc("fcntl", ret=_fcntl_ret, pieces=_fcntl_pieces)


def _winsize(c: Call, b: bytes) -> str:
    r, col, x, y = struct.unpack_from("<4H", b)
    return f"{{ws_row={r}, ws_col={col}, ws_xpixel={x}, ws_ypixel={y}}}"


def _ioctl_pieces(c: Call) -> list[tuple[Arg, int]]:
    fd, cmd, a = c.args[:3]
    cmd &= 0xFFFFFFFF
    ps = [(FD, fd), (ENUM(X.IOCTLS), cmd)]
    if cmd in (0x5413,):                                 # TIOCGWINSZ
        ps.append((out(struct_at(_winsize, 8)), a))
    elif cmd == 0x5414:
        ps.append((struct_at(_winsize, 8), a))
    elif cmd in (0x540F, 0x541B, 0x5429):                # TIOCGPGRP, FIONREAD, TIOCGSID
        ps.append((out(INT_PTR), a))
    elif cmd in (0x5410, 0x5421):                        # TIOCSPGRP, FIONBIO
        ps.append((INT_PTR, a))
    elif cmd in (0x5401,):                               # TCGETS: termios is not decoded
        ps.append((out(PTR), a))
    elif cmd not in (0x5450, 0x5451, 0x5422):
        ps.append((HEX, a))
    return ps


sc("ioctl", pieces=_ioctl_pieces)


def _arch_prctl_pieces(c: Call) -> list[tuple[Arg, int]]:
    code, a = c.args[:2]
    code &= 0xFFFFFFFF
    ps = [(ENUM(X.ARCH_PRCTL), code)]
    if code in (0x1003, 0x1004):                         # ARCH_GET_FS/GS
        ps.append((out(arg(lambda c, v: f"[{_ptr_at(c, v)[1:-1]}]")), a))
    else:
        ps.append((PTR if code in (0x1001, 0x1002) else HEX, a))
    return ps


sc("arch_prctl", pieces=_arch_prctl_pieces)


def _prctl_pieces(c: Call) -> list[tuple[Arg, int]]:
    opt = c.args[0] & 0xFFFFFFFF
    ps = [(ENUM(X.PRCTL), opt)]
    if opt == 15:                                        # PR_SET_NAME
        ps.append((STR, c.args[1]))
    elif opt == 16:                                      # PR_GET_NAME
        ps.append((out(STR), c.args[1]))
    elif opt == 1:
        ps.append((SIGNUM, c.args[1]))
    elif opt in (2, 37):                                 # PR_GET_PDEATHSIG, _CHILD_SUBREAPER
        ps.append((out(INT_PTR), c.args[1]))
    elif opt == 4:                                       # PR_SET_DUMPABLE
        ps.append((ENUM({0: "SUID_DUMP_DISABLE", 1: "SUID_DUMP_USER", 2: "SUID_DUMP_ROOT"},
                        "{}", 64), c.args[1]))
    elif opt in (36, 38, 8):
        ps.append((ULONG, c.args[1]))
    elif opt not in (3, 7, 21, 39):
        ps += [(HEX, v) for v in c.args[1:5]]
    return ps


sc("prctl", pieces=_prctl_pieces)


# --- helpers of the lines above ----------------------------------------------------
def _int_at(c: Call, v: int) -> str:
    b = c.read(v, 4)
    return ptr(v) if b is None else f"[{struct.unpack('<i', b)[0]}]"


def _ptr_at(c: Call, v: int) -> str:
    b = c.read(v, 8)
    return ptr(v) if b is None else f"[{ptr(struct.unpack('<Q', b)[0])}]"


def _ulong_at(c: Call, v: int) -> str:
    b = c.read(v, 8)
    return ptr(v) if b is None else f"[{struct.unpack('<Q', b)[0]}]"


def _int_list(c: Call, v: int, n: int) -> str:
    """[0, 4]: n ints (gid lists)."""
    b = c.read(v, 4 * max(0, n)) if n > 0 else b""
    if b is None or v == 0:
        return ptr(v)
    return "[" + ", ".join(str(x) for x in struct.unpack(f"<{n}I", b)) + "]"


def _cpuset(c: Call, v: int, n: int = -1) -> str:
    b = c.read(v, max(0, c.ret or 0) if n < 0 else n)
    if b is None:
        return ptr(v)
    mask = int.from_bytes(b, "little")
    return "[" + ", ".join(str(i) for i in range(len(b) * 8) if mask >> i & 1) + "]"


def _dirents(c: Call, v: int) -> int:
    b = c.read(v, max(0, c.ret or 0)) or b""
    n = off = 0
    while off + 18 <= len(b):
        reclen = struct.unpack_from("<H", b, off + 16)[0]
        if reclen == 0:
            break
        n += 1
        off += reclen
    return n


def _timespec_pair(c: Call, v: int) -> str:
    if v == 0:
        return "NULL"
    b = c.read(v, 32)
    if b is None:
        return ptr(v)
    out_ = []
    for i in range(2):
        s, ns = struct.unpack_from("<qq", b, 16 * i)
        nsn = {(1 << 30) - 1: "UTIME_NOW", (1 << 30) - 2: "UTIME_OMIT"}.get(ns)
        out_.append(nsn if nsn else f"{{tv_sec={s}, tv_nsec={ns}}}")
    return "[" + ", ".join(out_) + "]"


def _statx(c: Call, v: int) -> str:
    b = c.read(v, 256)
    if b is None:
        return ptr(v)
    mask, _blksize, attrs, _nlink, _uid, _gid, mode = struct.unpack_from("<IIQIIIH", b)
    size = struct.unpack_from("<Q", b, 40)[0]
    from .args import mode_str
    return (f"{{stx_mask={_statx_mask(mask)}, stx_attributes={chex(attrs)}, "
            f"stx_mode={mode_str(mode)}, stx_size={size}, ...}}")


def _statx_mask(m: int) -> str:
    if m & 0x7FF == 0x7FF:
        rest = m & ~0x7FF
        return "STATX_BASIC_STATS" + (f"|{flags(rest, [(0x800, 'STATX_BTIME'), (0x1000, 'STATX_MNT_ID')])}" if rest else "")
    return flags(m, [(1, "STATX_TYPE"), (2, "STATX_MODE"), (4, "STATX_NLINK"), (8, "STATX_UID"),
                     (0x10, "STATX_GID"), (0x20, "STATX_ATIME"), (0x40, "STATX_MTIME"),
                     (0x80, "STATX_CTIME"), (0x100, "STATX_INO"), (0x200, "STATX_SIZE"),
                     (0x400, "STATX_BLOCKS"), (0x800, "STATX_BTIME")])

