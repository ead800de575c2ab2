"""Process and thread exit: do_exit, exit_notify (reparenting, SIGCHLD,
zombie or dead), release_task, and the wait family (do_wait).

Only exit_notify decides between EXIT_ZOMBIE and EXIT_DEAD; only the wait
path (or an autoreap decided in exit_notify) calls release_task.
"""
from __future__ import annotations

import struct

from . import state
from .mm.uaccess import copy_to_user, put_user_s32, put_user_u32
from .panic import BUG, Errno, OutOfMemory
from .percpu import current, this_cpu
from .pid_namespace import (
    exchange_pids, free_pid, ns_others_alive, pid_global_of_vnr, task_active_pid_ns, task_pid_nr_ns,
    task_pid_vnr, zap_pid_ns_processes,
)
from .sched.cputime import RUSAGE_BOTH, account_reaped_child, exit_signal_cputime, k_getrusage
from .sched.wait import BlockOn, wake_up
from .siginfo import kernel_siginfo
from .signal import current_uid, flush_sigqueue, send_signal
from .jobctl import (
    JOBCTL_STOP_PENDING, do_notify_parent_cldstop, kill_orphaned_pgrp, task_participate_group_stop,
    wait_task_continued, wait_task_stopped,
)
from .syscalls import syscall
from .task import (
    EXIT_DEAD, EXIT_ZOMBIE, PF_EXITING, SIGNAL_GROUP_EXIT, TASK_DEAD, task_struct,
)
from .types import UPtr, c_int, pid_t
from .uapi import (
    CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, EAGAIN, ECHILD, EINVAL, P_ALL, P_PGID, P_PID, SA_NOCLDWAIT,
    SIG_IGN, SIGCHLD, SIGCONT, SIGKILL, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WSTOPPED, WUNTRACED,
    __WALL, __WCLONE, __WNOTHREAD, _NSIG,
)


# --- exit -------------------------------------------------------------------

def do_exit(code: int) -> None:
    """End the current task with wait status `code`.  Does not return to
    the guest: the task is dead when the run loop looks at it next."""
    from .fork import exit_fs, exit_sighand
    from .fs.file import exit_files
    from .futex import exit_robust_list, futex_wake_addr
    tsk = current()
    K = state.K
    if tsk.flags & PF_EXITING:
        raise BUG(f"do_exit: task {tsk.pid} exits twice")
    sig = tsk.signal
    if tsk.jobctl & JOBCTL_STOP_PENDING and not sig.flags & SIGNAL_GROUP_EXIT:
        # exit_signals: a thread leaving during a group stop counts as stopped.
        if task_participate_group_stop(tsk):
            do_notify_parent_cldstop(tsk, CLD_STOPPED)
    tsk.flags |= PF_EXITING
    tsk.exit_code = code
    sig.live -= 1
    group_dead = sig.live == 0
    if group_dead and not sig.flags & SIGNAL_GROUP_EXIT:
        sig.group_exit_code = code
    exit_task_timers(tsk, group_dead)
    # exit_mm: the robust list and clear_child_tid live in user memory.
    # A write there may fault or need a frame for CoW; the exit goes on
    # regardless, as mm_release does.
    try:
        exit_robust_list(tsk)
    except OutOfMemory:
        pass
    if tsk.clear_child_tid:
        ctid = tsk.clear_child_tid
        tsk.clear_child_tid = 0
        if tsk.mm is not None and tsk.mm.mm_users > 1:
            try:
                put_user_u32(ctid, 0)
                futex_wake_addr(ctid, 1)
            except (Errno, OutOfMemory):
                pass
    if tsk.vfork_done is not None:
        wake_up(tsk.vfork_done)
        tsk.vfork_done = None
    mm = tsk.mm
    if mm is not None:
        tsk.mm = None
        drop_mm_lazily(this_cpu(), tsk, mm)
    exit_files(tsk)
    exit_fs(tsk)
    exit_notify(tsk, group_dead)
    exit_sighand(tsk)
    tsk.state = TASK_DEAD
    K.nr_user_tasks -= 1
    if K.listeners:
        K.emit("exit", task=tsk, code=code)
    this_cpu().need_resched = True
    this_cpu().hw.glue.stop()


def exit_task_timers(tsk: task_struct, group_dead: bool) -> None:
    """The CPU time tsk ran so far is charged, its thread CPU timers go;
    with the group, ITIMER_REAL, the CPU itimers and the POSIX timers."""
    from .sched.cputime import account_stop
    from .time.itimer import exit_itimers_real
    from .time.posix_cpu_timers import exit_cpu_timers
    from .time.posix_timers import exit_itimers
    account_stop(this_cpu(), tsk)
    exit_cpu_timers(tsk)
    if group_dead:
        exit_itimers_real(tsk.signal)
        exit_itimers(tsk.signal)
        exit_cpu_timers(tsk.signal)


def drop_mm_lazily(cpu, tsk: task_struct, mm) -> None:
    """mmput for a task leaving `mm` (exit, exec).  While the CPU still
    runs on mm's tables (we are inside this task's syscall) they must
    outlive the syscall: the run loop releases them after the engine has
    stopped and the CPU has switched to the kernel-only tables."""
    if cpu.loaded is tsk:
        cpu.deferred_mm.append(mm)
        cpu.loaded = None
    else:
        mm.cpus.discard(cpu.index)
        mm.mmput()


def do_group_exit(code: int) -> None:
    """Kill every thread of the current group, then exit with `code`
    (or the code the group exit already started with).  While another
    thread execs (de_thread), only the current thread goes."""
    tsk = current()
    sig = tsk.signal
    if sig.flags & SIGNAL_GROUP_EXIT:
        code = sig.group_exit_code
    elif sig.group_exit_task is not None and sig.group_exit_task is not tsk:
        code = 0
    elif sig.nr_threads > 1:
        sig.group_exit_task = None     # the exec'ing thread itself dies: all go
        sig.flags |= SIGNAL_GROUP_EXIT
        sig.group_exit_code = code
        zap_other_threads(tsk)
    do_exit(code)


def zap_other_threads(tsk: task_struct) -> None:
    """SIGKILL to every other live thread of tsk's group."""
    from .signal import signal_wake_up, sigmask
    for t in tsk.signal.threads:
        if t is not tsk and not t.exit_state:
            t.pending |= sigmask(SIGKILL)
            signal_wake_up(t)


def find_new_reaper(father: task_struct) -> task_struct:
    """A live thread of the same group, else the nearest subreaper
    ancestor, else init (find_child_reaper / find_new_reaper)."""
    for t in father.signal.threads:
        if t is not father and not t.flags & PF_EXITING:
            return t
    K = state.K
    # The reaper of father's pid namespace; once it is exiting itself
    # (zap_pid_ns_processes killed everyone), the initial init, which
    # reaps whatever it is given.
    ns_reaper = task_active_pid_ns(father).child_reaper
    if ns_reaper is None or ns_reaper.flags & PF_EXITING or ns_reaper is father:
        ns_reaper = K.init_task
    if father.signal.has_child_subreaper:
        p = father.real_parent
        while p is not None and p is not K.init_task and p is not ns_reaper:
            if p.signal.is_child_subreaper and not p.signal.flags & SIGNAL_GROUP_EXIT:
                for t in p.signal.threads:
                    if not t.flags & PF_EXITING:
                        return t
            p = p.real_parent
    return ns_reaper


def forget_original_parent(father: task_struct) -> list[task_struct]:
    """Reparent father's children; returns those that may be reaped now."""
    if not father.children:
        return []
    reaper = find_new_reaper(father)
    dead = []
    for p in list(father.children):
        father.children.remove(p)
        for t in p.signal.threads:    # the group's threads have its parent
            t.real_parent = t.parent = reaper
        reaper.children.append(p)
        if p.exit_state == EXIT_ZOMBIE and p.thread_group_leader and not p.signal.threads[1:]:
            # A zombie that now belongs to someone else: tell them.
            if do_notify_parent(p, p.exit_signal):
                p.exit_state = EXIT_DEAD
                dead.append(p)
        if p.exit_state != EXIT_DEAD:
            kill_orphaned_pgrp(p, father)   # reparent_leader
    return dead


def wait_status_to_cld(status: int) -> tuple[int, int]:
    if status == 0xFFFF:
        return CLD_CONTINUED, SIGCONT
    if status & 0xFF == 0x7F:
        return CLD_STOPPED, (status >> 8) & 0xFF
    if status & 0x7F:
        return (CLD_DUMPED if status & 0x80 else CLD_KILLED), status & 0x7F
    return CLD_EXITED, (status >> 8) & 0xFF


def do_notify_parent(tsk: task_struct, sig: int) -> bool:
    """Tell tsk's parent it died.  Returns True if the parent does not
    want it (SIGCHLD ignored / SA_NOCLDWAIT, or init): autoreap."""
    K = state.K
    parent = tsk.parent
    code, status = wait_status_to_cld(tsk.exit_code)
    autoreap = False
    if parent is K.init_task:
        # init reaps every child it gets; it keeps the main guest's status.
        if tsk is K.main_task:
            K.main_status = tsk.exit_code
        return True
    psig = parent.sighand.action[SIGCHLD]
    if sig == SIGCHLD and (psig.handler == SIG_IGN or psig.flags & SA_NOCLDWAIT):
        autoreap = True
        if psig.handler == SIG_IGN:
            sig = 0
    if 0 < sig <= _NSIG:              # valid_signal: clone's exit signal is not checked
        from .sched.cputime import clock_t_of, thread_group_cputime
        ut, st = thread_group_cputime(tsk.signal)
        info = kernel_siginfo(sig, code, pid=task_pid_nr_ns(tsk, task_active_pid_ns(parent)),
                              uid=current_uid(), status=status,
                              utime=clock_t_of(ut), stime=clock_t_of(st))
        send_signal(sig, parent, info, True)
    wake_up(parent.signal.wait_chldexit)
    return autoreap


def exit_notify(tsk: task_struct, group_dead: bool) -> None:
    ns = tsk.pid_ns
    ns_init_dies = group_dead and ns is not None and ns.child_reaper is not None \
        and ns.child_reaper.signal is tsk.signal
    if ns_init_dies:
        zap_pid_ns_processes(ns)       # every other task of the namespace: SIGKILL
    dead = forget_original_parent(tsk)
    if group_dead:
        kill_orphaned_pgrp(tsk.group_leader, None)
    if tsk.thread_group_leader:
        if ns_init_dies and ns_others_alive(ns):
            autoreap = False  # a zombie told of when the namespace is empty
        elif group_dead:
            if ns_init_dies:
                ns.reaper_waiting = False
            autoreap = do_notify_parent(tsk, tsk.exit_signal)
        else:
            autoreap = False  # delay_group_leader: zombie until the group is empty
    else:
        autoreap = True
    tsk.exit_state = EXIT_DEAD if autoreap else EXIT_ZOMBIE
    if autoreap:
        dead.append(tsk)
    for p in dead:
        release_task(p)
    gx = tsk.signal.group_exit_task
    if gx is not None and gx is not tsk:
        from .sched.core import wake_up_process
        wake_up_process(gx)            # de_thread counts the threads left


def release_task(p: task_struct) -> None:
    """Unlink a dead task and free its pid.  If it was the last thread of
    a group whose leader is a zombie, the leader's parent is told now."""
    K = state.K
    if p.parent is not None and p in p.parent.children:
        p.parent.children.remove(p)
    sig = p.signal
    leader = p.group_leader
    if p in sig.threads:
        sig.threads.remove(p)
        sig.nr_threads -= 1
    free_pid(p)
    p.exit_state = EXIT_DEAD
    exit_signal_cputime(p)
    # __exit_signal: its queued signals go, and the group's with the leader.
    flush_sigqueue(p)
    if p.thread_group_leader:
        flush_sigqueue(sig)
    if K.listeners:
        K.emit("release", task=p)
    if leader is not p and leader.exit_state == EXIT_ZOMBIE and sig.nr_threads == 1 \
            and not pidns_init_waits(leader):
        if do_notify_parent(leader, leader.exit_signal):
            release_task(leader)
    # The last task of a namespace whose init died: the init's parent
    # hears of it now (what zap_pid_ns_processes waited for).
    ns = p.pid_ns
    while ns is not None and ns.level:
        r = ns.child_reaper
        if r is not None and r.exit_state == EXIT_ZOMBIE and r is not p \
                and not ns_others_alive(ns) and r.signal.nr_threads <= 1 and ns.reaper_waiting:
            ns.reaper_waiting = False
            if do_notify_parent(r, r.exit_signal):
                release_task(r)
        ns = ns.parent


def pidns_init_waits(p: task_struct) -> bool:
    """p is a dead namespace init whose namespace still has tasks: not
    to be reaped yet."""
    ns = p.pid_ns
    return (ns is not None and ns.child_reaper is p and not ns.adding
            and ns_others_alive(ns))


# --- wait --------------------------------------------------------------------

def eligible_child(p: task_struct, which: int, upid: int, options: int) -> bool:
    if which == P_PID and task_pid_vnr(p) != upid:
        return False
    if which == P_PGID and p.signal.pgrp != upid:
        return False
    if options & __WALL:
        return True
    # __WCLONE selects children whose exit signal is not SIGCHLD.
    return bool(options & __WCLONE) == (p.exit_signal != SIGCHLD)


def do_wait(which: int, upid: int, options: int, report, finish=lambda r: r) -> int:
    """Wait for a child as wait4/waitid select it; `report(p, status)`
    stores the result in user memory.  Returns finish(pid of the child),
    finish(0) for WNOHANG with nothing to report.  May sleep: the same
    steps then run again when a child changes state."""
    tsk = current()

    def attempt() -> int:
        found = False
        groups = [tsk] if options & __WNOTHREAD else list(tsk.signal.threads)
        for t in groups:
            for p in list(t.children):
                if not p.thread_group_leader or not eligible_child(p, which, upid, options):
                    continue
                found = True
                if p.exit_state == EXIT_ZOMBIE and len(p.signal.threads) <= 1 \
                        and not pidns_init_waits(p):
                    # (a leader with live threads is not reaped yet)
                    if not options & WEXITED:
                        continue
                    status = p.exit_code
                    pid = task_pid_vnr(p)
                    # Reap first, then copy out: a bad status pointer
                    # fails with EFAULT but the child is gone (kernel_wait4).
                    if not options & WNOWAIT:
                        account_reaped_child(tsk, p)
                        release_task(p)
                    report(p, status)
                    return finish(pid)
                status = wait_task_stopped(p, options) or wait_task_continued(p, options)
                if status:
                    report(p, status)
                    return finish(task_pid_vnr(p))
        if not found:
            raise Errno(ECHILD)
        if options & WNOHANG:
            return finish(0)
        raise BlockOn([tsk.signal.wait_chldexit], attempt)

    return attempt()



@syscall("wait4")
def sys_wait4(upid: pid_t, stat_addr: UPtr, options: c_int, ru: UPtr) -> int:
    if options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL):
        raise Errno(EINVAL)
    if upid == -(1 << 31):
        raise Errno(3)  # ESRCH: INT_MIN has no process group
    if upid == -1:
        which, pid = P_ALL, 0
    elif upid < 0:
        which, pid = P_PGID, pid_global_of_vnr(-upid)
    elif upid == 0:
        which, pid = P_PGID, current().signal.pgrp
    else:
        which, pid = P_PID, upid

    def report(p: task_struct, status: int) -> None:
        if stat_addr:
            put_user_s32(stat_addr, status)
        if ru:
            copy_to_user(ru, k_getrusage(p, RUSAGE_BOTH))

    return do_wait(which, pid, options | WEXITED, report)


@syscall("waitid")
def sys_waitid(which: c_int, upid: pid_t, infop: UPtr, options: c_int, ru: UPtr) -> int:
    if options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL):
        raise Errno(EINVAL)
    if not options & (WEXITED | WSTOPPED | WCONTINUED):
        raise Errno(EINVAL)
    if which == P_ALL:
        pid = 0
    elif which == P_PID:
        if upid <= 0:
            raise Errno(EINVAL)
        pid = upid
    elif which == P_PGID:
        if upid < 0:
            raise Errno(EINVAL)
        pid = pid_global_of_vnr(upid) if upid else current().signal.pgrp
    else:
        raise Errno(EINVAL)

    def report(p: task_struct, status: int) -> None:
        code, st = wait_status_to_cld(status)
        if infop:
            info = struct.pack("<iiii iIi", SIGCHLD, 0, code, 0, task_pid_vnr(p), 0, st)
            copy_to_user(infop, info + bytes(128 - len(info)))
        if ru:
            copy_to_user(ru, k_getrusage(p, RUSAGE_BOTH))

    def finish(pid: int) -> int:
        if pid == 0 and infop:
            copy_to_user(infop, bytes(128))   # WNOHANG, nothing: si_pid = 0
        return 0

    return do_wait(which, pid, options, report, finish)


@syscall("exit")
def sys_exit(error_code: c_int) -> None:
    do_exit((error_code & 0xFF) << 8)


@syscall("exit_group")
def sys_exit_group(error_code: c_int) -> None:
    do_group_exit((error_code & 0xFF) << 8)


def de_thread(tsk: task_struct, cont):
    """execve from a multi-threaded process (fs/exec.c de_thread): kill
    every other thread, sleep until they are gone, and if tsk is not the
    leader, take over the leader's pid and place in the process tree, so
    the program after exec has pid == tgid and the same parent.  Then
    returns cont().  Another thread already ending the group: EAGAIN."""
    from .sched.wait import BlockOn
    sig = tsk.signal
    if sig.flags & SIGNAL_GROUP_EXIT or sig.group_exit_task not in (None, tsk):
        raise Errno(EAGAIN)
    sig.group_exit_task = tsk          # do_group_exit: the others exit alone
    zap_other_threads(tsk)

    def wait_others():
        # exit_notify wakes us as each one goes; the leader stays as a
        # zombie (delay_group_leader) and is ours to release.
        for t in sig.threads:
            if t is not tsk and not (t is tsk.group_leader and t.exit_state):
                # Killable, as Linux waits here: a handled signal does not
                # cut the exec short (and leave group_exit_task set).
                raise BlockOn([], wait_others, interruptible=False, killable=True)
        if not tsk.thread_group_leader:
            exchange_leader(tsk, tsk.group_leader)
        sig.group_exit_task = None
        return cont()

    return wait_others()


def exchange_leader(tsk: task_struct, leader: task_struct) -> None:
    """de_thread's second half: tsk becomes the group leader, with the
    leader's pid (the tgid), parent and exit signal; the old leader, a
    zombie, is released under tsk's old tid."""
    K = state.K
    exchange_pids(tsk, leader)
    tsk.real_parent, tsk.parent = leader.real_parent, leader.parent
    tsk.exit_signal, leader.exit_signal = leader.exit_signal, -1
    tsk.start_time = leader.start_time
    siblings = leader.parent.children
    siblings[siblings.index(leader)] = tsk
    tsk.group_leader = leader.group_leader = tsk
    tsk.signal.threads.remove(tsk)
    tsk.signal.threads.insert(0, tsk)
    if leader is K.main_task:
        K.main_task = tsk
    if tsk.pid_ns is not None and tsk.pid_ns.child_reaper is leader:
        tsk.pid_ns.child_reaper = tsk  # a namespace's init exec'd from a thread
    leader.parent = None               # release_task: not in anyone's children
    release_task(leader)
