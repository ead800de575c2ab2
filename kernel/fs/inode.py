"""Inodes of host files the guest executes or maps, with their page cache:
frames holding the file's pages, shared read-only by every mapping and
copied on a private write.  i_count counts VMAs, open files and the
recently-exec'd list; the last put drops the cached frames."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .. import state
from ..panic import BUG

if TYPE_CHECKING:
    from ..mm.page_alloc import FrameAllocator
    from ..state import KernelState

# The cache itself belongs to the machine (STYLE rule 16): K.icache maps a
# host file's identity to its Inode, K.icache_recent is the warm list of
# exec'd binaries (text frames + translations).
RECENT_MAX = 8


class Inode:
    def __init__(self, key: tuple, path: str, data: bytes) -> None:
        self.key = key
        self.path = path
        self.data = data
        self.size = len(data)
        self.pages: dict[int, int] = {}
        self.i_count = 0
        self.alloc: "FrameAllocator | None" = None

    def get(self) -> "Inode":
        self.i_count += 1
        return self

    def put(self) -> None:
        self.i_count -= 1
        if self.i_count < 0:
            raise BUG(f"Inode.put: {self.path} refcount underflow")
        if self.i_count == 0:
            self.drop_pages()
            state.K.icache.pop(self.key, None)

    def drop_pages(self) -> None:
        for pfn in self.pages.values():
            self.alloc.put_page(pfn)   # type: ignore[union-attr]
        self.pages.clear()

    def get_page(self, alloc: "FrameAllocator", pgoff: int) -> int:
        """The page-cache frame for page `pgoff` (zero past end of file).
        The cache holds one reference; the caller takes its own."""
        pfn = self.pages.get(pgoff)
        if pfn is None:
            self.alloc = alloc
            pfn = alloc.alloc_frame()
            alloc.page_kind[pfn] = 0          # MM_FILEPAGES
            chunk = self.data[pgoff << 12:(pgoff + 1) << 12]
            mem = alloc.machine.mem
            base = pfn << 12
            mem[base:base + len(chunk)] = chunk
            if len(chunk) < 4096:
                mem[base + len(chunk):base + 4096] = bytes(4096 - len(chunk))
            self.pages[pgoff] = pfn
            state.K.vmstat.pgcache_read += 1
        return pfn


def iget_host(host_path: str) -> Inode:
    """The inode for a host file, read once and cached while in use.
    Raises OSError."""
    with open(host_path, "rb") as fh:
        st = os.fstat(fh.fileno())
        key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        icache = state.K.icache
        ino = icache.get(key)
        if ino is None:
            ino = Inode(key, host_path, fh.read())
            icache[key] = ino
    return ino


def cached_inodes(K: "KernelState") -> list[Inode]:
    """The host inodes of machine K (their page caches)."""
    return list(K.icache.values())


def keep_warm(ino: Inode) -> None:
    """Hold a reference on a recently exec'd binary so the next exec of it
    finds its pages (and the CPU its translated code) still there."""
    recent = state.K.icache_recent
    if ino in recent:
        recent.remove(ino)
        recent.append(ino)
        return
    recent.append(ino.get())
    if len(recent) > RECENT_MAX:
        recent.pop(0).put()


def drop_caches() -> None:
    """At halt: release the warm list so every frame returns to the pool."""
    recent = state.K.icache_recent
    while recent:
        recent.pop().put()
