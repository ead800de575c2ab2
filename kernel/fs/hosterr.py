"""Host OSError -> guest Errno, by the error's name (the host's numbers
are not assumed to be Linux's)."""
from __future__ import annotations

import errno as host_errno_mod

from .. import uapi
from ..panic import Errno


def host_errno(e: OSError) -> Errno:
    name = host_errno_mod.errorcode.get(e.errno or 0, "EIO")
    return Errno(getattr(uapi, name, uapi.EIO))
