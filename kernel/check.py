"""--check: audit the kernel's invariants after every syscall and page
fault, and once more at halt.  A broken invariant stops the run with a
report naming it, the task concerned and the last events.

What is audited (the names are what a report and the tests use):
  frames   frame-refcount   page_ref == PTEs mapping the frame + non-PTE
                            holders (page tables, page cache, shmem
                            objects, the zero page)
           frame-mapcount   page_mapcount == PTEs mapping the frame
           frame-free-in-use  no frame both on the free list and held
           frame-leaked     every allocated frame has a holder
           cow-writable     a writable PTE of a private mapping maps a
                            frame nothing else holds (refcount 1)
           pte-vma          every PTE lies in a VMA of its mm and is
                            writable only if the VMA is; never a kernel frame
           mm-users, inode-refcount, shm-refcount: the holders' own counts
  tasks    task-children    each group leader is on exactly one children
                            list, its parent's (real_parent == parent); a
                            thread is on none and has its leader's parent
           task-parent      a task's (and a zombie's) parent is alive
           task-dead        no EXIT_DEAD task is left unreleased
           thread-group     same tgid <=> same signal_struct; the leader is
                            in the group; threads/nr_threads/live agree
           pid              every pid in use belongs to one task, every
                            task's pid is in use
  halt     halt-tasks, halt-pids, halt-frames: after the last task, only
           the kernel's tasks, pids and frames (and the warm page cache
           that shutdown drops) are left.

Cost is proportional to what is in use: the live page tables are walked
(only present entries are visited), holders are enumerated, and the
free list is only scanned when the counts do not add up (or at halt).
"""
from __future__ import annotations

import time
from collections import Counter, deque
from itertools import compress
from operator import attrgetter, itemgetter
from typing import Any, Optional

from emu.paging import PTE_PFN_MASK, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW

from .fs.inode import _icache, _recent
from .mm.memory import VM_SHARED, VM_WRITE, _PAGE_PROTNONE
from .mm.pgtable import KERNEL_SLOT
from .panic import KernelBug
from .state import KernelState
from .task import EXIT_DEAD, EXIT_ZOMBIE, PF_EXITING, PF_KTHREAD, task_struct

_MAPPED = _PAGE_PRESENT | _PAGE_PROTNONE
_R512 = range(512)
_R_USER = range(KERNEL_SLOT)
RING = 20
_VMA_KEY = attrgetter("vm_start", "vm_end", "vm_flags", "vm_file", "shm")
_TASK_KEY = attrgetter("pid", "tgid", "real_parent", "parent", "exit_state", "flags",
                       "group_leader", "signal")
_CHILDREN = attrgetter("children")
_SIGNAL = attrgetter("signal")
_SIG_KEY = attrgetter("nr_threads", "live")
_THREADS = attrgetter("threads")
# Events after which the whole state must be consistent.
CHECK_EVENTS = frozenset({"syscall", "syscall_resume", "fault", "segv"})


class InvariantViolation(KernelBug):
    """A checked invariant is broken.  `invariant` is its name."""

    def __init__(self, invariant: str, detail: str, task: Optional[task_struct], report: str):
        super().__init__(report)
        self.invariant = invariant
        self.detail = detail
        self.task = task


def _who(t: Optional[task_struct]) -> str:
    return "no task" if t is None else f"pid {t.pid} ({t.comm})"


class Checker:
    """Subscribed to K.listeners by attach_checker."""

    def __init__(self, K: KernelState) -> None:
        self.K = K
        self.events: deque = deque(maxlen=RING)
        self.seq = 0
        self.last: Optional[tuple] = None   # the event being checked
        self.halted = False                 # check_halt ran to the end
        self.naudits = 0
        self.seconds = 0.0
        self.ram = K.machine.ram
        self.q = K.machine.qwords
        self.first, self.nfr = K.machine.first_free_pfn, K.alloc.nr_frames
        self._tcache: dict[int, list] = {}   # table pfn -> see _table
        self._tseen: dict[int, list] = {}
        self._mmcache: dict[int, tuple] = {}   # id(pt) -> see _mm_summary
        self._mmseen: dict[int, tuple] = {}
        self._expected: Optional[tuple] = None  # see check_frames
        self._tasks_ok: Optional[tuple] = None  # _task_state() last found sound

    # --- events ------------------------------------------------------------
    def on_event(self, event: str, f: dict) -> None:
        self.seq += 1
        t = f.get("task") or f.get("parent")
        rec = (self.seq, event, t.pid if t is not None else 0, t.comm if t is not None else "", f)
        self.events.append(rec)
        self.last = rec
        if event in CHECK_EVENTS:
            if event == "syscall" and f["ent"] is None:
                return          # not implemented: -ENOSYS, no kernel code ran
            self.audit()
        elif event == "halt":
            self.check_halt()

    def audit(self, full: bool = False) -> None:
        """Check every invariant of a running kernel; raise on the first
        broken one.  `full` also scans the whole free list (O(RAM))."""
        t0 = time.perf_counter()
        try:
            self.check_tasks()
            self.check_frames(full)
        finally:
            self.naudits += 1
            self.seconds += time.perf_counter() - t0

    # --- reporting -----------------------------------------------------------
    def fail(self, invariant: str, detail: str, task: Optional[task_struct] = None) -> None:
        lines = [f"invariant {invariant} broken: {detail}", f"  task: {_who(task)}"]
        if self.last is not None:
            lines.append(f"  checked after: {self._fmt(self.last)}")
        lines.append(f"  last {len(self.events)} events (oldest first):")
        lines += [f"    {self._fmt(e)}" for e in self.events]
        report = "\n".join(lines)
        if not self.K.stop_reason:
            self.K.stop_reason = f"check: invariant {invariant} broken"
        raise InvariantViolation(invariant, detail, task, report)

    @staticmethod
    def _fmt(rec: tuple) -> str:
        seq, event, pid, comm, f = rec
        if event == "syscall":
            ret = f["ret"]
            args = ", ".join(hex(a) for a in f["args"][:3])
            what = f"{f['name']}({args}, ...) = {'?' if ret is None else ret}"
        elif event == "syscall_resume":
            what = f"resumed = {f['ret']}"
        elif event == "fork":
            what = f"child {f['child'].pid} flags {f['flags']:#x}"
        elif event == "exit":
            what = f"status {f['code']:#x}"
        elif event == "exec":
            what = f["path"]
        else:
            what = " ".join(f"{k}={v:#x}" if isinstance(v, int) else f"{k}={v}"
                            for k, v in f.items() if k not in ("task", "parent"))
        return f"#{seq} {event} pid {pid} ({comm}) {what}".rstrip()

    # --- tasks and pids ------------------------------------------------------
    def _task_state(self) -> tuple:
        """Everything check_tasks looks at, gathered in C (attrgetter, map):
        equal to the last audit's means the same verdict."""
        K = self.K
        vals = list(K.tasks.values())
        sigs = list({id(s): s for s in map(_SIGNAL, vals)}.values())
        return (list(K.tasks), vals, list(map(_TASK_KEY, vals)),
                list(map(tuple, map(_CHILDREN, vals))), sigs, list(map(_SIG_KEY, sigs)),
                list(map(tuple, map(_THREADS, sigs))), frozenset(K.pids.used))

    def check_tasks(self) -> None:
        st = self._task_state()
        if st == self._tasks_ok:
            return
        self._check_tasks()
        self._tasks_ok = st

    def _check_tasks(self) -> None:
        K = self.K
        tasks = K.tasks
        for pid, t in tasks.items():
            if t.pid != pid:
                self.fail("pid", f"K.tasks[{pid}] is a task with pid {t.pid}", t)
        used = K.pids.used
        if len(used) != len(tasks) or not used.issuperset(tasks.keys()):
            for pid in used:
                if pid not in tasks:
                    self.fail("pid", f"pid {pid} is in use but belongs to no task")
            for pid, t in tasks.items():
                if pid not in used:
                    self.fail("pid", f"task's pid {pid} is not marked in use", t)
        # Children lists: count each task's appearances over every list.
        seen: dict[int, int] = {}
        for t in tasks.values():
            for c in t.children:
                if tasks.get(c.pid) is not c:
                    self.fail("task-children", f"released task {_who(c)} is still on "
                              f"the children list of {_who(t)}", c)
                if c.real_parent is not t:
                    self.fail("task-children", f"on the children list of {_who(t)} but its "
                              f"real_parent is {_who(c.real_parent)}", c)
                seen[id(c)] = seen.get(id(c), 0) + 1
        groups: dict[int, list] = {}
        for t in tasks.values():
            groups.setdefault(id(t.signal), []).append(t)
            if t.exit_state == EXIT_DEAD:
                self.fail("task-dead", "EXIT_DEAD but not released", t)
            if t.flags & PF_KTHREAD:
                continue
            n = seen.get(id(t), 0)
            if n != (1 if t.group_leader is t else 0):
                self.fail("task-children", f"on {n} children lists (real_parent "
                          f"{_who(t.real_parent)})", t)
            p = t.real_parent
            if p is not t.group_leader.real_parent:
                self.fail("task-children", f"real_parent {_who(p)} is not its leader's "
                          f"{_who(t.group_leader.real_parent)}", t)
            if t.parent is not p:
                self.fail("task-children", f"parent {_who(t.parent)} is not real_parent "
                          f"{_who(p)}", t)
            if p.exit_state or p.flags & PF_EXITING or tasks.get(p.pid) is not p:
                what = "zombie's" if t.exit_state == EXIT_ZOMBIE else "task's"
                inv = "zombie-parent" if t.exit_state == EXIT_ZOMBIE else "task-parent"
                self.fail(inv, f"the {what} parent {_who(p)} has exited", t)
        self.check_thread_groups(groups)

    def check_thread_groups(self, groups: dict[int, list]) -> None:
        tgids: dict[int, Any] = {}
        for members in groups.values():
            sig = members[0].signal
            tgid = members[0].tgid
            leader = members[0].group_leader
            for t in members:
                if t.tgid != tgid:
                    self.fail("thread-group", f"shares a signal_struct with {_who(members[0])} "
                              f"but has tgid {t.tgid}, not {tgid}", t)
                if t.group_leader is not leader:
                    self.fail("thread-group", f"group_leader {_who(t.group_leader)} differs "
                              f"from {_who(leader)}'s in the same group", t)
            if tgids.setdefault(tgid, sig) is not sig:
                self.fail("thread-group", f"tgid {tgid} has two signal_structs", members[0])
            if (leader.pid != tgid or leader.signal is not sig
                    or self.K.tasks.get(tgid) is not leader):
                self.fail("thread-group", f"leader {_who(leader)} of tgid {tgid} is not in "
                          "the group", members[0])
            th = sig.threads
            if len(th) != len(members) or {id(t) for t in th} != {id(t) for t in members}:
                self.fail("thread-group", f"signal.threads {[t.pid for t in th]} != tasks of "
                          f"tgid {tgid} {[t.pid for t in members]}", leader)
            if th[0] is not leader:
                self.fail("thread-group", f"signal.threads begins with {_who(th[0])}, not the "
                          "leader", leader)
            if sig.nr_threads != len(th):
                self.fail("thread-group", f"nr_threads {sig.nr_threads} but {len(th)} threads",
                          leader)
            live = sum(1 for t in th if not t.flags & PF_EXITING)
            if sig.live != live:
                self.fail("thread-group", f"signal.live {sig.live} but {live} threads "
                          "not exiting", leader)

    # --- frames --------------------------------------------------------------
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
        inos += _recent
        icount = Counter(map(id, inos))
        inodes = {id(i): i for i in inos}
        for ino in _icache.values():
            if ino.alloc is alloc or ino.alloc is None:   # not another booted kernel's
                inodes[id(ino)] = ino
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
        fl = alloc.free_list
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
        from .fs.inode import _icache, _recent
        for ino in {id(i): i for i in [*_icache.values(), *_recent]}.values():
            if pfn in ino.pages.values():
                out.append(f"page cache of {ino.path}")
        return ", ".join(dict.fromkeys(out)) or "nothing"

    def _frame_task(self, pfn: int) -> Optional[task_struct]:
        for mm in self.live_mms():
            if any((pte & PTE_PFN_MASK) >> 12 == pfn for _va, pte in self.leaves(mm.pt)):
                return self._mm_task(mm.pt)
        return None

    # --- halt ----------------------------------------------------------------
    def check_halt(self) -> None:
        """After the run loop: if it ended because the last task exited,
        nothing but the kernel's own tasks, pids and frames is left (the
        warm page cache is dropped by shutdown and must be all that
        remains held).  A run stopped early is only audited."""
        K = self.K
        self.audit(full=True)
        if K.stop_reason:
            return
        users = [t for t in K.tasks.values() if not t.flags & PF_KTHREAD]
        if users or K.nr_user_tasks:
            self.fail("halt-tasks", f"{len(users)} tasks left ({K.nr_user_tasks} counted): "
                      f"{', '.join(_who(t) for t in users[:10])}", users[0] if users else None)
        kpids = {t.pid for t in K.tasks.values()}
        extra = sorted(K.pids.used - kpids)
        if extra:
            self.fail("halt-pids", f"pids still in use: {extra[:10]}")
        from .fs.inode import _icache, _recent
        warm = {id(i) for i in _recent}
        held = [i for i in _icache.values() if id(i) not in warm and (i.pages or i.i_count)]
        if held:
            self.fail("halt-frames", f"{held[0].path} still has i_count {held[0].i_count} "
                      f"and {len(held[0].pages)} cached frames")
        cache = sum(len(i.pages) for i in _recent)
        tables = K.swapper_pt.nr_tables if K.swapper_pt is not None else 0
        left = K.alloc.nr_used() - 1 - tables - cache
        if left:
            self.fail("halt-frames", f"{left} frames still in use besides the zero page, "
                      f"{tables} kernel table frames and {cache} warm page-cache frames")
        self.halted = True
        if K.opts.stats:
            import sys
            sys.stderr.write(f"check: {self.naudits} audits, {self.seconds:.3f} s\n")


def attach_checker(K: KernelState) -> Checker:
    """Audit K after every syscall and page fault from now on."""
    c = Checker(K)
    K.listeners.append(c.on_event)
    return c
