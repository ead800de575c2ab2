"""Credentials: the guest started as another user (--user, compared with
setpriv starting the same program natively), and a set-user-ID program
(exec changes the effective ids and sets AT_SECURE).  The set*id
transitions themselves are the differential guest `creds`."""
from __future__ import annotations

import os
import shutil
import stat

import pytest

from conftest import GUEST_BUILD, _run, run_tinyunix

SETPRIV = shutil.which("setpriv")
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or SETPRIV is None,
    reason="comparing with a native run as another user needs root and setpriv")


def native_as(uid: int, gid: int, prog, *args: str):
    return _run([SETPRIV, f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                 str(prog), *args], 30)


@pytest.mark.parametrize("name", ["whoami_caps", "creds"])
def test_user_option_matches_setpriv(name):
    prog = GUEST_BUILD / name
    native = native_as(1000, 1000, prog)
    emulated = run_tinyunix(prog, options=["--user", "1000:1000"])
    assert native.status == 0
    assert emulated.stdout.decode() == native.stdout.decode()
    assert emulated.status == native.status
    assert b"uid 1000/1000/1000" in emulated.stdout


def test_user_gid_defaults_to_uid():
    out = run_tinyunix(GUEST_BUILD / "whoami_caps", options=["--user", "4242"])
    assert out.stdout.splitlines()[0] == b"uid 4242/4242/4242 gid 4242/4242/4242 secure 0"


@pytest.mark.parametrize("bad", ["x", "1:y", "-1", "4294967295"])
def test_user_option_rejects_bad_ids(bad):
    out = run_tinyunix(GUEST_BUILD / "whoami_caps", options=["--user", bad])
    assert out.status == 2 and b"--user" in out.stderr


def test_setuid_program_runs_with_owner_euid(tmp_path):
    """A set-user-ID root program started by uid 1000: euid and saved uid
    0, the full permitted set back (root), AT_SECURE set."""
    prog = tmp_path / "suid"
    shutil.copy(GUEST_BUILD / "whoami_caps", prog)
    os.chmod(prog, 0o4755 | stat.S_IFREG)
    native = native_as(1000, 1000, prog)
    if b"uid 1000/0/0" not in native.stdout:
        pytest.skip(f"{tmp_path} does not honour set-user-ID here (nosuid?)")
    emulated = run_tinyunix(prog, options=["--user", "1000:1000"])
    assert emulated.stdout.decode() == native.stdout.decode()
    assert b"secure 1" in emulated.stdout


def test_kill_across_users_is_eperm():
    """The creds guest's 'drop to a user' child sees EPERM from kill on its
    root parent (asserted in its output, which matches native)."""
    out = run_tinyunix(GUEST_BUILD / "creds")
    assert b"kill(parent, 0) EPERM" in out.stdout
    assert out.status == 0
