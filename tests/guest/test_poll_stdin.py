"""A guest waiting on host stdin (fs/console.py): poll and read on a
pipe that a test writes slowly never block the emulator, and give what
they give natively.  busybox ash's `read` builtin polls its stdin."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from typing import Sequence

import pytest

from conftest import REPO, tinyunix_command

BUSYBOX = shutil.which("busybox")


def _feed(cmd: Sequence[str], chunks: Sequence[bytes], delay: float, timeout: float = 120.0):
    """Run cmd with a pipe as stdin, writing `chunks` `delay` seconds apart,
    then closing it.  Returns (stdout, stderr, status)."""
    r, w = os.pipe()
    p = subprocess.Popen(list(cmd), stdin=r, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=REPO, start_new_session=True)
    os.close(r)

    def writer() -> None:
        try:
            for c in chunks:
                time.sleep(delay)
                os.write(w, c)
        except BrokenPipeError:
            pass
        finally:
            os.close(w)
    t = threading.Thread(target=writer)
    t.start()
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"timed out: {cmd}\n{out!r}\n{err.decode(errors='replace')[-2000:]}")
    finally:
        t.join()
    return out, err, p.returncode


def _tinyunix(*args: str) -> list[str]:
    cmd = tinyunix_command()
    if cmd is None:
        pytest.skip("tinyunix is not built")
    return [*cmd, "run", "--check", "--timeout", "100", *args]


@pytest.mark.parametrize("how", ["poll", "epoll"])
def test_slow_stdin_poll(guests, how):
    """Lines arrive 0.2 s apart; the guest polls (or epoll_waits, edge-
    triggered) between them while its child keeps running; the same
    lines come out as natively."""
    prog = str(guests / "poll_stdin")
    chunks = [b"first line\nsec", b"ond line\n", b"third\n"]
    native = _feed([prog, how], chunks, 0.2)
    emulated = _feed(_tinyunix(prog, how), chunks, 0.2)
    assert emulated[0] == native[0], emulated[1].decode(errors="replace")[-2000:]
    assert emulated[2] == native[2] == 0
    assert native[0].startswith(b"FIRST LINE\nSECOND LINE\nTHIRD\neof")


@pytest.mark.skipif(BUSYBOX is None, reason="busybox is not installed")
@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_busybox_read_builtin(delay):
    """`echo one two | sh -c 'read x y; echo "$y $x"'`: ash's read polls
    stdin before each byte it reads."""
    cmd = [BUSYBOX, "sh", "-c", 'read x y; echo "$y $x"; read z; echo "[$z]"']
    chunks = [b"one two\n", b"three\n"]
    native = _feed(cmd, chunks, delay)
    emulated = _feed(_tinyunix(*cmd), chunks, delay)
    assert native[0] == b"two one\n[three]\n"
    assert emulated[0] == native[0], emulated[1].decode(errors="replace")[-2000:]
    assert emulated[2] == native[2]


@pytest.mark.skipif(BUSYBOX is None, reason="busybox is not installed")
def test_busybox_read_in_guest_pipeline():
    """The pipe is the guest's own: ash reads it from a subshell."""
    cmd = [BUSYBOX, "sh", "-c", 'echo one two | (read x y; echo "$y $x")']
    native = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    emulated = subprocess.run(_tinyunix(*cmd), capture_output=True, stdin=subprocess.DEVNULL,
                              timeout=120, cwd=REPO)
    assert native.stdout == b"two one\n"
    assert emulated.stdout == native.stdout, emulated.stderr.decode(errors="replace")[-2000:]


@pytest.mark.parametrize("kind", ["file", "pipe"])
def test_input_already_there_repeats_exactly(guests, tmp_path, kind):
    """Input that is all there before the guest starts (a file, or a pipe
    written and closed) never waits on the host: two runs give the same
    output and the same --trace, line for line."""
    data = b"alpha\nbeta\n" * 50
    runs = []
    for _ in range(2):
        if kind == "file":
            src = tmp_path / "in.txt"
            src.write_bytes(data)
            stdin = open(src, "rb")
        else:
            r, w = os.pipe()
            os.write(w, data)
            os.close(w)
            stdin = os.fdopen(r, "rb")
        with stdin:
            p = subprocess.run(_tinyunix("--trace", str(guests / "poll_stdin"), "epoll"),
                               stdin=stdin, capture_output=True, timeout=120, cwd=REPO)
        runs.append(p)
    assert runs[0].returncode == 0, runs[0].stderr.decode(errors="replace")[-2000:]
    assert runs[0].stdout == runs[1].stdout
    assert runs[0].stdout.count(b"ALPHA\n") == 50
    assert runs[0].stderr == runs[1].stderr
