"""memfd_create (mm/memfd.c): an anonymous file in memory, a node of the
overlay that no directory names.  Its pages are an overlay file's
(read/write, mmap shared or private through mm/filemap.py); /proc/self/fd
shows "/memfd:NAME (deleted)" as on Linux.  Sealing (F_ADD_SEALS) is not
modelled: MFD_ALLOW_SEALING is accepted."""
from __future__ import annotations

from ..panic import Errno
from ..syscalls import syscall
from ..types import UPtr, c_uint
from ..uapi import EINVAL, ENAMETOOLONG, O_LARGEFILE, O_RDWR, S_IFREG
from .uaccess import strncpy_from_user

MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB = 1, 2, 4
MFD_NOEXEC_SEAL, MFD_EXEC = 8, 0x10
MFD_NAME_MAX_LEN = 249          # NAME_MAX - strlen("memfd:")


def _overlay_node():
    """A new, unnamed overlay node (the class lives with the overlay)."""
    try:
        from ..fs.overlay import OverlayNode   # type: ignore[import-not-found]
    except ImportError:
        from ..fs.namei import OverlayNode
    return OverlayNode(mode=S_IFREG | 0o777)


@syscall("memfd_create", note="sealing not modelled; MFD_HUGETLB is EINVAL (no hugetlbfs)")
def sys_memfd_create(uname: UPtr, flags: c_uint) -> int:
    from ..fs.file import fd_install_new, file
    from ..fs.namei import overlay
    from ..fs.open import OverlayOps
    if flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC) or \
            (flags & MFD_EXEC and flags & MFD_NOEXEC_SEAL):
        raise Errno(EINVAL)
    try:
        name = strncpy_from_user(uname, MFD_NAME_MAX_LEN + 1)
    except Errno as e:
        if e.errno == ENAMETOOLONG:
            raise Errno(EINVAL) from None
        raise
    node = _overlay_node()
    ov = overlay()
    ov.next_ino += 1
    node.ino = ov.next_ino
    path = "/memfd:" + name.decode("utf-8", "surrogateescape") + " (deleted)"
    f = file(OverlayOps(), O_RDWR | O_LARGEFILE, node, path=path)
    return fd_install_new(f, bool(flags & MFD_CLOEXEC))
