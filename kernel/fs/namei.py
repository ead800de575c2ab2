"""Path lookup.  The guest sees the host's files read-only under the root
(--root, default /); its writes go to an in-memory overlay and never reach
the host.  Lookup resolves one component at a time inside the root, as
chroot does: `..` stops at the root and symlink targets are read relative
to it, so no path, `..` or symlink leads outside."""
from __future__ import annotations

import os
import stat

from .. import state
from ..panic import Errno
from ..percpu import current
from ..uapi import AT_FDCWD, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, S_IFDIR, S_IFLNK
from .hosterr import host_errno
from .overlay import (  # noqa: F401  (Overlay, OverlayNode, overlay_room: re-exported)
    Overlay, OverlayNode, lower_path, ovl_stat, overlay, overlay_room,
)
from .proc import proc_lookup, proc_stat

PATH_MAX, NAME_MAX = 4096, 255


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


def path_walk(base: str, path: str, follow: bool) -> str:
    """Resolve `path` from the canonical guest directory `base` one
    component at a time, as link_path_walk does with LOOKUP_IN_ROOT (or
    under chroot): `..` at the root stays at the root, an absolute
    symlink target starts again at the root, and more than MAXSYMLINKS
    links is ELOOP.  Overlay files are regular files; a missing component
    is kept as a name, so the operation on the result reports ENOENT."""
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
        if len(c) > NAME_MAX:
            raise Errno(ENAMETOOLONG)
        g = "/" + "/".join(done + [c])
        node = ov.files.get(g)
        if node is not None:
            kind = node.kind()
            if kind == S_IFLNK and (todo or follow):
                links += 1
                if links > MAXSYMLINKS:
                    raise Errno(ELOOP)
                target = node.target.decode("utf-8", "surrogateescape")
                if target.startswith("/"):
                    done = []
                    missing.clear()
                todo.extend(reversed([t for t in target.split("/") if t and t != "."]))
                continue
            if todo and kind != S_IFDIR:
                raise Errno(ENOTDIR)
            done.append(c)
            continue
        if not todo and not follow:
            done.append(c)
            continue
        hp = lower_path(g)
        if hp is None:
            if todo:
                raise Errno(ENOENT)
            done.append(c)
            continue
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
    """The host path beneath a canonical guest path (from guest_abspath):
    ENOENT when the overlay hides it.  Every directory on it was resolved
    inside the root; as a second line of defence, a parent directory that
    is not inside the root (a host change since) makes the path missing."""
    hp = lower_path(gpath)
    if hp is None:
        raise Errno(ENOENT)
    root = state.K.opts.root
    if root in ("", "/"):
        return hp
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
    return ovl_stat(g)
