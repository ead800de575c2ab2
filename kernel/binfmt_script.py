"""`#!` scripts (fs/binfmt_script.c): the first line names an interpreter
and at most one argument; the interpreter is exec'd instead, with the
script's path in place of argv[0]."""
from __future__ import annotations

import re

from .panic import Errno
from .uapi import ENOEXEC

BINPRM_BUF_SIZE = 256


def is_script(data: bytes) -> bool:
    return data[:2] == b"#!"


def parse_shebang(data: bytes) -> tuple[bytes, bytes | None]:
    """(interpreter, optional argument) from the `#!` line, as
    load_script reads it: within the first BINPRM_BUF_SIZE bytes, blanks
    (space, tab) around the name, everything after the name up to the end
    of the line (trailing blanks stripped) is the one argument.  A line
    without a newline that fills the buffer is ENOEXEC unless the name
    ended inside it; an empty name is ENOEXEC."""
    buf = data[2:BINPRM_BUF_SIZE]
    nl = buf.find(b"\n")
    if nl < 0:
        line = buf
        # No newline in the buffer: the name must end inside it.
        stripped = line.lstrip(b" \t")
        if len(data) >= BINPRM_BUF_SIZE and not any(c in stripped for c in b" \t"):
            raise Errno(ENOEXEC)
    else:
        line = buf[:nl]
    m = re.match(rb"[ \t]*([^ \t]+)[ \t]*(.*?)[ \t]*$", line, re.S)
    if m is None:
        raise Errno(ENOEXEC)
    return m.group(1), (m.group(2) or None)
