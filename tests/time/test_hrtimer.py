"""The hrtimer queue (kernel/time/hrtimer.py) on its own: expiry order,
lazy cancel, restart, forward, and expiries before boot."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from kernel import state
from kernel.time.hrtimer import (
    HRTIMER_NORESTART, HRTIMER_RESTART, hrtimer, hrtimer_cancel, hrtimer_forward,
    hrtimer_next_expiry, hrtimer_run_queues, hrtimer_start,
)


@pytest.fixture(autouse=True)
def machine(monkeypatch):
    monkeypatch.setattr(state, "K", SimpleNamespace(timers=[], timer_seq=0))


def recorder(log: list, name: str, restart_every: int = 0):
    def fn(t: hrtimer) -> int:
        log.append((name, t.expires))
        if restart_every:
            t.expires += restart_every
            return HRTIMER_RESTART
        return HRTIMER_NORESTART
    return fn


def test_expire_in_order_and_only_when_due() -> None:
    log: list = []
    a, b, c = (hrtimer(recorder(log, n)) for n in "abc")
    hrtimer_start(b, 200)
    hrtimer_start(a, 100)
    hrtimer_start(c, 300)
    assert hrtimer_next_expiry() == 100
    hrtimer_run_queues(250)
    assert log == [("a", 100), ("b", 200)]
    assert not a.active and not b.active and c.active
    assert hrtimer_next_expiry() == 300


def test_cancel_is_lazy_and_restart_replaces() -> None:
    log: list = []
    a = hrtimer(recorder(log, "a"))
    hrtimer_start(a, 100)
    assert hrtimer_cancel(a) and not a.active
    assert not hrtimer_cancel(a)
    assert hrtimer_next_expiry() is None          # the stale entry is dropped
    hrtimer_start(a, 50)
    hrtimer_start(a, 500)                         # re-arming forgets 50
    hrtimer_run_queues(100)
    assert log == []
    hrtimer_run_queues(500)
    assert log == [("a", 500)]


def test_restart_and_forward() -> None:
    log: list = []
    p = hrtimer(recorder(log, "p", restart_every=10))
    hrtimer_start(p, 10)
    hrtimer_run_queues(35)
    assert log == [("p", 10), ("p", 20), ("p", 30)]
    assert p.active and hrtimer_next_expiry() == 40
    assert hrtimer_forward(p, 95, 10) == 6 and p.expires == 100
    assert hrtimer_forward(p, 95, 10) == 0


def test_expiry_before_boot_is_due_not_none() -> None:
    """An absolute CLOCK_REALTIME time before the virtual epoch is a
    negative monotonic expiry: due at once, and not 'no timer'."""
    log: list = []
    a = hrtimer(recorder(log, "a"))
    hrtimer_start(a, -5)
    assert hrtimer_next_expiry() == -5
    hrtimer_run_queues(0)
    assert log == [("a", -5)]
