"""The page cache of overlay files (mm/filemap.c, mm/truncate.c): one frame
per (file, page index), shared by every mapping of that page, private or
shared, in every process.

Host files the guest executes or maps read-only have their page cache in
their Inode (kernel/fs/inode.py: the same contract, read-only).  A file of
the in-memory overlay (written by the guest, or a host file copied up when
opened for writing) gets an address_space here, per machine
(K.page_cache), as soon as it is mapped; the address_space stands in the
VMA as vm_file, with the Inode's interface (get/put/get_page/size).

Coherence with read() and write(): while a file has cached frames, they
are the truth for their pages -- a store through a MAP_SHARED mapping goes
straight into the frame.  read() first copies the frames back into the
file's bytes (filemap_sync); write() writes the bytes, then copies the
written pages into the frames (filemap_update).  So every reader sees
every writer, by mapping or by syscall, in any process, across fork.  When
the last VMA goes, the frames are written back and dropped.

Pages wholly past the end of the file are not in the cache: a fault there
is SIGBUS (BUS_ADRERR); the last page's bytes past EOF read as zero.
truncate_pagecache unmaps pages past a new size from every mapping.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emu.paging import PAGE_SIZE

from .. import state
from ..panic import BUG

if TYPE_CHECKING:
    from .page_alloc import FrameAllocator


class address_space:
    """The cached pages of one overlay file (node: its OverlayNode, whose
    `data` holds the bytes).  pages[pgoff] = pfn, one reference each;
    i_count counts the VMAs (and exe_files) that hold it."""

    def __init__(self, node: Any, path: str, alloc: "FrameAllocator") -> None:
        self.node = node
        self.path = path
        self.alloc: "FrameAllocator | None" = alloc
        self.pages: dict[int, int] = {}
        self.i_count = 0

    @property
    def size(self) -> int:
        return len(self.node.data)

    def get(self) -> "address_space":
        self.i_count += 1
        return self

    def put(self) -> None:
        """The last VMA is gone: write back, drop the frames, forget."""
        self.i_count -= 1
        if self.i_count < 0:
            raise BUG(f"address_space.put: {self.path} refcount underflow")
        if self.i_count == 0:
            self.writeback()
            self.drop_pages()
            state.K.page_cache.pop(id(self.node), None)

    def drop_pages(self) -> None:
        alloc = self.alloc
        assert alloc is not None
        for pfn in self.pages.values():
            alloc.put_page(pfn)
        self.pages.clear()

    def get_page(self, alloc: "FrameAllocator", pgoff: int) -> int:
        """The frame of page `pgoff`, read from the file's bytes on first
        use (zeros past EOF).  The cache holds one reference; the caller
        takes its own.  The caller checked pgoff is inside the file."""
        pfn = self.pages.get(pgoff)
        if pfn is None:
            pfn = alloc.alloc_frame()
            alloc.page_kind[pfn] = 0          # MM_FILEPAGES, as a host file's
            chunk = bytes(self.node.data[pgoff << 12:(pgoff + 1) << 12])
            base = pfn << 12
            mem = alloc.machine.mem
            mem[base:base + len(chunk)] = chunk
            if len(chunk) < PAGE_SIZE:
                mem[base + len(chunk):base + PAGE_SIZE] = bytes(PAGE_SIZE - len(chunk))
            self.pages[pgoff] = pfn
            state.K.vmstat.pgcache_read += 1
        return pfn

    def writeback(self) -> None:
        """Frames -> the file's bytes, for the pages inside the file."""
        data = self.node.data
        size = len(data)
        if not self.pages or not size:
            return
        mem = self.alloc.machine.mem    # type: ignore[union-attr]
        for pgoff, pfn in self.pages.items():
            start = pgoff << 12
            if start >= size:
                continue
            end = min(start + PAGE_SIZE, size)
            data[start:end] = mem[pfn << 12:(pfn << 12) + (end - start)]


def mapping_of(node: Any, path: str) -> address_space:
    """The address_space of an overlay file, created on first mmap."""
    K = state.K
    m = K.page_cache.get(id(node))
    if m is None:
        m = K.page_cache[id(node)] = address_space(node, path, K.alloc)
    return m


def filemap_sync(node: Any) -> None:
    """Before the file's bytes are read: bring back what mappings wrote."""
    m = state.K.page_cache.get(id(node))
    if m is not None:
        m.writeback()


def filemap_update(node: Any, start: int, end: int) -> None:
    """After the file's bytes [start, end) were written: the cached frames
    of those pages take the new bytes (every mapping sees them at once)."""
    m = state.K.page_cache.get(id(node))
    if m is None or not m.pages or end <= start:
        return
    data = node.data
    mem = m.alloc.machine.mem    # type: ignore[union-attr]
    for pgoff in range(start >> 12, ((end - 1) >> 12) + 1):
        pfn = m.pages.get(pgoff)
        if pfn is None:
            continue
        chunk = bytes(data[pgoff << 12:(pgoff + 1) << 12])
        base = pfn << 12
        mem[base:base + len(chunk)] = chunk
        if len(chunk) < PAGE_SIZE:
            mem[base + len(chunk):base + PAGE_SIZE] = bytes(PAGE_SIZE - len(chunk))


def truncate_pagecache(node: Any, newsize: int) -> None:
    """The file is now `newsize` bytes (the caller resized node.data after
    filemap_sync): pages wholly past it leave every mapping (a later
    access is SIGBUS) and the cache; the last page's tail is zeroed."""
    K = state.K
    m = K.page_cache.get(id(node))
    if m is None:
        return
    from .memory import zap_page_range
    first_gone = (newsize + PAGE_SIZE - 1) >> 12
    for mm in {id(t.mm): t.mm for t in K.tasks.values() if t.mm is not None}.values():
        zapped = False
        for vma in mm.vmas:
            if vma.vm_file is not m:
                continue
            npages = (vma.vm_end - vma.vm_start) >> 12
            lo = max(first_gone - vma.vm_pgoff, 0)
            if lo < npages:
                # Private CoW copies past EOF go too, as unmap_mapping_range
                # with even_cows does for a truncation.
                zap_page_range(mm, vma.vm_start + (lo << 12), vma.vm_end)
                zapped = True
        if zapped:
            mm.flush_tlb()
    alloc = m.alloc
    assert alloc is not None
    for pgoff in [p for p in m.pages if p >= first_gone]:
        alloc.put_page(m.pages.pop(pgoff))
    tail = newsize & (PAGE_SIZE - 1)
    pfn = m.pages.get(newsize >> 12)
    if tail and pfn is not None:
        base = pfn << 12
        alloc.machine.mem[base + tail:base + PAGE_SIZE] = bytes(PAGE_SIZE - tail)


def nr_pagecache(K: Any) -> int:
    """Frames held by page caches (overlay files and host inodes)."""
    n = sum(len(m.pages) for m in K.page_cache.values())
    from ..fs.inode import cached_inodes
    return n + sum(len(i.pages) for i in cached_inodes(K))


def shrink_page_cache(K: Any) -> int:
    """Memory is short (before the OOM killer chooses a victim): drop the
    warm list of recently exec'd programs, then every page-cache frame
    only its cache holds (page_ref 1: no PTE maps it).  Host files'
    frames are clean; an overlay file's are written back first, so none
    is lost.  Returns the frames freed."""
    from ..fs.inode import cached_inodes, drop_caches
    alloc = K.alloc
    before = len(alloc.free_list)
    drop_caches()
    spaces: list = [*cached_inodes(K), *K.page_cache.values()]
    for m in spaces:
        if hasattr(m, "writeback"):
            m.writeback()
        for pgoff, pfn in list(m.pages.items()):
            if alloc.page_ref[pfn] == 1:
                del m.pages[pgoff]
                alloc.put_page(pfn)
    freed = len(alloc.free_list) - before
    K.vmstat.pgcache_dropped += freed
    return freed
