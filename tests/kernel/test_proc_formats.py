"""/proc's formats (kernel/fs/proc*.py) on a booted kernel stopped in the
middle of a run, and the kernel threads (kernel/kthread.py): kthreadd's
place in the tree, a thread's life (create, run, park, unpark, stop),
the zeroing kworker and the OOM reaper doing their work."""
from __future__ import annotations

import re

import pytest

from conftest import GUEST_BUILD, REPO
from kernel import state
from kernel.fs import proc, proc_array, proc_misc, proc_task_mmu
from kernel.main import boot, run_kernel, shutdown, start_guest
from kernel.state import Options
from kernel.task import TASK_INTERRUPTIBLE, TASK_RUNNING


def _boot(name: str, *args: str, memory: int = 64 << 20):
    K = boot(Options(memory=memory))
    prog = GUEST_BUILD / name
    start_guest(K, str(prog), [str(prog).encode(), *[a.encode() for a in args]], [], str(REPO))
    return K


@pytest.fixture
def forked(guests):
    """`cow` just after its first fork: a parent and a child with memory."""
    K = _boot("cow")
    run_kernel(K, until=lambda: K.counters["forks"] >= 1)
    yield K
    run_kernel(K)
    shutdown(K)


def test_kthreadd_is_pid_2_child_of_swapper(forked):
    K = forked
    with state.entered(K):
        kthreadd = K.tasks[2]
        line = proc_array.proc_pid_stat(kthreadd, K.init_pid_ns, True).decode()
        f = line.split()
        assert f[:5] == ["2", "(kthreadd)", "S", "0", "0"] and len(f) == 52
        assert int(f[8]) & 0x200000                      # PF_KTHREAD
        kids = {t.comm for t in kthreadd.children}
        assert kids == {"oom_reaper", "kworker/0:0"}
        assert K.tasks[1].real_parent is K.cpus[0].idle and K.cpus[0].idle.pid == 0
        status = proc_array.proc_pid_status(kthreadd, K.init_pid_ns, True).decode()
        assert "\nKthread:\t1\n" in status and "VmRSS" not in status


def test_stat_status_statm_agree(forked):
    K = forked
    with state.entered(K):
        t = K.main_task
        f = proc_array.proc_pid_stat(t, K.init_pid_ns, True).decode().split()
        assert len(f) == 52 and f[0] == str(t.pid) and f[3] == "1"
        rss_pages = int(f[23])
        st = proc_array.proc_pid_status(t, K.init_pid_ns, True).decode()
        kv = dict(re.findall(r"^(\w+):\s+(\d+)", st, re.M))
        assert int(kv["VmRSS"]) == rss_pages * 4 == t.mm.walk_mm_rss() * 4
        assert int(kv["VmRSS"]) == int(kv["RssAnon"]) + int(kv["RssFile"]) + int(kv["RssShmem"])
        assert int(kv["Pid"]) == t.pid and int(kv["Threads"]) == 1
        statm = proc_array.proc_pid_statm(t).decode().split()
        assert int(statm[0]) * 4 == int(kv["VmSize"]) and int(statm[1]) == rss_pages
        rollup = proc_task_mmu.proc_pid_smaps_rollup(t.mm).decode()
        assert re.search(r"^Rss:\s+(\d+) kB", rollup, re.M).group(1) == kv["VmRSS"]


def test_maps_lines_pad_names_to_column_74(forked):
    K = forked
    with state.entered(K):
        lines = proc_task_mmu.proc_pid_maps(K.main_task.mm).decode().splitlines(keepends=True)
    named = [ln for ln in lines if ln.rstrip("\n").endswith("]") or "/" in ln]
    assert named and all(len(ln) > 73 and ln[72] == " " and ln[73] != " " for ln in named)
    anon = [ln for ln in lines if ln not in named]
    assert all(ln.endswith(" 0 \n") for ln in anon)      # inode 0 and its trailing space
    assert any(ln.rstrip().endswith("[stack]") for ln in lines)


def test_meminfo_and_stat_from_kernel_state(forked):
    K = forked
    with state.entered(K):
        mi = proc_misc.show_meminfo().decode()
        free = int(re.search(r"^MemFree:\s+(\d+) kB", mi, re.M).group(1))
        assert free == K.alloc.nr_free() * 4
        st = proc_misc.show_stat().decode().splitlines()
        assert st[0].startswith("cpu  ") and st[1].startswith("cpu0 ")
        assert f"ctxt {K.cpus[0].nr_switches}" in st


def test_readdir_lists_pids_and_entries(forked):
    K = forked
    with state.entered(K):
        root = [n for n, _i, _t in proc.readdir_entries(proc.resolve([]))]
        assert root[:2] == [".", ".."] and "self" in root and "meminfo" in root
        pids = [int(n) for n in root if n.isdigit()]
        assert pids == sorted(pids) and pids[:4] == [1, 2, 3, 4]
        ents = [n for n, _i, _t in proc.readdir_entries(proc.resolve([str(K.main_task.pid)]))]
        assert {"stat", "status", "maps", "task", "fd", "ns", "exe"} <= set(ents)


def _counter(limit: int):
    """A kernel thread that counts until stopped, parking on request."""
    from kernel.kthread import (
        kthread_parkme, kthread_should_park, kthread_should_stop, set_current_state,
    )
    n = 0
    while not kthread_should_stop():
        if kthread_should_park():
            yield from kthread_parkme()
            continue
        n += 1
        if n >= limit:
            set_current_state(TASK_INTERRUPTIBLE)
        yield
    return n


def test_kthread_life(forked):
    from kernel.kthread import (
        kthread_create, kthread_park, kthread_stop, kthread_unpark, wake_up_process,
    )
    K = forked
    with state.entered(K):
        t = kthread_create(_counter, "counter", 3)
        assert t.real_parent is K.tasks[2] and t.mm is None and t in K.tasks[2].children
        assert proc_array.task_state(t)[0] == "D"        # created, not yet woken
        wake_up_process(t)
        assert t.state == TASK_RUNNING
    run_kernel(K, until=lambda: t.state == TASK_INTERRUPTIBLE)
    with state.entered(K):
        assert proc_array.task_state(t)[0] == "S"
        kthread_park(t)
        assert proc_array.task_state(t)[0] == "P"
        kthread_unpark(t)
        assert t.state == TASK_RUNNING
        assert kthread_stop(t) >= 3
        assert t.pid not in K.tasks and t not in K.tasks[2].children


def test_zeroing_kworker_and_oom_reaper(guests):
    """forkbomb-like churn frees frames (the kworker zeroes them for later
    faults); the oom guest gets a victim killed and reaped."""
    K = _boot("forktree", "3", "4")
    run_kernel(K)
    assert K.vmstat.pgzero_ahead > 0 and K.alloc.pgzero_hit > 0
    shutdown(K)
    K = _boot("oom", memory=64 << 20)
    run_kernel(K, until=lambda: bool(K.oom_reaper_list))
    # The reaper holds the victim's mm until it has run: --check counts it.
    from kernel.check import attach_checker
    chk = attach_checker(K)
    with state.entered(K):
        chk.audit(full=True)
    K.listeners.remove(chk.on_event)
    run_kernel(K)
    assert K.vmstat.oom_reaped > 0 and not K.oom_reaper_list
    shutdown(K)
