"""--check (kernel/check.py): each invariant is caught when the state is
corrupted on purpose, by name, with the task and the last events; clean
runs of several guests report nothing; a violation stops `tinyunix run`
with status 70."""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest

from conftest import GUEST_BUILD, REPO
from emu.paging import PTE_PFN_MASK, _PAGE_PRESENT, _PAGE_RW, _PAGE_SOFT_COW, _PAGE_USER
from kernel.check import RING, InvariantViolation, attach_checker
from kernel.main import boot, run_kernel, shutdown, start_guest
from kernel.panic import KernelBug
from kernel.state import Options
from kernel.task import EXIT_ZOMBIE


class _Stop(Exception):
    pass


def _boot(name: str, args: tuple = ()):
    K = boot(Options(memory=64 << 20))
    chk = attach_checker(K)
    prog = GUEST_BUILD / name
    assert prog.exists(), f"{prog} was not built"
    start_guest(K, str(prog), [str(prog).encode(), *[a.encode() for a in args]], [], str(REPO))
    return K, chk


def _is_fork_return(ev: str, f: dict) -> bool:
    return (ev == "syscall" and f["name"] in ("clone", "clone3", "fork")
            and f["ret"] is not None and 0 < f["ret"] < 1 << 31)


@pytest.fixture
def forked(guests):
    """`cow` stopped just after its first fork returned in the parent (the
    checker has audited that point): parent and child share their written
    pages copy-on-write."""
    K, chk = _boot("cow")

    def stop(ev, f):
        if _is_fork_return(ev, f):
            raise _Stop
    K.listeners.append(stop)           # after the checker
    with pytest.raises(_Stop):
        run_kernel(K)
    K.listeners.remove(stop)
    parent = K.main_task
    child = parent.children[0]
    yield K, chk, parent, child


def _cow_pte(K, mm):
    """(va, qword index, pfn) of a present CoW-shared PTE of `mm`."""
    q = K.machine.qwords
    for vma in mm.vmas:
        for va, i, n in mm.pt.pt_blocks(vma.vm_start, vma.vm_end, False):
            for k in range(n):
                pte = q[i + k]
                pfn = (pte & PTE_PFN_MASK) >> 12
                if pte & _PAGE_SOFT_COW and pte & _PAGE_PRESENT and pfn != K.alloc.zero_pfn:
                    return va + (k << 12), i + k, pfn
    raise AssertionError("no CoW PTE after fork")


def _violation(chk, invariant: str) -> InvariantViolation:
    with pytest.raises(InvariantViolation) as ei:
        chk.audit()
    v = ei.value
    assert v.invariant == invariant, str(v)
    assert f"invariant {invariant} broken" in str(v)
    return v


def test_clean_at_fork(forked):
    K, chk, parent, child = forked
    chk.audit()
    assert chk.naudits > 10
    assert child.real_parent is parent and child.mm is not parent.mm


def test_refcount_bumped(forked):
    K, chk, parent, child = forked
    _va, _i, pfn = _cow_pte(K, parent.mm)
    K.alloc.page_ref[pfn] += 1
    v = _violation(chk, "frame-refcount")
    assert f"frame {pfn} has page_ref 3 but 2 holders" in v.detail
    assert v.task is parent or v.task is child
    assert f"pid {v.task.pid} (cow)" in str(v)


def test_mapcount_bumped(forked):
    K, chk, parent, child = forked
    _va, _i, pfn = _cow_pte(K, parent.mm)
    K.alloc.page_mapcount[pfn] -= 1
    _violation(chk, "frame-mapcount")


def test_cow_pte_made_writable(forked):
    K, chk, parent, child = forked
    va, i, pfn = _cow_pte(K, child.mm)
    K.machine.qwords[i] |= _PAGE_RW
    v = _violation(chk, "cow-writable")
    assert v.task is child and f"{va:#x}" in v.detail


def test_zero_page_made_writable(forked):
    K, chk, parent, child = forked
    mm = parent.mm
    heap = next(v for v in mm.vmas if v.name == "[heap]")
    va = heap.vm_end - 4096
    i = mm.pt.pte_index(va, True)
    assert mm.pt.q[i] == 0
    mm.pt.q[i] = (K.alloc.zero_pfn << 12) | _PAGE_PRESENT | _PAGE_USER | _PAGE_RW
    _violation(chk, "cow-writable")


def test_frame_on_free_list_while_mapped(forked):
    K, chk, parent, child = forked
    _va, _i, pfn = _cow_pte(K, parent.mm)
    K.alloc.free_list.append(pfn)
    v = _violation(chk, "frame-free-in-use")
    assert f"frame {pfn}" in v.detail


def test_frame_leaked(forked):
    K, chk, parent, child = forked
    pfn = K.alloc.alloc_frame()
    v = _violation(chk, "frame-leaked")
    assert f"frame {pfn}" in v.detail


def test_pte_outside_vma(forked):
    K, chk, parent, child = forked
    mm = parent.mm
    va = 0x1000_0000_0000          # far from every mapping
    assert mm.find_vma(va) is None
    i = mm.pt.pte_index(va, True)  # the new table frames are the mm's: consistent
    mm.pt.q[i] = (K.alloc.zero_pfn << 12) | _PAGE_PRESENT | _PAGE_USER
    v = _violation(chk, "pte-vma")
    assert "outside every VMA" in v.detail


def test_mm_users(forked):
    K, chk, parent, child = forked
    parent.mm.mm_users += 1
    _violation(chk, "mm-users")


def test_inode_refcount(forked):
    K, chk, parent, child = forked
    parent.mm.exe_file.get()
    _violation(chk, "inode-refcount")


def test_dropped_from_parents_children(forked):
    K, chk, parent, child = forked
    parent.children.remove(child)
    v = _violation(chk, "task-children")
    assert v.task is child and "on 0 children lists" in v.detail


def test_on_two_children_lists(forked):
    K, chk, parent, child = forked
    K.init_task.children.append(child)
    _violation(chk, "task-children")


def test_zombie_with_dead_parent(forked):
    K, chk, parent, child = forked
    child.exit_state = EXIT_ZOMBIE
    parent.exit_state = EXIT_ZOMBIE
    v = _violation(chk, "zombie-parent")
    assert v.task is child


def test_thread_group_tgid_without_signal(forked):
    K, chk, parent, child = forked
    child.tgid = parent.tgid       # same tgid, its own signal_struct
    _violation(chk, "thread-group")


def test_thread_missing_from_group(forked):
    K, chk, parent, child = forked
    parent.signal.nr_threads += 1
    _violation(chk, "thread-group")


def test_pid_leaked(forked):
    K, chk, parent, child = forked
    K.pids.used.add(child.pid + 100)
    v = _violation(chk, "pid")
    assert f"pid {child.pid + 100} is in use but belongs to no task" in v.detail


def test_task_pid_not_in_use(forked):
    K, chk, parent, child = forked
    K.pids.used.discard(child.pid)
    v = _violation(chk, "pid")
    assert v.task is child


def test_halt_with_tasks_left(forked):
    K, chk, parent, child = forked
    with pytest.raises(InvariantViolation) as ei:
        chk.check_halt()
    assert ei.value.invariant == "halt-tasks"


def test_violation_stops_the_run(guests):
    """Corrupt the state inside a run: the audit after that event raises
    through run_kernel (the path a KernelBug takes), with a report naming
    the invariant, the task and the last events."""
    K, chk = _boot("cow")
    seen = []

    def corrupt(ev, f):
        if ev == "fault" and len(seen) < 1 and f["task"] is not K.main_task:
            seen.append(f["task"])
            K.alloc.page_ref[K.alloc.zero_pfn] += 1
    K.listeners.insert(0, corrupt)     # before the checker
    with pytest.raises(KernelBug) as ei:
        run_kernel(K)
    v = ei.value
    assert isinstance(v, InvariantViolation) and v.invariant == "frame-refcount"
    report = str(v)
    assert f"frame {K.alloc.zero_pfn} has page_ref 2 but 1 holders: the zero page" in report
    assert f"checked after: #{chk.seq} fault pid {seen[0].pid} (cow)" in report
    events = [ln for ln in report.splitlines() if ln.startswith("    #")]
    assert len(events) == RING
    assert any(" fork pid " in ln for ln in events) or any("clone" in ln for ln in events)
    assert K.stop_reason == "check: invariant frame-refcount broken"


CLEAN = [("hello", ()), ("cow", ()), ("forktree", ("2", "3")), ("pipes", ()),
         ("zombie_orphan", ()), ("vfork", ()), ("signals_death", ()), ("brk_mmap", ()),
         ("thread_join", ()), ("thread_fork", ()), ("thread_exec", ())]


@pytest.mark.parametrize("name, args", CLEAN, ids=[n for n, _ in CLEAN])
def test_clean_run_reports_nothing(guests, name, args):
    K, chk = _boot(name, args)
    run_kernel(K)                       # audits after every event, then at halt
    assert chk.naudits > 20 and chk.halted
    assert not K.stop_reason
    shutdown(K)
    assert K.alloc.nr_used() == 1       # the zero page


def test_thread_exec_children_lists(guests):
    """Regression: exec from a non-leader thread (exchange_leader) left the
    new leader twice on its parent's children list (task-children)."""
    K, chk = _boot("thread_exec")
    run_kernel(K)
    assert chk.halted and K.counters["execs"] >= 3


def test_exec_after_de_thread_runs_new_program(guests):
    """Regression: an execve that slept in de_thread finished in the run
    loop, which then resumed the old program's context on the old page
    tables; its next write faulted forever against the new mm (50,000
    repeats of one fault, seen in --check's event log)."""
    K, chk = _boot("thread_exec")
    repeats: Counter = Counter()

    def count(ev, f):
        if ev == "fault":
            repeats[(f["task"].pid, f["addr"], f["rip"], f["err"])] += 1
    K.listeners.append(count)
    run_kernel(K)
    assert K.counters["execs"] >= 3
    worst = repeats.most_common(1)[0]
    assert worst[1] <= 2, f"fault {worst[0]} repeated {worst[1]} times"


def _cli(code: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          timeout=120, cwd=REPO, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


_CLI = "import sys; from tinyunix.cli import main; sys.exit(main(sys.argv[1:]))"


def test_cli_check_clean(guests):
    r = _cli(_CLI, "run", "--check", str(GUEST_BUILD / "fork_wait"))
    assert r.returncode == 0, r.stderr
    assert "invariant" not in r.stderr


def test_cli_violation_exits_70(guests):
    # The 30th audit finds a leaked pid: `tinyunix run` stops with 70.
    code = ("import sys, kernel.check as c\n"
            "orig = c.Checker.audit\n"
            "def audit(self, full=False):\n"
            "    if self.naudits == 30: self.K.pids.used.add(4000)\n"
            "    orig(self, full)\n"
            "c.Checker.audit = audit\n" + _CLI)
    r = _cli(code, "run", "--check", str(GUEST_BUILD / "forktree"))
    assert r.returncode == 70, r.stderr
    assert "kernel BUG: invariant pid broken: pid 4000 is in use but belongs to no task" in r.stderr
    assert "last 20 events" in r.stderr
    assert "Traceback" not in r.stderr
