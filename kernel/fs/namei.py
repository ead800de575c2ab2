"""Path lookup.  The guest sees the host's files read-only under the root
(--root, default /); its writes go to an in-memory overlay and never reach
the host.  Lookup is lexical for `..` and never leaves the root: a host
path that resolves outside it is treated as missing."""
from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field

from .. import state
from ..panic import Errno
from ..percpu import current
from ..uapi import AT_FDCWD, ENOENT, ENOTDIR, S_IFREG
from .console import stat_from_host
from .hosterr import host_errno


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


def guest_abspath(dfd: int, path: str) -> str:
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
    return posixpath.normpath(posixpath.join(base, path)).replace("//", "/")


def host_path(gpath: str) -> str:
    """The host path for a guest absolute path, confined to the root."""
    root = state.K.opts.root
    if root in ("", "/"):
        return gpath
    hp = os.path.join(root, gpath.lstrip("/"))
    real = os.path.realpath(hp)
    rroot = os.path.realpath(root)
    if real != rroot and not real.startswith(rroot + os.sep):
        raise Errno(ENOENT)
    return hp


def lookup_stat(dfd: int, path: str, follow: bool = True) -> dict:
    g = guest_abspath(dfd, path)
    ov = overlay()
    node = ov.files.get(g)
    if node is not None:
        return {"mode": node.mode, "ino": node.ino, "size": len(node.data), "nlink": 1,
                "dev": 0x2A, "mtime": node.mtime, "ctime": node.mtime, "atime": node.mtime}
    if g in ov.deleted:
        raise Errno(ENOENT)
    try:
        st = os.stat(host_path(g)) if follow else os.lstat(host_path(g))
    except OSError as e:
        raise host_errno(e) from None
    return stat_from_host(st)

