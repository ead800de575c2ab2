"""The guest's writable layer over the read-only host root, as overlayfs
(fs/overlayfs) layers an upper directory over a lower one, with the upper
kept in memory like a tmpfs (mm/shmem.c).

Overlay.files maps a canonical guest path to the OverlayNode that stands
there now (regular files, directories, symlinks, FIFOs); Overlay.deleted
holds whiteouts, guest paths whose host entry was removed.  A path in
neither is the host's: `lower_path` finds its host path under the root.

- A directory node merges the host directory `lower` beneath it (its
  copy-up, or the directory it was renamed from: overlayfs's redirect),
  or none (made by the guest, or re-made after rmdir: opaque).
- A hard link is the same node under two paths (nlink counts them).
- Renaming a directory moves every path under it; a host directory is
  copied up first (metadata only, its entries stay the host's), so rename
  never fails with EXDEV.
- Device files, sockets and FIFOs of the host are never copied up with
  their contents: only regular files are (copy_up reads them once).
"""
from __future__ import annotations

import os
import stat as host_stat
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from .. import state
from ..panic import Errno
from ..uapi import ENOENT, ENOSPC, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG
from .console import stat_from_host
from .hosterr import host_errno

OVL_DEV = 0x2A          # st_dev of nodes the guest made
DT_UNKNOWN, DT_FIFO, DT_CHR, DT_DIR, DT_BLK, DT_REG, DT_LNK, DT_SOCK = 0, 1, 2, 4, 6, 8, 10, 12


@dataclass(eq=False, slots=True)
class OverlayNode:
    data: bytearray = field(default_factory=bytearray)
    mode: int = S_IFREG | 0o644
    ino: int = 0
    mtime: int = 0
    atime: int = 0
    ctime: int = 0
    uid: int = 0
    gid: int = 0
    nlink: int = 1              # paths naming this node (directories: 2 + subdirectories)
    lower: Optional[str] = None  # directories: the host directory merged beneath
    target: bytes = b""         # symlinks
    rdev: int = 0
    dev: int = OVL_DEV
    fifo: Any = None            # FIFOs: the pipe while some end is open (fs/pipe.py)

    def kind(self) -> int:
        return self.mode & S_IFMT


class Overlay:
    def __init__(self) -> None:
        self.files: dict[str, OverlayNode] = {}
        self.deleted: set[str] = set()
        self.next_ino = 1 << 40
        self.host_locks: dict = {}     # file identity -> fs/locks.py file_lock_context
        # /dev/shm is a tmpfs of the guest's own (shm_open, sem_open): empty
        # at boot, never showing the host's shared-memory files.
        from ..time.timekeeping import REALTIME_BASE_NS
        self.next_ino += 1
        self.files["/dev/shm"] = OverlayNode(mode=S_IFDIR | 0o1777, ino=self.next_ino, nlink=2,
                                             mtime=REALTIME_BASE_NS, atime=REALTIME_BASE_NS,
                                             ctime=REALTIME_BASE_NS)
        self.lock_waiters: dict = {}   # POSIX lock owner asleep in F_SETLKW -> its blocker


def overlay() -> Overlay:
    return state.K.overlay


def overlay_room() -> int:
    """Bytes the overlay may still grow by.  Like a tmpfs mount it holds at
    most half of RAM, so a guest cannot make the host allocate more than
    its bound (a write far past the end of a file would otherwise)."""
    ov = overlay()
    return state.K.opts.memory // 2 - sum(len(n.data) for n in ov.files.values())


def current_time() -> int:
    from ..time.timekeeping import ktime_get_real_ns
    return ktime_get_real_ns()


def parent_of(g: str) -> str:
    p = g.rsplit("/", 1)[0]
    return p or "/"


def _join(d: str, name: str) -> str:
    return d.rstrip("/") + "/" + name


def root_host() -> str:
    root = state.K.opts.root
    return "/" if root in ("", "/") else root.rstrip("/")


def lower_path(g: str) -> Optional[str]:
    """The host path beneath canonical guest path g, or None when the
    overlay hides it (a whiteout, or an ancestor that is opaque or is
    not a directory of the overlay's).  Existence is not checked."""
    ov = overlay()
    node = ov.files.get("/")
    cur: Optional[str] = node.lower if node is not None else root_host()
    p = ""
    for c in g.split("/"):
        if not c:
            continue
        p += "/" + c
        node = ov.files.get(p)
        if node is not None:
            cur = node.lower if node.kind() == S_IFDIR else None
        elif p in ov.deleted or cur is None:
            return None
        else:
            cur = _join(cur, c)
    return cur


def host_lstat(g: str) -> Optional[os.stat_result]:
    hp = lower_path(g)
    if hp is None:
        return None
    try:
        return os.lstat(hp)
    except OSError:
        return None


def node_stat(node: OverlayNode) -> dict:
    kind = node.kind()
    if kind == S_IFDIR:
        size, blocks = 4096, 8
    elif kind == S_IFLNK:
        size, blocks = len(node.target), 0
    else:
        size = len(node.data)
        blocks = (size + 4095) // 4096 * 8
    return {"mode": node.mode, "ino": node.ino, "size": size, "nlink": node.nlink,
            "dev": node.dev, "rdev": node.rdev, "uid": node.uid, "gid": node.gid,
            "blocks": blocks, "mtime": node.mtime, "ctime": node.ctime, "atime": node.atime}


def ovl_stat(g: str) -> dict:
    """stat of canonical guest path g (not following a final symlink)."""
    node = overlay().files.get(g)
    if node is not None:
        return node_stat(node)
    return stat_from_host(_lower_lstat(g)[1])


def _lower_lstat(g: str) -> tuple[str, os.stat_result]:
    """The host path beneath g and its lstat (ENOENT when hidden)."""
    hp = lower_path(g)
    if hp is None:
        raise Errno(ENOENT)
    try:
        return hp, os.lstat(hp)
    except OSError as e:
        raise host_errno(e) from None


def new_node(mode: int, **kw: Any) -> OverlayNode:
    """A node the guest makes now: owned by its fs ids, timestamps now."""
    ov = overlay()
    ov.next_ino += 1
    now = current_time()
    from ..cred import current_cred
    c = current_cred()
    node = OverlayNode(mode=mode, ino=ov.next_ino, mtime=now, atime=now, ctime=now,
                       uid=c.fsuid, gid=c.fsgid, **kw)
    if mode & S_IFMT == S_IFDIR:
        node.nlink = 2
    return node


def install(g: str, node: OverlayNode) -> None:
    """Put node at g (which holds nothing visible now) and touch the parent."""
    ov = overlay()
    ov.files[g] = node
    ov.deleted.discard(g)
    _link_parent(g, node.kind(), +1)


def _link_parent(g: str, kind: int, delta: int) -> None:
    """An entry of type `kind` came (+1) or went (-1) at g: the parent's
    times change, and its link count with a subdirectory."""
    if g == "/":
        return
    pnode = copy_up(parent_of(g))
    pnode.mtime = pnode.ctime = current_time()
    if kind == S_IFDIR:
        pnode.nlink += delta


def copy_up(g: str) -> OverlayNode:
    """The overlay node at g, copying the host's entry up first: a
    directory as metadata (its entries stay below), a symlink with its
    target, a regular file with its bytes (ENOSPC past the overlay's
    room), anything else (devices, FIFOs, sockets) as metadata only."""
    ov = overlay()
    node = ov.files.get(g)
    if node is not None:
        return node
    hp, st = _lower_lstat(g)
    node = OverlayNode(mode=st.st_mode, ino=st.st_ino, dev=st.st_dev, uid=st.st_uid,
                       gid=st.st_gid, mtime=st.st_mtime_ns, atime=st.st_atime_ns,
                       ctime=st.st_ctime_ns, rdev=st.st_rdev)
    if host_stat.S_ISDIR(st.st_mode):
        node.lower = hp
        node.nlink = st.st_nlink
    elif host_stat.S_ISLNK(st.st_mode):
        node.target = os.fsencode(os.readlink(hp))
    elif host_stat.S_ISREG(st.st_mode):
        if st.st_size > overlay_room():
            raise Errno(ENOSPC)
        try:
            with open(hp, "rb") as fh:
                node.data = bytearray(fh.read())
        except OSError as e:
            raise host_errno(e) from None
    ov.files[g] = node
    return node


def remove(g: str) -> Optional[OverlayNode]:
    """Unlink the entry at g: drop the overlay's node and whiteout the
    host's.  Returns the node that was there (None for a host entry)."""
    ov = overlay()
    node = ov.files.pop(g, None)
    if node is None:
        st = host_lstat(g)
        if st is None:
            raise Errno(ENOENT)
        kind = st.st_mode & S_IFMT
    else:
        kind = node.kind()
        node.nlink = 0 if kind == S_IFDIR else node.nlink - 1
        node.ctime = current_time()
    _link_parent(g, kind, -1)
    ov.deleted.add(g)
    if kind == S_IFDIR:
        sub = g.rstrip("/") + "/"
        for k in [k for k in ov.deleted if k.startswith(sub)]:
            ov.deleted.discard(k)
    return node


def move_tree(old: str, new: str) -> None:
    """Move the entry at old, and everything under it, to new (which is
    free).  A host directory is copied up first so its entries follow it."""
    ov = overlay()
    node = copy_up(old)
    oldp, newp = old.rstrip("/") + "/", new.rstrip("/") + "/"
    for k in [k for k in ov.deleted if k.startswith(newp)]:
        ov.deleted.discard(k)
    moved = [k for k in ov.files if k.startswith(oldp)]
    for k in moved:
        ov.files[newp + k[len(oldp):]] = ov.files.pop(k)
    for k in [k for k in ov.deleted if k.startswith(oldp)]:
        ov.deleted.discard(k)
        ov.deleted.add(newp + k[len(oldp):])
    del ov.files[old]
    _link_parent(old, node.kind(), -1)
    ov.deleted.add(old)
    install(new, node)
    node.ctime = current_time()


def dtype_of(mode: int) -> int:
    return (mode & S_IFMT) >> 12


def list_dir(g: str) -> list[tuple[str, int, int]]:
    """(name, ino, d_type) of each entry of directory g, "." and ".."
    first: the host's entries beneath (minus whiteouts and names the
    overlay covers) in the host's order, then the overlay's own."""
    ov = overlay()
    here = ovl_stat(g)
    up = ovl_stat(parent_of(g))
    out = [(".", here["ino"], DT_DIR), ("..", up["ino"], DT_DIR)]
    node = ov.files.get(g)
    hp = node.lower if node is not None else lower_path(g)
    pre = g.rstrip("/") + "/"
    if hp is not None:
        try:
            with os.scandir(hp) as it:
                ents = list(it)
        except OSError:
            ents = []
        for e in ents:
            p = pre + e.name
            if p in ov.deleted or p in ov.files:
                continue
            try:
                mode = e.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            out.append((e.name, e.inode(), dtype_of(mode)))
    for k, n in ov.files.items():
        if k.startswith(pre) and "/" not in k[len(pre):] and k != "/":
            out.append((k[len(pre):], n.ino, dtype_of(n.mode)))
    return out


def children(g: str) -> Iterator[str]:
    """Names in directory g besides "." and ".." (for rmdir's ENOTEMPTY)."""
    for name, _ino, _t in list_dir(g)[2:]:
        yield name


def is_special_host(st: os.stat_result) -> bool:
    """Host files whose contents are never copied: devices, FIFOs, sockets."""
    return not (host_stat.S_ISREG(st.st_mode) or host_stat.S_ISDIR(st.st_mode)
                or host_stat.S_ISLNK(st.st_mode))

