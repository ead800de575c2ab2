"""execve: replace the current task's program (fs/exec.c).  The new mm is
built completely before the old one is dropped, so a failure leaves the
caller running its old program with an errno."""
from __future__ import annotations

import os
from functools import partial

from .cred import MAY_EXEC, cap_bprm_creds, cred, generic_permission
from . import state
from .binfmt_elf import ElfImage, ExecFormatError, create_elf_tables, load_segments, parse_elf
from .fs.hosterr import host_errno
from .fs.inode import Inode, iget_host, keep_warm
from .fs.namei import guest_abspath, host_path, overlay
from .mm.mmap import new_mm, stack_layout
from .mm.uaccess import get_user_ptr_array, strncpy_from_user
from .panic import Errno, OutOfMemory
from .percpu import current, this_cpu
from .sched.wait import wake_up
from .syscalls import syscall
from .task import PF_FORKNOEXEC, SIG_DEFAULT_ACTION, k_sigaction, sighand_struct, task_struct
from .types import UPtr, c_int
from .uapi import E2BIG, EACCES, ENAMETOOLONG, ENOEXEC, ENOMEM, RLIMIT_STACK, SIG_IGN

SIG_IGNORE_ACTION = k_sigaction(SIG_IGN)
MAX_ARG_STRLEN = 32 * 4096
ARG_MAX = 32 * 4096
_STK_LIM = 8 << 20


def arg_limit(rlim_stack: int) -> int:
    """Bytes argv and envp may take, strings and pointers together
    (bprm_stack_limits): a quarter of the stack limit, at most 3/4 of
    _STK_LIM, at least ARG_MAX."""
    return max(min(_STK_LIM // 4 * 3, rlim_stack // 4), ARG_MAX)


def open_exec(gpath: str) -> tuple[Inode, ElfImage]:
    """The checks an exec may fail without harming the caller: the file
    exists, is executable and is an ELF program we can load (the
    arguments were checked as they were copied).  Raises Errno or
    ExecFormatError."""
    if gpath in overlay().files:
        raise Errno(EACCES)   # overlay files are never executable
    hp = host_path(gpath)
    try:
        st = os.stat(hp)
        if not os.path.isfile(hp):
            raise Errno(EACCES)
        if not generic_permission(st.st_mode, st.st_uid, st.st_gid, MAY_EXEC):
            raise Errno(EACCES)
        ino = iget_host(hp)
    except OSError as e:
        raise host_errno(e) from None
    return ino, parse_elf(ino.data)


def bprm_creds(tsk: task_struct, gpath: str) -> tuple[cred, bool]:
    """The new program's credentials and AT_SECURE: its set-id bits and
    the capability rules of exec (kernel/cred.py: cap_bprm_creds)."""
    try:
        st = os.stat(host_path(gpath))
    except OSError as e:
        raise host_errno(e) from None
    return cap_bprm_creds(tsk.cred, st.st_uid, st.st_gid, st.st_mode)


def exec_binprm(tsk: task_struct, gpath: str, ino: Inode, img: ElfImage,
                argv: list[bytes], envp: list[bytes]) -> None:
    """Load the program open_exec checked into a fresh mm and make it
    tsk's.  On return tsk.entry holds (rip, rsp) for the new program.
    Raises Errno(ENOMEM) with tsk untouched."""
    K = state.K
    mm = new_mm(K.alloc, K.machine.kernel_pml4e, K.tlb_flush_mm)
    mm.mmap_base, stack_size = stack_layout(tsk.signal.rlim[RLIMIT_STACK][0])
    try:
        bias = load_segments(mm, ino, img)
        rnd = bytes(K.rng.getrandbits(8) for _ in range(16))
        new_cred, secure = bprm_creds(tsk, gpath)
        ids = (new_cred.uid, new_cred.euid, new_cred.gid, new_cred.egid, secure)
        sp = create_elf_tables(mm, img, bias, argv, envp, gpath.encode(), rnd, ids,
                               stack_size)
    except OutOfMemory:
        mm.exit_mmap()
        raise Errno(ENOMEM) from None
    except BaseException:
        mm.exit_mmap()
        raise
    mm.exe_file = ino.get()
    mm.exe_path = gpath
    keep_warm(ino)
    # Point of no return: drop the old program.
    old = tsk.mm
    if old is not None:
        from .exit import drop_mm_lazily
        drop_mm_lazily(this_cpu(), tsk, old)
    if tsk.vfork_done is not None:
        wake_up(tsk.vfork_done)      # the vfork parent may run again
        tsk.vfork_done = None
    tsk.mm = tsk.active_mm = mm
    tsk.entry = (img.entry + bias, sp)
    tsk.comm = os.path.basename(gpath)[:15]
    tsk.flags &= ~PF_FORKNOEXEC
    tsk.cred = new_cred
    tsk.clear_child_tid = 0
    tsk.robust_list = 0
    if tsk.files is not None:
        tsk.files.close_on_exec()
    from .time.posix_timers import exit_itimers
    exit_itimers(tsk.signal)        # POSIX timers go; itimers and alarm stay
    # flush_signal_handlers: caught signals are reset to the default,
    # ignored ones stay ignored; flags, mask and restorer are cleared.  The
    # alternate stack is forgotten (its flags stay).
    tsk.sas_ss_sp = tsk.sas_ss_size = 0
    if tsk.sighand.count > 1:
        # unshare_sighand: handlers shared by CLONE_SIGHAND with another
        # process stay theirs; the new program gets its own copy.
        tsk.sighand.count -= 1
        tsk.sighand = sighand_struct(action=list(tsk.sighand.action))
    action = tsk.sighand.action
    for i, ka in enumerate(action):
        if ka is not SIG_DEFAULT_ACTION:
            action[i] = SIG_IGNORE_ACTION if ka.handler == SIG_IGN else SIG_DEFAULT_ACTION
    K.counters["execs"] += 1
    if K.listeners:
        K.emit("exec", task=tsk, path=gpath, argv=argv, envc=len(envp))


def copy_strings(ptrs: list[int], total: int, limit: int) -> tuple[list[bytes], int]:
    """The strings at `ptrs` (argv or envp) and the new running total of
    bytes (a pointer each included).  E2BIG as soon as the total passes
    `limit` (arg_limit) or one string MAX_ARG_STRLEN: the same 100 KiB
    string passed 60000 times never becomes gigabytes in the kernel."""
    out = []
    for p in ptrs:
        try:
            arg = strncpy_from_user(p, MAX_ARG_STRLEN)
        except Errno as e:
            if e.errno == ENAMETOOLONG:
                raise Errno(E2BIG) from None
            raise
        total += len(arg) + 1 + 8
        if total > limit:
            raise Errno(E2BIG)
        out.append(arg)
    return out, total


def do_execveat(fd: int, filename: int, argv_p: int, envp_p: int, flags: int) -> None:
    tsk = current()
    path = strncpy_from_user(filename).decode("utf-8", "surrogateescape")
    limit = arg_limit(tsk.signal.rlim[RLIMIT_STACK][0])
    argv, total = copy_strings(get_user_ptr_array(argv_p) if argv_p else [], 0, limit)
    envp, _total = copy_strings(get_user_ptr_array(envp_p) if envp_p else [], total, limit)
    gpath = guest_abspath(fd, path)
    try:
        ino, img = open_exec(gpath)
    except ExecFormatError:
        raise Errno(ENOEXEC) from None

    load = partial(exec_binprm, tsk, gpath, ino, img, argv, envp)
    if tsk.signal.nr_threads > 1:
        from .exit import de_thread
        return de_thread(tsk, load)   # may sleep until the other threads are gone
    return load()


@syscall("execve")
def sys_execve(filename: UPtr, argv: UPtr, envp: UPtr) -> None:
    return do_execveat(-100, filename, argv, envp, 0)


@syscall("execveat")
def sys_execveat(fd: c_int, filename: UPtr, argv: UPtr, envp: UPtr, flags: c_int) -> None:
    return do_execveat(fd, filename, argv, envp, flags)
