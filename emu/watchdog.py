"""A wall-clock watchdog for the run loop: at a deadline, stop every vCPU.

The glue keeps the GIL held inside emu_start (the hooks call Python
directly), so no Python thread can run while a guest spins, and a lone
task with no time slice never returns from emu_start by itself.  The
watchdog therefore works without Python: a POSIX timer with SIGEV_THREAD
whose notify function is Unicorn's own uc_emu_stop and whose sigval is
the engine handle (`void f(union sigval)` and `uc_err uc_emu_stop(uc_engine
*)` take the same single pointer argument).  uc_emu_stop is meant to be
called from another thread: it is how Unicorn's own emu_start timeout
works.  After the deadline the timer fires again every REPEAT seconds, so
a stop that lands between two emu_start calls is not lost; the run loop
checks `expired()` after each return and ends the run.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import time

CLOCK_MONOTONIC = 1
SIGEV_THREAD = 2
REPEAT = 0.1


class _sigevent(ctypes.Structure):
    # glibc x86-64 struct sigevent (64 bytes), the SIGEV_THREAD variant.
    _fields_ = [("sigev_value", ctypes.c_void_p), ("sigev_signo", ctypes.c_int),
                ("sigev_notify", ctypes.c_int), ("sigev_notify_function", ctypes.c_void_p),
                ("sigev_notify_attributes", ctypes.c_void_p), ("_pad", ctypes.c_int * 8)]


class _timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _timespec), ("it_value", _timespec)]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "timer_create"):     # glibc < 2.34 keeps it in librt
        libc = ctypes.CDLL(ctypes.util.find_library("rt"), use_errno=True)
    return libc


def _ts(seconds: float) -> _timespec:
    s = int(seconds)
    return _timespec(s, int((seconds - s) * 1e9))


class Watchdog:
    """Stops the engines `uch_list` (uc_engine handles) once `seconds` of
    wall-clock time have passed.  cancel() before the engines go away."""

    def __init__(self, uch_list: list[int], seconds: float) -> None:
        from unicorn.unicorn_py3 import unicorn as binding
        self.deadline = time.monotonic() + seconds
        self._libc = _libc()
        self._libc.timer_create.argtypes = [ctypes.c_int, ctypes.POINTER(_sigevent),
                                            ctypes.POINTER(ctypes.c_void_p)]
        self._libc.timer_settime.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                             ctypes.POINTER(_itimerspec), ctypes.c_void_p]
        self._libc.timer_delete.argtypes = [ctypes.c_void_p]
        stop = ctypes.cast(binding.uclib.uc_emu_stop, ctypes.c_void_p).value
        self._timers: list[ctypes.c_void_p] = []
        spec = _itimerspec(_ts(REPEAT), _ts(max(seconds, 1e-6)))
        for uch in uch_list:
            ev = _sigevent()
            ev.sigev_value = uch
            ev.sigev_notify = SIGEV_THREAD
            ev.sigev_notify_function = stop
            tid = ctypes.c_void_p()
            if self._libc.timer_create(CLOCK_MONOTONIC, ctypes.byref(ev), ctypes.byref(tid)):
                self.cancel()
                raise OSError(ctypes.get_errno(), "timer_create failed")
            self._timers.append(tid)
            if self._libc.timer_settime(tid, 0, ctypes.byref(spec), None):
                self.cancel()
                raise OSError(ctypes.get_errno(), "timer_settime failed")

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def cancel(self) -> None:
        for tid in self._timers:
            self._libc.timer_delete(tid)
        self._timers.clear()
