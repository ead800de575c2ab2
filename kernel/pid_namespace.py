"""PID namespaces (kernel/pid_namespace.c, the upid half of kernel/pid.c).

Every task has one number per namespace level from the initial one down
to the namespace it lives in (task.nspids[level]; task.pid is level 0,
the global pid, and K.tasks is the initial namespace's map).  A task
sees others by the number they have at its own level, and does not see
tasks outside its namespace's subtree at all (their number there is 0).

A namespace's first task is its init (child_reaper): it reaps the
namespace's orphans, gets only the signals it has a handler for from
inside, and when it dies every other task of the namespace is killed
(zap_pid_ns_processes) and fork into the namespace fails with ENOMEM.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Optional

from . import state
from .pid import PidAllocator

if TYPE_CHECKING:
    from .task import task_struct

MAX_PID_NS_LEVEL = 32
PROC_PID_INIT_INO = 0xEFFFFFFC       # the initial namespace's inode (4026531836)


@dataclass(eq=False)
class pid_namespace:
    level: int
    parent: Optional["pid_namespace"]
    pids: PidAllocator
    tasks: dict = field(default_factory=dict)     # nr at this level -> task (the idr)
    child_reaper: Optional["task_struct"] = None
    ns_inum: int = PROC_PID_INIT_INO
    adding: bool = True                           # PIDNS_ADDING: off once init is gone
    reaper_waiting: bool = False                  # the dead init's parent is not told yet
    count: int = 1

    def ancestors(self) -> Iterator["pid_namespace"]:
        ns: Optional[pid_namespace] = self
        while ns is not None:
            yield ns
            ns = ns.parent


def init_pid_ns() -> pid_namespace:
    return state.K.init_pid_ns


def task_active_pid_ns(tsk: "task_struct") -> pid_namespace:
    return tsk.pid_ns if tsk.pid_ns is not None else state.K.init_pid_ns


def is_ancestor_ns(ns: pid_namespace, child: pid_namespace) -> bool:
    """ns is child or one of its ancestors."""
    while child.level > ns.level:
        child = child.parent  # type: ignore[assignment]
    return child is ns


def task_pid_nr_ns(tsk: Optional["task_struct"], ns: pid_namespace) -> int:
    """tsk's thread id as seen from ns; 0 if tsk is not visible there."""
    if tsk is None:
        return 0
    if tsk.pid_ns is None:
        return tsk.pid if ns.level == 0 else 0
    if ns.level > tsk.pid_ns.level or not is_ancestor_ns(ns, tsk.pid_ns):
        return 0
    return tsk.nspids[ns.level]


def task_tgid_nr_ns(tsk: Optional["task_struct"], ns: pid_namespace) -> int:
    return task_pid_nr_ns(tsk.group_leader if tsk is not None else None, ns)


def current_ns() -> pid_namespace:
    from .percpu import current
    t = current()
    return task_active_pid_ns(t) if t is not None else state.K.init_pid_ns


def task_pid_vnr(tsk: Optional["task_struct"]) -> int:
    return task_pid_nr_ns(tsk, current_ns())


def task_tgid_vnr(tsk: Optional["task_struct"]) -> int:
    return task_tgid_nr_ns(tsk, current_ns())


def task_ppid_nr_ns(tsk: "task_struct", ns: pid_namespace) -> int:
    """The parent's tgid seen from ns: 0 for a namespace's init, whose
    parent is outside it (and for kthreadd, whose parent is swapper)."""
    parent = tsk.group_leader.real_parent
    if parent is None or parent is tsk.group_leader:
        return 0
    return task_tgid_nr_ns(parent, ns)


def find_task_by_pid_ns(nr: int, ns: pid_namespace) -> Optional["task_struct"]:
    return ns.tasks.get(nr)


def find_task_by_vpid(nr: int) -> Optional["task_struct"]:
    return current_ns().tasks.get(nr)


def pid_nr_ns_of_global(nr: int, ns: pid_namespace) -> int:
    """A pgrp or session id (kept as the global pid of the task that made
    it) as seen from ns: 0 if that task is gone or not visible."""
    if ns.level == 0:
        return nr
    t = state.K.tasks.get(nr)
    return task_pid_nr_ns(t, ns) if t is not None else 0


def pid_global_of_vnr(nr: int) -> int:
    """The global number of the task current's namespace calls nr, or
    -1 when no such task is visible."""
    ns = current_ns()
    if ns.level == 0:
        return nr
    t = ns.tasks.get(nr)
    return t.pid if t is not None else -1


# --- creation, allocation, release ------------------------------------------

def create_pid_namespace(parent: pid_namespace) -> pid_namespace:
    """A child namespace of `parent` (copy_pid_ns); ENOSPC past Linux's
    nesting depth."""
    from .panic import Errno
    from .uapi import ENOSPC
    K = state.K
    level = parent.level + 1
    if level > MAX_PID_NS_LEVEL:
        raise Errno(ENOSPC)
    K.ns_inum_next += 1               # proc_alloc_inum: from PROC_DYNAMIC_FIRST
    return pid_namespace(level, parent, PidAllocator(K.opts.pid_max), ns_inum=K.ns_inum_next)


def alloc_pid(ns: pid_namespace, set_tid: list[int]) -> tuple[int, ...]:
    """alloc_pid: a number at every level from the initial namespace down
    to ns, the global one first.  set_tid (clone3) asks for numbers from
    the innermost level outwards.  Raises Errno (EEXIST for a set_tid
    in use, EAGAIN when a namespace is full, ENOMEM when ns's init is
    gone); nothing is left allocated on failure."""
    from .panic import Errno
    from .uapi import ENOMEM
    if not ns.adding:
        raise Errno(ENOMEM)
    chain = list(ns.ancestors())          # ns first, the initial namespace last
    got: list[tuple[pid_namespace, int]] = []
    try:
        for i, level_ns in enumerate(chain):
            if i < len(set_tid):
                nr = level_ns.pids.alloc_pid_nr(set_tid[i])
            else:
                nr = level_ns.pids.alloc_pid()
            got.append((level_ns, nr))
    except Errno:
        for level_ns, nr in got:
            level_ns.pids.free_pid(nr)
        raise
    return tuple(nr for _ns, nr in reversed(got))


def attach_pid(tsk: "task_struct", ns: pid_namespace, nrs: tuple[int, ...]) -> None:
    """Enter tsk in the pid map of every level (K.tasks is level 0's)."""
    tsk.pid_ns = ns if ns.level else None
    tsk.nspids = nrs if ns.level else ()
    for level_ns, nr in zip(reversed(list(ns.ancestors())), nrs):
        level_ns.tasks[nr] = tsk


def free_pid(tsk: "task_struct") -> None:
    """Leave every level's pid map and give the numbers back (release_task)."""
    K = state.K
    K.tasks.pop(tsk.pid, None)
    K.pids.free_pid(tsk.pid)
    ns = tsk.pid_ns
    if ns is None:
        return
    for level_ns in ns.ancestors():
        if level_ns.level == 0:
            break
        nr = tsk.nspids[level_ns.level]
        if level_ns.tasks.get(nr) is tsk:
            del level_ns.tasks[nr]
        level_ns.pids.free_pid(nr)


def exchange_pids(a: "task_struct", b: "task_struct") -> None:
    """de_thread: a and b trade their pids at every level."""
    K = state.K
    a.pid, b.pid = b.pid, a.pid
    a.nspids, b.nspids = b.nspids, a.nspids
    K.tasks[a.pid] = a
    K.tasks[b.pid] = b
    ns = a.pid_ns
    if ns is not None:
        for level_ns in ns.ancestors():
            if level_ns.level == 0:
                break
            level_ns.tasks[a.nspids[level_ns.level]] = a
            level_ns.tasks[b.nspids[level_ns.level]] = b


def zap_pid_ns_processes(ns: pid_namespace) -> None:
    """The namespace's init is exiting: no task may enter any more, and
    every other task in it (nested namespaces included) gets SIGKILL.
    The init's parent hears of its death once they are all gone
    (exit.py: the init stays a zombie nobody can reap until then)."""
    from .signal import SEND_SIG_PRIV, send_signal
    from .uapi import SIGKILL
    ns.adding = False
    reaper = ns.child_reaper
    ns.reaper_waiting = True
    for t in list(ns.tasks.values()):
        if t.signal is not reaper.signal and not t.exit_state and t.thread_group_leader:
            send_signal(SIGKILL, t, SEND_SIG_PRIV, True)


def ns_others_alive(ns: pid_namespace) -> bool:
    """Are tasks other than the init's group still in ns (not yet released)?"""
    reaper = ns.child_reaper
    return any(t.signal is not reaper.signal for t in ns.tasks.values())
