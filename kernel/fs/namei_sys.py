"""The calls that make, remove and rename names (fs/namei.c): mkdir,
rmdir, unlink, link, symlink, mknod, rename and their *at forms.  Every
change lands in the overlay (kernel/fs/overlay.py); the host is never
written.  The checks follow fs/namei.c's order, so the errno is Linux's
when several apply."""
from __future__ import annotations

import os

from .. import state
from ..mm.uaccess import strncpy_from_user
from ..panic import Errno
from ..percpu import current
from ..syscalls import syscall
from ..types import UPtr, c_int, c_uint
from ..uapi import (
    AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, EBUSY, EEXIST, EINVAL, EISDIR,
    ENOENT, ENOTDIR, ENOTEMPTY, EPERM, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT,
    S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
)
from .namei import guest_abspath, host_path
from .overlay import (
    children, copy_up, current_time, install, move_tree, new_node, overlay, ovl_stat,
    parent_of, remove,
)


def _path(uaddr: int) -> str:
    path = strncpy_from_user(uaddr).decode("utf-8", "surrogateescape")
    if not path:
        raise Errno(ENOENT)
    return path


def _last(path: str) -> str:
    """The last component as written ("" for "/")."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def _slash(path: str) -> bool:
    """A trailing slash: the name must be a directory."""
    return path.endswith("/") and path.strip("/") != ""


def _try_stat(g: str) -> dict | None:
    try:
        return ovl_stat(g)
    except Errno:
        return None


def _is_dir(st: dict) -> bool:
    return st["mode"] & S_IFMT == S_IFDIR


def lookup_parent(dfd: int, path: str) -> str:
    """The canonical path `path` names, the last component unresolved
    (lookups for create/remove): its directory must exist (ENOENT) and
    be a directory (ENOTDIR)."""
    g = guest_abspath(dfd, path, follow=False)
    pst = _try_stat(parent_of(g))
    if pst is None:
        raise Errno(ENOENT)
    if not _is_dir(pst):
        raise Errno(ENOTDIR)
    return g


def _is_mountpoint(g: str) -> bool:
    if g == "/":
        return True
    try:
        return os.path.ismount(host_path(g)) and g not in overlay().files
    except Errno:
        return False


# --- mkdir, mknod, symlink, link ------------------------------------------

def do_mkdirat(dfd: int, path: str, mode: int) -> int:
    g = lookup_parent(dfd, path)
    if _last(path) in (".", "..") or _try_stat(g) is not None:
        raise Errno(EEXIST)
    install(g, new_node(S_IFDIR | (mode & 0o1777 & ~current().fs.umask)))
    return 0


@syscall("mkdir")
def sys_mkdir(pathname: UPtr, mode: c_uint) -> int:
    return do_mkdirat(AT_FDCWD, _path(pathname), mode)


@syscall("mkdirat")
def sys_mkdirat(dfd: c_int, pathname: UPtr, mode: c_uint) -> int:
    return do_mkdirat(dfd, _path(pathname), mode)


def do_mknodat(dfd: int, path: str, mode: int, dev: int) -> int:
    kind = mode & S_IFMT or S_IFREG
    if kind == S_IFDIR:
        raise Errno(EPERM)
    if kind not in (S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK):
        raise Errno(EINVAL)
    g = lookup_parent(dfd, path)
    if _try_stat(g) is not None or _last(path) in (".", ".."):
        raise Errno(EEXIST)
    if _slash(path):
        raise Errno(ENOENT)
    rdev = dev if kind in (S_IFCHR, S_IFBLK) else 0
    install(g, new_node(kind | (mode & 0o7777 & ~current().fs.umask), rdev=rdev))
    return 0


@syscall("mknod")
def sys_mknod(filename: UPtr, mode: c_uint, dev: c_uint) -> int:
    return do_mknodat(AT_FDCWD, _path(filename), mode, dev)


@syscall("mknodat")
def sys_mknodat(dfd: c_int, filename: UPtr, mode: c_uint, dev: c_uint) -> int:
    return do_mknodat(dfd, _path(filename), mode, dev)


def do_symlinkat(target: str, dfd: int, path: str) -> int:
    g = lookup_parent(dfd, path)
    if _try_stat(g) is not None or _last(path) in (".", ".."):
        raise Errno(EEXIST)
    if _slash(path):
        raise Errno(ENOENT)
    install(g, new_node(S_IFLNK | 0o777, target=target.encode("utf-8", "surrogateescape")))
    return 0


@syscall("symlink")
def sys_symlink(oldname: UPtr, newname: UPtr) -> int:
    return do_symlinkat(_path(oldname), AT_FDCWD, _path(newname))


@syscall("symlinkat")
def sys_symlinkat(oldname: UPtr, newdfd: c_int, newname: UPtr) -> int:
    return do_symlinkat(_path(oldname), newdfd, _path(newname))


def do_linkat(olddfd: int, old: str, newdfd: int, new: str, flags: int) -> int:
    if flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH):
        raise Errno(EINVAL)
    go = guest_abspath(olddfd, old, follow=bool(flags & AT_SYMLINK_FOLLOW))
    sst = ovl_stat(go)
    gn = lookup_parent(newdfd, new)
    if _try_stat(gn) is not None:
        raise Errno(EEXIST)
    if _is_dir(sst):
        raise Errno(EPERM)
    if _slash(old) or _slash(new):
        raise Errno(ENOENT if _slash(new) else ENOTDIR)
    node = copy_up(go)
    node.nlink += 1
    node.ctime = current_time()
    install(gn, node)
    return 0


@syscall("link")
def sys_link(oldname: UPtr, newname: UPtr) -> int:
    return do_linkat(AT_FDCWD, _path(oldname), AT_FDCWD, _path(newname), 0)


@syscall("linkat")
def sys_linkat(olddfd: c_int, oldname: UPtr, newdfd: c_int, newname: UPtr, flags: c_int) -> int:
    return do_linkat(olddfd, _path(oldname), newdfd, _path(newname), flags)


# --- unlink, rmdir ----------------------------------------------------------

def do_rmdir(dfd: int, path: str) -> int:
    last = _last(path)
    if last == ".":
        raise Errno(EINVAL)
    if last == "..":
        raise Errno(ENOTEMPTY)
    g = guest_abspath(dfd, path, follow=False)
    st = ovl_stat(g)
    if not _is_dir(st):
        raise Errno(ENOTDIR)
    if _is_mountpoint(g):
        raise Errno(EBUSY)
    if next(children(g), None) is not None:
        raise Errno(ENOTEMPTY)
    remove(g)
    return 0


def do_unlinkat(dfd: int, path: str) -> int:
    g = guest_abspath(dfd, path, follow=False)
    st = ovl_stat(g)
    if _is_dir(st):
        raise Errno(EISDIR)
    if _slash(path):
        raise Errno(ENOTDIR)
    remove(g)
    return 0


@syscall("unlink")
def sys_unlink(pathname: UPtr) -> int:
    return do_unlinkat(AT_FDCWD, _path(pathname))


@syscall("rmdir")
def sys_rmdir(pathname: UPtr) -> int:
    return do_rmdir(AT_FDCWD, _path(pathname))


@syscall("unlinkat")
def sys_unlinkat(dfd: c_int, pathname: UPtr, flag: c_int) -> int:
    if flag & ~AT_REMOVEDIR:
        raise Errno(EINVAL)
    if flag & AT_REMOVEDIR:
        return do_rmdir(dfd, _path(pathname))
    return do_unlinkat(dfd, _path(pathname))


# --- rename -----------------------------------------------------------------

def _inside(g: str, d: str) -> bool:
    return g.startswith(d.rstrip("/") + "/")


def do_renameat2(olddfd: int, old: str, newdfd: int, new: str, flags: int) -> int:
    if flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT):
        raise Errno(EINVAL)
    if flags & RENAME_NOREPLACE and flags & RENAME_EXCHANGE or flags & RENAME_WHITEOUT:
        raise Errno(EINVAL)            # whiteouts are overlayfs's own, not a guest's
    exchange = bool(flags & RENAME_EXCHANGE)
    if _last(old) in (".", "..", "") or _last(new) in (".", "..", ""):
        raise Errno(EBUSY)
    go = lookup_parent(olddfd, old)
    gn = lookup_parent(newdfd, new)
    sst = _try_stat(go)
    if sst is None:
        raise Errno(ENOENT)
    dst = _try_stat(gn)
    if flags & RENAME_NOREPLACE and dst is not None:
        raise Errno(EEXIST)
    if exchange:
        if dst is None:
            raise Errno(ENOENT)
        if not _is_dir(dst) and _slash(new):
            raise Errno(ENOTDIR)
    if not _is_dir(sst) and (_slash(old) or not exchange and _slash(new)):
        raise Errno(ENOTDIR)
    if _inside(gn, go):
        raise Errno(EINVAL)            # a directory into itself
    if _inside(go, gn):
        raise Errno(EINVAL if exchange else ENOTEMPTY)
    ov = overlay()
    if go == gn or (dst is not None and ov.files.get(go) is not None
                    and ov.files.get(go) is ov.files.get(gn)):
        return 0                       # the same entry, or two links to one node
    if dst is not None and not exchange:
        if _is_dir(sst) and not _is_dir(dst):
            raise Errno(ENOTDIR)
        if not _is_dir(sst) and _is_dir(dst):
            raise Errno(EISDIR)
        if _is_mountpoint(go) or _is_mountpoint(gn):
            raise Errno(EBUSY)
        if _is_dir(dst) and next(children(gn), None) is not None:
            raise Errno(ENOTEMPTY)
        remove(gn)
    elif _is_mountpoint(go) or exchange and _is_mountpoint(gn):
        raise Errno(EBUSY)
    if exchange:
        tmp = "/\0exchange"
        move_tree(go, tmp)
        move_tree(gn, go)
        move_tree(tmp, gn)
        ov.deleted.discard(tmp)
        _follow_rename(go, tmp)
        _follow_rename(gn, go)
        _follow_rename(tmp, gn)
    else:
        move_tree(go, gn)
        _follow_rename(go, gn)
    return 0


def _follow_rename(old: str, new: str) -> None:
    """Working directories and open files under a renamed path follow it
    (they hold the directory itself in Linux, not its name)."""
    pre = old.rstrip("/") + "/"
    for t in state.K.tasks.values():
        fs = t.fs
        if fs is not None and (fs.cwd == old or fs.cwd.startswith(pre)):
            fs.cwd = new + fs.cwd[len(old):]
        files = t.files
        for f in (files.fd if files is not None else ()):
            if f is not None and (f.path == old or f.path.startswith(pre)):
                f.path = new + f.path[len(old):]


@syscall("rename")
def sys_rename(oldname: UPtr, newname: UPtr) -> int:
    return do_renameat2(AT_FDCWD, _path(oldname), AT_FDCWD, _path(newname), 0)


@syscall("renameat")
def sys_renameat(olddfd: c_int, oldname: UPtr, newdfd: c_int, newname: UPtr) -> int:
    return do_renameat2(olddfd, _path(oldname), newdfd, _path(newname), 0)


@syscall("renameat2")
def sys_renameat2(olddfd: c_int, oldname: UPtr, newdfd: c_int, newname: UPtr,
                  flags: c_uint) -> int:
    return do_renameat2(olddfd, _path(oldname), newdfd, _path(newname), flags)
