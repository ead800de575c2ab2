"""--check's audit of memory (see kernel/check.py for the invariants and
the report): frame refcounts and mapcounts against the PTEs of every live
address space and the other holders, free versus held, CoW pages
read-only, PTEs inside their VMAs.  A mixin of the Checker: it uses the
Checker's fail(), its machine view (ram, q, first, nfr) and its caches.

Cost is proportional to what is in use: only present entries of the live
tables are visited, an address space whose tables did not change since
the last audit is not walked again, and the free list is scanned only
when the counts do not add up (or at halt).
"""
from __future__ import annotations

from collections import Counter
from itertools import compress
from operator import attrgetter, itemgetter
from typing import Optional

from emu.paging import PTE_PFN_MASK, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW

from ..task import task_struct
from .memory import VM_SHARED, VM_WRITE, _PAGE_PROTNONE
from .page_alloc import MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES
from .pgtable import KERNEL_SLOT

_MAPPED = _PAGE_PRESENT | _PAGE_PROTNONE
_R512 = range(512)
_R_USER = range(KERNEL_SLOT)
_VMA_KEY = attrgetter("vm_start", "vm_end", "vm_flags", "vm_file", "shm")


def _who(t: Optional[task_struct]) -> str:
    return "no task" if t is None else f"pid {t.pid} ({t.comm})"


class FrameAudit:
    """The frame half of kernel/check.py's Checker."""

    def _table(self, pfn: int) -> list:
        """[snapshot, [(slot, entry) for the non-zero entries], leaf
        analysis] of one table frame, re-parsed only if its bytes changed
        since the last audit."""
        pa = pfn << 12
        snap = self.ram[pa:pa + 4096]
        c = self._tcache.get(pfn)
        if c is None or c[0] != snap:
            row = self.q[pfn << 9:(pfn << 9) + 512].tolist()
            c = [snap, [(s, row[s]) for s in compress(_R512, row)], None]
        self._tseen[pfn] = c
        return c

    def walk(self, pt) -> tuple[list[int], list[tuple[int, list]]]:
        """The table frames of one address space, and (va of the block,
        cache entry) for each last-level table.  Only present entries are
        followed; a malformed upper entry is a violation."""
        first, nfr = self.first, self.nfr
        tables = [pt.pgd]
        leaf_tables: list[tuple[int, list]] = []

        def down(e: int, va: int, level: str) -> int:
            pfn = (e & PTE_PFN_MASK) >> 12
            if not e & _PAGE_PRESENT or e & _PAGE_PSE or not first <= pfn < nfr:
                self.fail("pte-vma", f"bad {level} entry {e:#x} for va {va:#x}",
                          self._mm_task(pt))
            tables.append(pfn)
            return pfn

        for s4, e4 in self._table(pt.pgd)[1]:
            if s4 >= KERNEL_SLOT:
                continue
            v4 = s4 << 39
            for s3, e3 in self._table(down(e4, v4, "PML4"))[1]:
                v3 = v4 | s3 << 30
                for s2, e2 in self._table(down(e3, v3, "PDPT"))[1]:
                    v2 = v3 | s2 << 21
                    leaf_tables.append((v2, self._table(down(e2, v2, "PD"))))
        return tables, leaf_tables

    def leaves(self, pt) -> list[tuple[int, int]]:
        """(va, pte) of every non-zero leaf entry (for reports)."""
        _tables, lts = self.walk(pt)
        return [(va | s << 12, e) for va, c in lts for s, e in c[1]]

    def _analyse(self, mm, pt, va0: int, ents: list) -> tuple[list, list]:
        """One last-level table: the frames its PTEs map (not the zero
        page) and the (pfn, va) of writable PTEs of private mappings.
        Checks each PTE against its VMA."""
        zero, first, nfr = self.K.alloc.zero_pfn, self.first, self.nfr
        pfns: list[int] = []
        writable: list[tuple[int, int]] = []
        vma = None
        for s, pte in ents:
            va = va0 | s << 12
            if not pte & _MAPPED:
                self.fail("pte-vma", f"non-present PTE {pte:#x} left at {va:#x}",
                          self._mm_task(pt))
            if vma is None or not vma.vm_start <= va < vma.vm_end:
                vma = mm.find_vma(va) if mm is not None else None
                if vma is None:
                    self.fail("pte-vma", f"PTE {pte:#x} at {va:#x} is outside every VMA",
                              self._mm_task(pt))
            pfn = (pte & PTE_PFN_MASK) >> 12
            w = pte & _PAGE_RW
            if w and not vma.vm_flags & VM_WRITE:
                self.fail("pte-vma", f"PTE at {va:#x} is writable in a read-only VMA",
                          self._mm_task(pt))
            if pfn == zero:
                if w:
                    self.fail("cow-writable", f"the zero page is writable at {va:#x}",
                              self._mm_task(pt))
                continue
            if not first <= pfn < nfr:
                self.fail("pte-vma", f"PTE at {va:#x} maps frame {pfn}, not a user frame",
                          self._mm_task(pt))
            pfns.append(pfn)
            if w and vma.shm is None and not vma.vm_flags & VM_SHARED:
                writable.append((pfn, va))
        return pfns, writable

    def _mm_task(self, pt) -> Optional[task_struct]:
        for t in self.K.tasks.values():
            if t.mm is not None and t.mm.pt is pt:
                return t
        return None

    def live_mms(self) -> list:
        """Every address space a task or a CPU still holds, once per
        holder (a CPU holds the mm a task left while running on it)."""
        held = [t.mm for t in self.K.tasks.values() if t.mm is not None]
        for cpu in self.K.cpus:
            held += cpu.deferred_mm
        held += self.K.oom_reaper_list     # queued for the OOM reaper, which holds them
        return held

    def _mm_summary(self, pt, mm) -> tuple:
        """What one address space contributes: (tables, mapped frames,
        writable private (pfn, va), inodes it holds, shmem objects it
        holds).  Reused from the last audit while its VMA layout and the
        bytes of every one of its tables are unchanged (one copy of all
        its tables, compared at once); otherwise walked again, each
        unchanged last-level table's analysis reused."""
        vt = (mm.exe_file, *map(_VMA_KEY, mm.vmas)) if mm is not None else None
        ram = self.ram
        prev = self._mmcache.get(id(pt))
        if prev is not None and prev[0] == vt:
            if prev[2][0] == pt.pgd and b"".join(map(ram.__getitem__, prev[5])) == prev[6]:
                self._mmseen[id(pt)] = prev
                self._tseen.update(zip(prev[2], prev[3]))
                return prev[4]
            token = prev[1]
        else:
            token = object()     # a new VMA layout: every table is analysed again
        tables, lts = self.walk(pt)
        mapped: list[int] = []
        writable: list[tuple[int, int]] = []
        for va0, c in lts:
            a = c[2]
            if a is None or a[0] is not token:
                a = c[2] = (token, *self._analyse(mm, pt, va0, c[1]))
            mapped += a[1]
            writable += a[2]
        inos: list = []
        shms: list = []
        if mm is not None:
            if mm.exe_file is not None:
                inos.append(mm.exe_file)
            for vma in mm.vmas:
                if vma.vm_file is not None:
                    inos.append(vma.vm_file)
                if vma.shm is not None:
                    shms.append(vma.shm)
        summary = (tables, mapped, writable, inos, shms)
        slices = [slice(p << 12, (p + 1) << 12) for p in tables]
        self._mmseen[id(pt)] = (vt, token, tables, [self._tseen[p] for p in tables], summary,
                                slices, b"".join(map(ram.__getitem__, slices)))
        return summary

    def check_rss(self, pt, mm, mapped: list[int]) -> None:
        """The per-mm RSS counters (add_mm_counter) against the frames the
        tables map: the total at every audit, kind by kind when it is off."""
        if len(mapped) == mm.get_mm_rss():
            return              # the kinds are compared when the total is off
        kinds = bytes(map(self.K.alloc.page_kind.__getitem__, mapped))
        for member in (MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES):
            n = kinds.count(member)
            if mm.rss_stat[member] != n:
                self.fail("rss-counter", f"rss_stat[{member}] is {mm.rss_stat[member]} but "
                          f"the tables map {n} such frames", self._mm_task(pt))

    def check_frames(self, full: bool = False) -> None:
        K = self.K
        alloc = K.alloc
        held = self.live_mms()
        users = Counter(map(id, held))
        spaces = list({id(mm): mm for mm in held}.values())
        refs_l: list[int] = [alloc.zero_pfn]   # one entry per reference expected
        mapped: list[int] = []                 # one entry per PTE
        writable: list[tuple] = []             # (pfn, va, mm) writable private PTEs
        wpfns: list[int] = []
        inos: list = []
        shms: list = []
        pts = [(mm.pt, mm) for mm in spaces]
        if K.swapper_pt is not None and K.swapper_pt.pgd:
            pts.append((K.swapper_pt, None))
        self._tseen = {}
        self._mmseen = {}
        for pt, mm in pts:
            if mm is not None:
                if mm.mm_users != users[id(mm)]:
                    self.fail("mm-users", f"mm_users {mm.mm_users} but {users[id(mm)]} tasks "
                              "and CPUs hold the mm", self._mm_task(pt))
                if not pt.pgd:
                    self.fail("mm-users", "a live mm whose page tables were freed",
                              self._mm_task(pt))
            tables, m, w, i, s = self._mm_summary(pt, mm)
            if mm is not None:
                self.check_rss(pt, mm, m)
            refs_l += tables
            mapped += m
            if w:
                writable.append((w, mm))
                wpfns += [pfn for pfn, _va in w]
            inos += i
            shms += s
        self._tcache = self._tseen
        self._mmcache = self._mmseen
        # Holders that are not PTEs: page cache, shmem objects.
        inos += K.icache_recent
        icount = Counter(map(id, inos))
        inodes = {id(i): i for i in inos}
        for ino in [*K.icache.values(), *K.page_cache.values()]:
            inodes[id(ino)] = ino     # host inodes and overlay files' address_spaces
        for key, ino in inodes.items():
            if ino.i_count != icount[key]:
                self.fail("inode-refcount", f"{ino.path}: i_count {ino.i_count} but "
                          f"{icount[key]} VMAs, exe_files and warm-list entries")
            refs_l += ino.pages.values()
        susers = Counter(map(id, shms))
        for shm in {id(s): s for s in shms}.values():
            if shm.users != susers[id(shm)]:
                self.fail("shm-refcount", f"shmem object users {shm.users} but "
                          f"{susers[id(shm)]} VMAs map it")
            refs_l += shm.pages.values()
        refs_l += mapped
        # Compare with the allocator's records, all at once first; the
        # expected counts are recounted only when some holder changed.
        last = self._expected
        if last is not None and last[0] == refs_l and last[1] == mapped:
            refs, mapc, get, exp_ref, exp_mc = last[2:]
        else:
            refs = Counter(refs_l)
            mapc = Counter(mapped)
            get = itemgetter(*refs)
            exp_ref, exp_mc = get(refs), get(mapc)
            self._expected = (refs_l, mapped, refs, mapc, get, exp_ref, exp_mc)
        page_ref, page_mc = alloc.page_ref, alloc.page_mapcount
        if get(page_ref) != exp_ref or get(page_mc) != exp_mc:
            for pfn, n in refs.items():
                if page_ref[pfn] != n:
                    self.fail("frame-refcount", f"frame {pfn} has page_ref {page_ref[pfn]} "
                              f"but {n} holders: {self.owners(pfn)}", self._frame_task(pfn))
                if page_mc[pfn] != mapc[pfn]:
                    self.fail("frame-mapcount", f"frame {pfn} has page_mapcount "
                              f"{page_mc[pfn]} but {mapc[pfn]} PTEs: {self.owners(pfn)}",
                              self._frame_task(pfn))
        if wpfns and (list(map(refs.__getitem__, wpfns)).count(1) != len(wpfns)
                      or list(map(page_ref.__getitem__, wpfns)).count(1) != len(wpfns)):
            for w, mm in writable:
                for pfn, va in w:
                    if refs[pfn] != 1 or page_ref[pfn] != 1:
                        self.fail("cow-writable", f"frame {pfn} is writable at {va:#x} but "
                                  f"shared (page_ref {page_ref[pfn]}): {self.owners(pfn)}",
                                  self._mm_task(mm.pt))
        if full or len(refs) != alloc.nr_used():
            self.check_free_list(refs)

    def check_free_list(self, refs: dict[int, int]) -> None:
        """Scan the free list (O(RAM), in C where it can be): no frame on
        it twice, none held or counted.  With those, the counts adding up
        means every allocated frame has a holder; if they do not, name
        the frame nothing holds."""
        alloc = self.K.alloc
        fl = alloc.free_list + alloc.free_zeroed
        free = set(fl)
        if len(free) != len(fl):
            self.fail("frame-free-in-use", "a frame is on the free list twice")
        if not free.isdisjoint(refs):
            pfn = min(free.intersection(refs))
            self.fail("frame-free-in-use", f"frame {pfn} is on the free list but held: "
                      f"{self.owners(pfn)}", self._frame_task(pfn))
        ref, mc = alloc.page_ref, alloc.page_mapcount
        if any(map(ref.__getitem__, fl)) or any(map(mc.__getitem__, fl)):
            pfn = next(p for p in fl if alloc.page_ref[p] or alloc.page_mapcount[p])
            self.fail("frame-free-in-use", f"free frame {pfn} has page_ref "
                      f"{alloc.page_ref[pfn]}, page_mapcount {alloc.page_mapcount[pfn]}")
        if len(refs) != alloc.nr_used():
            for pfn in range(self.K.machine.first_free_pfn, alloc.nr_frames):
                if pfn not in free and pfn not in refs:
                    self.fail("frame-leaked", f"frame {pfn} is allocated (page_ref "
                              f"{alloc.page_ref[pfn]}) but nothing holds it")

    def owners(self, pfn: int) -> str:
        """Who holds frame `pfn`, for a report (slow)."""
        K = self.K
        out = []
        if pfn == K.alloc.zero_pfn:
            out.append("the zero page")
        pts = [(mm.pt, mm) for mm in {id(m): m for m in self.live_mms()}.values()]
        if K.swapper_pt is not None and K.swapper_pt.pgd:
            pts.append((K.swapper_pt, None))
        for pt, mm in pts:
            tables, _lts = self.walk(pt)
            who = "swapper" if mm is None else _who(self._mm_task(pt))
            out += [f"page table of {who}" for t in tables if t == pfn]
            out += [f"PTE {pte & 0xFFF | pte & (1 << 63):#x} at {va:#x} in {who}"
                    for va, pte in self.leaves(pt) if (pte & PTE_PFN_MASK) >> 12 == pfn]
            for vma in (mm.vmas if mm is not None else []):
                if vma.shm is not None and pfn in vma.shm.pages.values():
                    out.append(f"shmem object mapped by {who}")
        for ino in {id(i): i for i in [*K.icache.values(), *K.icache_recent,
                                       *K.page_cache.values()]}.values():
            if pfn in ino.pages.values():
                out.append(f"page cache of {ino.path}")
        return ", ".join(dict.fromkeys(out)) or "nothing"

    def _frame_task(self, pfn: int) -> Optional[task_struct]:
        for mm in self.live_mms():
            if any((pte & PTE_PFN_MASK) >> 12 == pfn for _va, pte in self.leaves(mm.pt)):
                return self._mm_task(mm.pt)
        return None

