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
The frame audits live in kernel/mm/check.py, the signal audits (pending,
blocked and queued sets against RLIMIT_SIGPENDING's count) in
kernel/signal_check.py; the task audits, the event log, the report and
the halt checks here.
"""
from __future__ import annotations

import time
from collections import deque
from operator import attrgetter
from typing import Any, Optional

from .mm.check import FrameAudit, _who
from .panic import KernelBug
from .signal_check import SignalAudit
from .state import KernelState
from .task import EXIT_DEAD, EXIT_ZOMBIE, PF_EXITING, PF_KTHREAD, task_struct

RING = 20
_TASK_KEY = attrgetter("pid", "tgid", "real_parent", "parent", "exit_state", "flags",
                       "group_leader", "signal")
_CHILDREN = attrgetter("children")
_SIGNAL = attrgetter("signal")
_SIG_KEY = attrgetter("nr_threads", "live")
_THREADS = attrgetter("threads")
# Events after which the whole state must be consistent.
CHECK_EVENTS = frozenset({"syscall", "syscall_resume", "fault", "segv", "signal"})


class InvariantViolation(KernelBug):
    """A checked invariant is broken.  `invariant` is its name."""

    def __init__(self, invariant: str, detail: str, task: Optional[task_struct], report: str):
        super().__init__(report)
        self.invariant = invariant
        self.detail = detail
        self.task = task


class Checker(FrameAudit, SignalAudit):
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
            self.check_signals()
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
        warm = {id(i) for i in K.icache_recent}
        held = [i for i in K.icache.values() if id(i) not in warm and (i.pages or i.i_count)]
        if held:
            self.fail("halt-frames", f"{held[0].path} still has i_count {held[0].i_count} "
                      f"and {len(held[0].pages)} cached frames")
        cache = sum(len(i.pages) for i in K.icache_recent)
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
