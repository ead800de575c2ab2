"""Path lookup.  The guest sees the host's files read-only under the root
(--root, default /); its writes go to an in-memory overlay and never reach
the host.  Lookup resolves one component at a time inside the root, as
chroot does: `..` stops at the root and symlink targets are read relative
to it, so no path, `..` or symlink leads outside."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from .. import state
from ..panic import Errno
from ..percpu import current
from ..uapi import AT_FDCWD, ELOOP, ENOENT, ENOTDIR, S_IFREG
from .console import stat_from_host
from .hosterr import host_errno
from .proc import proc_lookup, proc_stat


@dataclass(eq=False, slots=True)
class OverlayNode:
    data: bytearray = field(default_factory=bytearray)
    mode: int = S_IFREG | 0o644
    ino: int = 0
    mtime: int = 0


class Overlay:
    def __init__(self) -> None:
        self.files: dict[str, OverlayNode] = {}
        self.deleted: set[str] = set()
        self.next_ino = 1 << 40


def overlay() -> Overlay:
    return state.K.overlay


def overlay_room() -> int:
    """Bytes the overlay may still grow by.  Like a tmpfs mount it holds at
    most half of RAM, so a guest cannot make the host allocate more than
    its bound (a write far past the end of a file would otherwise)."""
    ov = overlay()
    return state.K.opts.memory // 2 - sum(len(n.data) for n in ov.files.values())


MAXSYMLINKS = 40


def guest_abspath(dfd: int, path: str, follow: bool = True) -> str:
    """The canonical guest path `path` names: symlinks resolved (the last
    component only if `follow`), `.` and `..` applied, never leaving the
    root.  Relative paths start at the cwd or at directory fd `dfd`."""
    tsk = current()
    if path.startswith("/"):
        base = "/"
    elif dfd == AT_FDCWD:
        base = tsk.fs.cwd
    else:
        f = tsk.files.fget(dfd)
        base = f.path if f.path.startswith("/") else None  # type: ignore[assignment]
        if base is None:
            raise Errno(ENOTDIR)
    return path_walk(base, path, follow)


def _host(root: str, gpath: str) -> str:
    return gpath if root in ("", "/") else root.rstrip("/") + gpath


def path_walk(base: str, path: str, follow: bool) -> str:
    """Resolve `path` from the canonical guest directory `base` one
    component at a time, as link_path_walk does with LOOKUP_IN_ROOT (or
    under chroot): `..` at the root stays at the root, an absolute
    symlink target starts again at the root, and more than MAXSYMLINKS
    links is ELOOP.  Overlay files are regular files; a missing component
    is kept as a name, so the operation on the result reports ENOENT."""
    root = state.K.opts.root
    ov = overlay()
    done = [] if path.startswith("/") else [c for c in base.split("/") if c]
    todo = [c for c in path.split("/") if c and c != "."]
    todo.reverse()                      # a stack: the next component last
    missing: set[int] = set()           # indices in `done` that do not exist
    links = 0
    while todo:
        c = todo.pop()
        if c == "..":
            if done:
                if len(done) - 1 in missing:
                    raise Errno(ENOENT)
                done.pop()
            continue
        if done and done[0] == "proc":
            # Everything below /proc is the guest's own (fs/proc.py).
            step = proc_lookup(done, c, not todo, follow)
            if isinstance(step, str):        # a cwd/root link, followed
                links += 1
                if links > MAXSYMLINKS:
                    raise Errno(ELOOP)
                done = []
                missing.clear()
                todo.extend(reversed([t for t in step.split("/") if t and t != "."]))
            else:
                done = step
            continue
        if not done and c == "proc":
            done = ["proc"]
            continue
        g = "/" + "/".join(done + [c])
        if g in ov.files:
            if todo:
                raise Errno(ENOTDIR)
            done.append(c)
            continue
        if g in ov.deleted:
            if todo:
                raise Errno(ENOENT)
            done.append(c)
            continue
        if not todo and not follow:
            done.append(c)
            continue
        hp = _host(root, g)
        try:
            st = os.lstat(hp)
        except OSError:
            missing.add(len(done))
            done.append(c)
            continue
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > MAXSYMLINKS:
                raise Errno(ELOOP)
            try:
                target = os.readlink(hp)
            except OSError as e:
                raise host_errno(e) from None
            if target.startswith("/"):
                done = []
                missing.clear()
            todo.extend(reversed([t for t in target.split("/") if t and t != "."]))
            continue
        if todo and not stat.S_ISDIR(st.st_mode):
            raise Errno(ENOTDIR)
        done.append(c)
    return "/" + "/".join(done)


def host_path(gpath: str) -> str:
    """The host path for a canonical guest path (from guest_abspath).
    Every directory on it was resolved inside the root; as a second line
    of defence, a parent directory that is not inside the root (a host
    change since) makes the path missing."""
    root = state.K.opts.root
    if root in ("", "/"):
        return gpath
    hp = _host(root, gpath)
    real = os.path.realpath(os.path.dirname(hp))
    rroot = os.path.realpath(root)
    if real != rroot and not real.startswith(rroot.rstrip(os.sep) + os.sep):
        raise Errno(ENOENT)
    return hp


def lookup_stat(dfd: int, path: str, follow: bool = True) -> dict:
    g = guest_abspath(dfd, path, follow)
    st = proc_stat(g, follow)
    if st is not None:
        return st
    ov = overlay()
    node = ov.files.get(g)
    if node is not None:
        return {"mode": node.mode, "ino": node.ino, "size": len(node.data), "nlink": 1,
                "dev": 0x2A, "mtime": node.mtime, "ctime": node.mtime, "atime": node.mtime}
    if g in ov.deleted:
        raise Errno(ENOENT)
    try:
        st = os.lstat(host_path(g))     # g is resolved: nothing left to follow
    except OSError as e:
        raise host_errno(e) from None
    return stat_from_host(st)

