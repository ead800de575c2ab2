"""execve: replace the current task's program (fs/exec.c).  The new mm is
built completely before the old one is dropped, so a failure leaves the
caller running its old program with an errno."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial

from .cred import MAY_EXEC, cap_bprm_creds, cred, generic_permission
from . import state
from .binfmt_elf import (
    ElfImage, ExecFormatError, create_elf_tables, interp_bias, load_segments, parse_elf,
    program_bias,
)
from .binfmt_script import is_script, parse_shebang
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
from .uapi import (
    AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, E2BIG, EACCES, EINVAL, ELIBBAD, ELOOP,
    ENAMETOOLONG, ENOENT, ENOEXEC, ENOMEM, RLIMIT_STACK, SIG_IGN,
)

SIG_IGNORE_ACTION = k_sigaction(SIG_IGN)
MAX_ARG_STRLEN = 32 * 4096
ARG_MAX = 32 * 4096
_STK_LIM = 8 << 20


def arg_limit(rlim_stack: int) -> int:
    """Bytes argv and envp may take, strings and pointers together
    (bprm_stack_limits): a quarter of the stack limit, at most 3/4 of
    _STK_LIM, at least ARG_MAX."""
    return max(min(_STK_LIM // 4 * 3, rlim_stack // 4), ARG_MAX)


BINPRM_MAX_RECURSION = 4   # scripts whose interpreter is a script, ...


class InterpreterMissing(Errno):
    """ENOENT because the interpreter a program or script names is not
    there (the CLI says which, with status 127)."""

    def __init__(self, interp: str) -> None:
        super().__init__(ENOENT)
        self.interp = interp


@dataclass(eq=False)
class linux_binprm:
    """An exec in preparation: everything checked and read before the
    point of no return.  `filename` is the path as the caller gave it
    (AT_EXECFN; a script's path in its interpreter's argv), `gpath` its
    canonical form (comm); `exe` the ELF file that is loaded (the script
    interpreter's, for a script), `interp` the ELF interpreter (ld.so)."""
    filename: str
    gpath: str
    argv: list
    exe: str = ""
    ino: Inode | None = None
    img: ElfImage | None = None
    interp: tuple[Inode, ElfImage] | None = None


def open_exec(gpath: str) -> Inode:
    """The file at canonical guest path `gpath`, if it may be executed:
    it exists, is a regular file with an execute bit.  Raises Errno."""
    if gpath in overlay().files:
        raise Errno(EACCES)   # overlay files are never executable
    hp = host_path(gpath)
    try:
        st = os.stat(hp)
        if not os.path.isfile(hp):
            raise Errno(EACCES)
        if not generic_permission(st.st_mode, st.st_uid, st.st_gid, MAY_EXEC):
            raise Errno(EACCES)
        return iget_host(hp)
    except OSError as e:
        raise host_errno(e) from None


def prepare_binprm(filename: str, gpath: str, argv: list[bytes]) -> linux_binprm:
    """Find the program to load for `gpath` (search_binary_handler): a
    `#!` script hands over to its interpreter (at most
    BINPRM_MAX_RECURSION deep, else ELOOP); an ELF program with PT_INTERP
    brings its interpreter, which must be a static ELF object (ELIBBAD
    otherwise).  Raises Errno, or ExecFormatError for an ELF file we
    cannot load (ENOEXEC, with the reason)."""
    bprm = linux_binprm(filename, gpath, list(argv))
    path = gpath
    for _depth in range(BINPRM_MAX_RECURSION + 1):
        ino = open_exec(path)
        if is_script(ino.data):
            name, arg = parse_shebang(ino.data)
            iname = name.decode("utf-8", "surrogateescape")
            # The script's argv[0] goes; its path follows the interpreter.
            bprm.argv = [name] + ([arg] if arg is not None else []) + [
                filename.encode("utf-8", "surrogateescape")] + bprm.argv[1:]
            path = guest_abspath(AT_FDCWD, iname)
            try:
                open_exec(path)
            except Errno as e:
                if e.errno == ENOENT:
                    raise InterpreterMissing(iname) from None
                raise
            continue
        img = parse_elf(ino.data)       # not ELF either: ENOEXEC
        bprm.exe, bprm.ino, bprm.img = path, ino, img
        if img.interp is not None:
            bprm.interp = load_interp(img.interp)
        return bprm
    raise Errno(ELOOP)


def load_interp(name: str) -> tuple[Inode, ElfImage]:
    """The ELF interpreter a program names (ld.so), looked up in the guest
    root: ENOENT when missing, ELIBBAD when it is not an ELF file for this
    machine or asks for an interpreter itself (Linux would jump into such
    a file unrelocated; refusing is clearer)."""
    ipath = guest_abspath(AT_FDCWD, name)
    try:
        ino = open_exec(ipath)
    except Errno as e:
        if e.errno == ENOENT:
            raise InterpreterMissing(name) from None
        raise
    try:
        img = parse_elf(ino.data)
    except ExecFormatError:
        raise Errno(ELIBBAD) from None
    if img.interp is not None:
        raise Errno(ELIBBAD)
    return ino, img


def bprm_creds(tsk: task_struct, gpath: str) -> tuple[cred, bool]:
    """The new program's credentials and AT_SECURE: its set-id bits and
    the capability rules of exec (kernel/cred.py: cap_bprm_creds)."""
    try:
        st = os.stat(host_path(gpath))
    except OSError as e:
        raise host_errno(e) from None
    return cap_bprm_creds(tsk.cred, st.st_uid, st.st_gid, st.st_mode)


def exec_binprm(tsk: task_struct, bprm: linux_binprm, envp: list[bytes]) -> None:
    """Load the program prepare_binprm checked into a fresh mm and make it
    tsk's.  On return tsk.entry holds (rip, rsp) for the new program (the
    interpreter's entry, if it has one).  Raises Errno(ENOMEM) with tsk
    untouched."""
    K = state.K
    ino, img = bprm.ino, bprm.img
    assert ino is not None and img is not None
    mm = new_mm(K.alloc, K.machine.kernel_pml4e, K.tlb_flush_mm)
    mm.mmap_base, stack_size = stack_layout(tsk.signal.rlim[RLIMIT_STACK][0])
    try:
        bias = program_bias(img)
        load_segments(mm, ino, img, bias)
        entry = img.entry + bias
        interp_base = 0
        if bprm.interp is not None:
            iino, iimg = bprm.interp
            ibias = interp_bias(mm, iimg)
            load_segments(mm, iino, iimg, ibias, main=False)
            interp_base = (iimg.segments[0].vaddr & ~0xFFF) + ibias
            entry = iimg.entry + ibias
        rnd = bytes(K.rng.getrandbits(8) for _ in range(16))
        new_cred, secure = bprm_creds(tsk, bprm.exe)
        ids = (new_cred.uid, new_cred.euid, new_cred.gid, new_cred.egid, secure)
        sp = create_elf_tables(mm, img, bias, interp_base, bprm.argv, envp,
                               bprm.filename.encode("utf-8", "surrogateescape"), rnd, ids,
                               stack_size)
    except OutOfMemory:
        mm.exit_mmap()
        raise Errno(ENOMEM) from None
    except BaseException:
        mm.exit_mmap()
        raise
    mm.exe_file = ino.get()
    mm.exe_path = bprm.exe
    keep_warm(ino)
    if bprm.interp is not None:
        keep_warm(bprm.interp[0])
    # Point of no return: drop the old program.
    old = tsk.mm
    if old is not None:
        from .exit import drop_mm_lazily
        drop_mm_lazily(this_cpu(), tsk, old)
    if tsk.vfork_done is not None:
        wake_up(tsk.vfork_done)      # the vfork parent may run again
        tsk.vfork_done = None
    tsk.mm = tsk.active_mm = mm
    tsk.entry = (entry, sp)
    tsk.comm = os.path.basename(bprm.gpath)[:15]
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
        K.emit("exec", task=tsk, path=bprm.gpath, argv=bprm.argv, envc=len(envp))


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
    if flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW):
        raise Errno(EINVAL)
    if not path:
        if not flags & AT_EMPTY_PATH:
            raise Errno(ENOENT)
        f = tsk.files.fget(fd)      # execveat(fd, "", AT_EMPTY_PATH): the open file
        gpath = f.path
        if not gpath.startswith("/"):
            raise Errno(EACCES)
        # The name Linux gives such a program: /dev/fd/N (AT_EXECFN, a script's argv).
        path = f"/dev/fd/{fd}"
    else:
        gpath = guest_abspath(fd, path, follow=not flags & AT_SYMLINK_NOFOLLOW)
        if flags & AT_SYMLINK_NOFOLLOW and gpath != guest_abspath(fd, path):
            raise Errno(ELOOP)      # the last component is a symlink
        if not path.startswith("/") and fd != AT_FDCWD:
            path = f"/dev/fd/{fd}/{path}"
    try:
        bprm = prepare_binprm(path, gpath, argv)
    except ExecFormatError:
        raise Errno(ENOEXEC) from None

    load = partial(exec_binprm, tsk, bprm, envp)
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
