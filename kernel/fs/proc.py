"""The guest's /proc (fs/proc/root.c, base.c, fd.c, namespaces.c,
proc_sysctl.c): every name below /proc is served from this kernel's
state; the host's /proc never shows through (its /proc/<pid> are host
processes, the emulator among them).

Paths are resolved one component at a time (proc_lookup, called by
path_walk): /proc/self and /proc/thread-self are links to the caller's
pid directory; /proc/PID/cwd and root are links path_walk follows;
exe and fd/N are opened anew (a new open file description of the same
file, pipe or terminal), as Linux does.  Pids are those of the reader's
pid namespace (as if /proc were mounted from inside it).

Files are generated when read (seq_file): a read at offset 0 shows the
state now, a read further on continues the text generated then.  The
contents come from proc_array.py (stat, status, statm), proc_task_mmu.py
(maps, smaps_rollup) and proc_misc.py (meminfo, stat, ...).  Directories
are listed by readdir(f): (name, ino, d_type) of every entry, "." and
".." first; getdents walks that list with f_pos as the index.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Union

from .. import state
from ..panic import Errno
from ..percpu import current
from ..pid_namespace import (
    current_ns, pid_namespace, task_active_pid_ns, task_pid_nr_ns, task_tgid_nr_ns,
)
from ..task import EXIT_DEAD, task_struct
from ..uapi import (
    EACCES, EINVAL, EISDIR, ENOENT, ENOTDIR, ENXIO, ESRCH, O_ACCMODE, O_APPEND, O_RDONLY,
    O_DIRECTORY, O_RDWR, O_WRONLY, S_IFDIR, S_IFLNK, S_IFREG,
)
from .file import FileOps, file

DT_DIR, DT_REG, DT_LNK = 4, 8, 10
PROC_DEV = 0x16
PROC_ROOT_INO = 1

# Entries of /proc/PID (tgid_base_stuff) and /proc/PID/task/TID
# (tid_base_stuff) that are served, in Linux's order: name -> (type, mode).
TGID_ENTRIES = {
    "task": (DT_DIR, 0o555), "fd": (DT_DIR, 0o500), "ns": (DT_DIR, 0o511),
    "environ": (DT_REG, 0o400), "status": (DT_REG, 0o444), "comm": (DT_REG, 0o644),
    "cmdline": (DT_REG, 0o444), "stat": (DT_REG, 0o444), "statm": (DT_REG, 0o444),
    "maps": (DT_REG, 0o444), "cwd": (DT_LNK, 0o777), "root": (DT_LNK, 0o777),
    "exe": (DT_LNK, 0o777), "mounts": (DT_REG, 0o444), "smaps_rollup": (DT_REG, 0o444),
    "wchan": (DT_REG, 0o444),
}
TID_ENTRIES = {
    "fd": (DT_DIR, 0o500), "ns": (DT_DIR, 0o511), "environ": (DT_REG, 0o400),
    "status": (DT_REG, 0o444), "comm": (DT_REG, 0o644), "cmdline": (DT_REG, 0o444),
    "stat": (DT_REG, 0o444), "statm": (DT_REG, 0o444), "maps": (DT_REG, 0o444),
    "children": (DT_REG, 0o444), "cwd": (DT_LNK, 0o777), "root": (DT_LNK, 0o777),
    "exe": (DT_LNK, 0o777), "mounts": (DT_REG, 0o444), "smaps_rollup": (DT_REG, 0o444),
    "wchan": (DT_REG, 0o444),
}
NS_ENTRIES = ("pid", "pid_for_children")
ROOT_DIRS = ("sys",)
SYS_DIRS = {"sys": ("kernel",)}
_ROOT_LINKS = ("self", "thread-self")


@dataclass(eq=False, slots=True)
class ProcNode:
    """What a /proc path names.  kind: DT_DIR, DT_REG or DT_LNK; `what`
    names the entry ("root", "pid", "stat", "fd", "sys/kernel/ostype"...);
    tsk/whole for entries of a process (whole) or thread directory."""
    kind: int
    what: str
    mode: int
    tsk: Optional[task_struct] = None
    whole: bool = True
    fd: int = -1
    ino: int = 0


def _visible_task(nr_s: str, ns: pid_namespace) -> Optional[task_struct]:
    if not nr_s.isdigit() or (len(nr_s) > 1 and nr_s[0] == "0"):
        return None
    t = ns.tasks.get(int(nr_s))
    if t is None or t.exit_state == EXIT_DEAD:
        return None
    return t


def resolve(parts: list[str]) -> ProcNode:
    """The node /proc/<parts...> names, or Errno(ENOENT)/(ENOTDIR)."""
    ns = current_ns()
    if not parts:
        return ProcNode(DT_DIR, "root", 0o555, ino=PROC_ROOT_INO)
    head = parts[0]
    if len(parts) == 1:
        if head in _ROOT_LINKS:
            return ProcNode(DT_LNK, head, 0o777, ino=2 if head == "self" else 3)
        from .proc_misc import ROOT_FILES
        if head in ROOT_FILES or head == "mounts":
            return ProcNode(DT_REG, head, 0o444, ino=0x100 + sorted(ROOT_FILES).index(head)
                            if head in ROOT_FILES else 0x1FF)
    if head == "sys":
        return _resolve_sys(parts)
    t = _visible_task(head, ns)
    if t is None:
        if len(parts) == 1 or head in _ROOT_LINKS:
            raise Errno(ENOENT)
        from .proc_misc import ROOT_FILES
        raise Errno(ENOTDIR if head in ROOT_FILES else ENOENT)
    # /proc/N for a thread that is not a group leader works too (hidden
    # from readdir), and shows the whole process like its leader's.
    return _resolve_pid(t, parts[1:], whole=True)


def _resolve_sys(parts: list[str]) -> ProcNode:
    from .proc_misc import SYS_KERNEL
    if len(parts) == 1:
        return ProcNode(DT_DIR, "sys", 0o555, ino=0x200)
    if parts[1] != "kernel":
        raise Errno(ENOENT)
    if len(parts) == 2:
        return ProcNode(DT_DIR, "sys/kernel", 0o555, ino=0x201)
    if len(parts) == 3 and parts[2] in SYS_KERNEL:
        return ProcNode(DT_REG, "sys/kernel/" + parts[2], 0o444,
                        ino=0x210 + sorted(SYS_KERNEL).index(parts[2]))
    if len(parts) > 3 and parts[2] in SYS_KERNEL:
        raise Errno(ENOTDIR)
    raise Errno(ENOENT)


def _pid_ino(t: task_struct, idx: int) -> int:
    return (t.pid << 8) + 0x10000 + idx


def _resolve_pid(t: task_struct, rest: list[str], whole: bool) -> ProcNode:
    table = TGID_ENTRIES if whole else TID_ENTRIES
    if not rest:
        return ProcNode(DT_DIR, "pid", 0o555, t, whole, ino=_pid_ino(t, 0))
    name = rest[0]
    if name not in table:
        raise Errno(ENOENT)
    kind, mode = table[name]
    idx = list(table).index(name) + 1
    if len(rest) == 1:
        return ProcNode(kind, name, mode, t, whole, ino=_pid_ino(t, idx))
    if name == "task" and whole:
        ns = current_ns()
        th = _visible_task(rest[1], ns)
        if th is None or th.signal is not t.signal:
            raise Errno(ENOENT)
        return _resolve_pid(th, rest[2:], whole=False)
    if name == "fd" and len(rest) == 2:
        if not rest[1].isdigit():
            raise Errno(ENOENT)
        fd = int(rest[1])
        if t.files is None or not (0 <= fd < len(t.files.fd)) or t.files.fd[fd] is None:
            raise Errno(ENOENT)
        return ProcNode(DT_LNK, "fd/N", 0o700, t, whole, fd, ino=_pid_ino(t, 64) + fd)
    if name == "ns" and len(rest) == 2:
        if rest[1] not in NS_ENTRIES:
            raise Errno(ENOENT)
        return ProcNode(DT_LNK, "ns/" + rest[1], 0o777, t, whole, ino=_pid_ino(t, 60))
    raise Errno(ENOTDIR if kind != DT_DIR else ENOENT)


def _parts(g: str) -> Optional[list[str]]:
    if g == "/proc":
        return []
    if g.startswith("/proc/"):
        return [c for c in g[6:].split("/") if c]
    return None


# --- path walk ------------------------------------------------------------

def proc_lookup(done: list[str], c: str, last: bool, follow: bool) -> Union[list[str], str]:
    """path_walk's step from the /proc directory `done` (["proc", ...])
    into component c: the new canonical component list, or an absolute
    guest path to continue from (a cwd/root link being followed)."""
    node = resolve(done[1:] + [c])
    if node.kind == DT_LNK and (not last or follow):
        if node.what in _ROOT_LINKS:
            return ["proc"] + link_target(node).split("/")
        if node.what in ("cwd", "root"):
            return link_target(node)
        if not last:
            raise Errno(ENOTDIR)
    return done + [c]


def link_target(node: ProcNode) -> str:
    """readlink of a link node (proc_pid_readlink, proc_self_get_link...)."""
    cur = current()
    ns = current_ns()
    if node.what == "self":
        return str(task_tgid_nr_ns(cur, ns))
    if node.what == "thread-self":
        return f"{task_tgid_nr_ns(cur, ns)}/task/{task_pid_nr_ns(cur, ns)}"
    t = node.tsk
    assert t is not None
    if node.what == "exe":
        if t.mm is None:
            raise Errno(ENOENT)
        return t.mm.exe_path
    if node.what in ("cwd", "root"):
        if t.fs is None:
            raise Errno(ENOENT)
        return t.fs.cwd if node.what == "cwd" else t.fs.root
    if node.what == "fd/N":
        return file_name(fd_target(t, node.fd))
    if node.what.startswith("ns/"):
        tns = task_active_pid_ns(t) if node.what == "ns/pid" else \
            (t.pid_ns_for_children or task_active_pid_ns(t))
        if tns.level and tns.child_reaper is None:
            raise Errno(ENOENT)       # pidns_for_children_get: no init born there yet
        return f"pid:[{tns.ns_inum}]"
    raise Errno(EINVAL)


def fd_target(tsk: task_struct, fd: int) -> file:
    try:
        return tsk.files.fget(fd)
    except (Errno, AttributeError):
        raise Errno(ENOENT) from None


def file_name(f: file) -> str:
    """What /proc/<pid>/fd/N reads as (d_path): the path, or pipe:[ino]."""
    from .console import HostFdOps
    from .pipe import pipe_inode_info
    if isinstance(f.private, pipe_inode_info):
        return f"pipe:[{f.private.ino}]"
    if isinstance(f.private, ProcNsFile):
        return f"pid:[{f.private.ns.ns_inum}]"
    if isinstance(f.f_op, HostFdOps):
        try:
            return os.readlink(f"/proc/self/fd/{f.private}")
        except OSError:
            return f.path
    return f.path


# --- the VFS entry points -------------------------------------------------

def proc_readlink(g: str) -> Optional[bytes]:
    """readlink of a /proc path, None if g is not under /proc."""
    parts = _parts(g)
    if parts is None:
        return None
    node = resolve(parts)
    if node.kind != DT_LNK:
        raise Errno(EINVAL)
    return link_target(node).encode("utf-8", "surrogateescape")


def proc_stat(g: str, follow: bool) -> Optional[dict]:
    """stat of a /proc path (following a link at the end if `follow`),
    None if g is not under /proc."""
    parts = _parts(g)
    if parts is None:
        return None
    node = resolve(parts)
    if node.kind == DT_LNK and follow:
        if node.what == "exe":
            from .namei import lookup_stat
            return lookup_stat(-100, link_target(node))
        if node.what == "fd/N":
            f = fd_target(node.tsk, node.fd)      # type: ignore[arg-type]
            return f.f_op.stat(f)
        if node.what.startswith("ns/"):
            return {"mode": S_IFREG | 0o444, "ino": int(link_target(node)[5:-1]),
                    "nlink": 1, "dev": 4}
    st = {"dev": PROC_DEV, "ino": node.ino, "size": 0}
    if node.kind == DT_DIR:
        st.update(mode=S_IFDIR | node.mode, nlink=2)
    elif node.kind == DT_LNK:
        st.update(mode=S_IFLNK | node.mode, nlink=1)
    else:
        st.update(mode=S_IFREG | node.mode, nlink=1)
    return st


def proc_open(g: str, flags: int) -> Optional[file]:
    """open of a /proc path, None if g is not under /proc."""
    parts = _parts(g)
    if parts is None:
        return None
    node = resolve(parts)
    acc = flags & O_ACCMODE
    if flags & O_DIRECTORY and node.kind == DT_REG:
        raise Errno(ENOTDIR)
    if node.kind == DT_DIR:
        if acc != O_RDONLY:
            raise Errno(EISDIR)
        return file(ProcDirOps(), flags, node, path=g)
    if node.kind == DT_LNK:
        if node.what == "exe":
            from .open import do_filp_open
            return do_filp_open(-100, link_target(node), flags, 0)
        if node.what == "fd/N":
            return reopen(fd_target(node.tsk, node.fd), flags)   # type: ignore[arg-type]
        if node.what.startswith("ns/"):
            t = node.tsk
            ns = task_active_pid_ns(t) if node.what == "ns/pid" else \
                (t.pid_ns_for_children or task_active_pid_ns(t))   # type: ignore[union-attr]
            return file(ProcNsOps(), flags, ProcNsFile(ns), path=g)
        raise Errno(ENOENT)
    if acc != O_RDONLY and node.what.startswith("sys/"):
        raise Errno(EACCES)          # a read-only sysctl, even for root
    return file(ProcFileOps(), flags, ProcFile(node), path=g)


# --- generated files ---------------------------------------------------------

@dataclass(eq=False, slots=True)
class ProcFile:
    node: ProcNode
    buf: Optional[bytes] = None


@dataclass(eq=False, slots=True)
class ProcNsFile:
    ns: pid_namespace


def _alive(t: task_struct) -> None:
    """A process directory whose task was reaped reads as ESRCH."""
    if t.exit_state == EXIT_DEAD or state.K.tasks.get(t.pid) is not t:
        raise Errno(ESRCH)


def _remote(t: task_struct, start: int, end: int) -> bytes:
    """access_remote_vm: bytes [start, end) of t's memory ('' without one)."""
    if t.mm is None or end <= start:
        return b""
    from ..mm.uaccess import copy_from_user
    try:
        return copy_from_user(start, end - start, t.mm)
    except Errno:
        return b""


def show(node: ProcNode) -> bytes:
    """The contents of a regular /proc file now."""
    from . import proc_array, proc_misc, proc_task_mmu
    what = node.what
    if node.tsk is None:
        if what.startswith("sys/kernel/"):
            return (proc_misc.SYS_KERNEL[what[11:]]() + "\n").encode()
        if what == "mounts":
            return proc_misc.show_mounts()
        return proc_misc.ROOT_FILES[what]()
    t = node.tsk
    _alive(t)
    ns = current_ns()
    leader = t.group_leader if node.whole else t
    if what == "stat":
        return proc_array.proc_pid_stat(leader, ns, node.whole)
    if what == "status":
        return proc_array.proc_pid_status(leader, ns, node.whole)
    if what == "statm":
        return proc_array.proc_pid_statm(t)
    if what == "comm":
        return (t.comm + "\n").encode("utf-8", "surrogateescape")
    if what == "cmdline":
        mm = t.mm
        return _remote(t, mm.arg_start, mm.arg_end) if mm is not None else b""
    if what == "environ":
        mm = t.mm
        return _remote(t, mm.env_start, mm.env_end) if mm is not None else b""
    if what == "maps":
        return proc_task_mmu.proc_pid_maps(t.mm)
    if what == "smaps_rollup":
        return proc_task_mmu.proc_pid_smaps_rollup(t.mm)
    if what == "wchan":
        letter, _ = proc_array.task_state(t)
        return b"do_wait" if letter == "S" and t.signal is not None and \
            t.wait_on and t.signal.wait_chldexit in t.wait_on else \
            (b"0" if letter == "R" else b"schedule")
    if what == "children":
        kids = sorted(task_pid_nr_ns(c, ns) for c in t.children if task_pid_nr_ns(c, ns))
        return "".join(f"{k} " for k in kids).encode()
    if what == "mounts":
        return proc_misc.show_mounts()
    raise Errno(EINVAL)


class ProcFileOps(FileOps):
    def read(self, f: file, n: int) -> bytes:
        pf: ProcFile = f.private
        if f.f_pos == 0 or pf.buf is None:
            pf.buf = show(pf.node)
        data = pf.buf[f.f_pos:f.f_pos + n]
        f.f_pos += len(data)
        return data

    def pread(self, f: file, n: int, pos: int) -> bytes:
        return show(f.private.node)[pos:pos + n]

    def write(self, f: file, data: bytes) -> int:
        node = f.private.node
        if node.what != "comm":
            raise Errno(EINVAL)
        t = node.tsk
        _alive(t)
        # comm_write: only for a thread of the writer's own process; the
        # first 15 bytes, up to a NUL (a newline is kept).
        if t.signal is not current().signal:
            raise Errno(EINVAL)
        t.comm = data[:15].split(b"\0")[0].decode("utf-8", "surrogateescape")
        return len(data)

    def stat(self, f: file) -> dict:
        return proc_stat(f.path, False) or {}

    def lseek(self, f: file, off: int, whence: int) -> int:
        # seq_lseek: SEEK_SET and SEEK_CUR only.
        if whence == 0:
            pos = off
        elif whence == 1:
            pos = f.f_pos + off
        else:
            raise Errno(EINVAL)
        if pos < 0:
            raise Errno(EINVAL)
        f.f_pos = pos
        return pos


class ProcNsOps(FileOps):
    """An open /proc/PID/ns/pid: what setns takes."""

    def stat(self, f: file) -> dict:
        return {"mode": S_IFREG | 0o444, "ino": f.private.ns.ns_inum, "nlink": 1, "dev": 4}


# --- directories -----------------------------------------------------------

def readdir_entries(node: ProcNode) -> list[tuple[str, int, int]]:
    """Every entry of a /proc directory: (name, ino, d_type), "." and ".." first."""
    ns = current_ns()
    out = [(".", node.ino, DT_DIR), ("..", PROC_ROOT_INO, DT_DIR)]
    if node.what == "root":
        from .proc_misc import ROOT_FILES
        out.append(("sys", 0x200, DT_DIR))
        out += [(name, 0x100 + i, DT_REG) for i, name in enumerate(sorted(ROOT_FILES))]
        out.append(("mounts", 0x1FF, DT_REG))
        out += [("self", 2, DT_LNK), ("thread-self", 3, DT_LNK)]
        for nr in sorted(ns.tasks):
            t = ns.tasks[nr]
            if t.thread_group_leader and t.exit_state != EXIT_DEAD:
                out.append((str(nr), _pid_ino(t, 0), DT_DIR))
        return out
    if node.what == "sys":
        return out + [("kernel", 0x201, DT_DIR)]
    if node.what == "sys/kernel":
        from .proc_misc import SYS_KERNEL
        return out + [(k, 0x210 + i, DT_REG) for i, k in enumerate(sorted(SYS_KERNEL))]
    t = node.tsk
    assert t is not None
    _alive(t)
    if node.what == "pid":
        table = TGID_ENTRIES if node.whole else TID_ENTRIES
        return out + [(name, _pid_ino(t, i + 1), kind)
                      for i, (name, (kind, _m)) in enumerate(table.items())]
    if node.what == "task":
        return out + [(str(task_pid_nr_ns(th, ns)), _pid_ino(th, 0), DT_DIR)
                      for th in t.signal.threads if th.exit_state != EXIT_DEAD]
    if node.what == "fd":
        if t.files is None:
            return out
        return out + [(str(i), _pid_ino(t, 64) + i, DT_LNK)
                      for i, fl in enumerate(t.files.fd) if fl is not None]
    if node.what == "ns":
        return out + [(n, _pid_ino(t, 60), DT_LNK) for n in NS_ENTRIES]
    raise Errno(ENOTDIR)


class ProcDirOps(FileOps):
    """An open /proc directory.  readdir(f) lists it now; f_pos counts
    the entries already returned (getdents goes on from there)."""

    def readdir(self, f: file) -> list[tuple[str, int, int]]:
        return readdir_entries(f.private)

    def read(self, f: file, n: int) -> bytes:
        raise Errno(EISDIR)

    def stat(self, f: file) -> dict:
        return proc_stat(f.path, False) or {}

    def lseek(self, f: file, off: int, whence: int) -> int:
        if whence != 0 or off < 0:
            raise Errno(EINVAL)
        f.f_pos = off
        return off


def reopen(f: file, flags: int) -> file:
    from .console import HostFdOps, HostReopenOps
    from .open import do_filp_open
    from .pipe import PipeReadOps, PipeWriteOps, pipe_inode_info
    acc = flags & O_ACCMODE
    if isinstance(f.private, pipe_inode_info):
        # fifo_open: each end opened adds a reader or a writer.
        pipe = f.private
        if acc == O_RDONLY:
            pipe.readers += 1
            return file(PipeReadOps(), flags, pipe, path=f.path)
        if acc == O_WRONLY:
            pipe.writers += 1
            return file(PipeWriteOps(), flags, pipe, path=f.path)
        raise Errno(ENXIO)   # O_RDWR on one end object is not modelled
    if isinstance(f.f_op, HostFdOps):
        host_acc = {O_RDONLY: os.O_RDONLY, O_WRONLY: os.O_WRONLY, O_RDWR: os.O_RDWR}.get(acc)
        if host_acc is None:
            raise Errno(EINVAL)
        extra = os.O_APPEND if flags & O_APPEND else 0
        try:
            hfd = os.open(f"/proc/self/fd/{f.private}", host_acc | extra | os.O_CLOEXEC)
        except OSError as e:
            from .hosterr import host_errno
            raise host_errno(e) from None
        return file(HostReopenOps(), flags, hfd, path=f.path)
    if f.path.startswith("/"):
        return do_filp_open(-100, f.path, flags, 0)
    raise Errno(ENXIO)
