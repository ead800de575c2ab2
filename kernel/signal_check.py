"""--check's signal audits (a mixin of the Checker in kernel/check.py).

  signals  sig-blocked     no task blocks SIGKILL or SIGSTOP, no mask has
                           bits past signal 64
           sig-queue       every queued siginfo is for a signal pending in
                           the same queue (the task's or its group's); a
                           standard signal is queued at most once
           sig-rlimit      the queued siginfo of every task and group add
                           up to K.sigpending_queued (RLIMIT_SIGPENDING's
                           count)
           sig-altstack    an alternate stack has a size iff it has a base
                           (or none at all after SS_DISABLE)
Cost: one pass over the tasks; queues are short.
"""
from __future__ import annotations

from typing import Optional

from .signal import _ALL, SIG_KERNEL_ONLY, SIGRTMIN, sigmask
from .task import task_struct


class SignalAudit:
    def fail(self, invariant: str, detail: str, task: Optional[task_struct] = None) -> None:
        raise NotImplementedError

    def check_signals(self) -> None:
        K = self.K   # type: ignore[attr-defined]
        queued = 0
        groups = {}
        for t in K.tasks.values():
            groups[id(t.signal)] = t
            for what, mask in (("blocked", t.blocked), ("real_blocked", t.real_blocked),
                               ("pending", t.pending)):
                if mask & ~_ALL:
                    self.fail("sig-blocked", f"{what} {mask:#x} has bits past signal 64", t)
            if t.blocked & SIG_KERNEL_ONLY:
                self.fail("sig-blocked", f"blocks SIGKILL or SIGSTOP ({t.blocked:#x})", t)
            queued += self._check_queue(t, t.pending, t.sigqueue, "task")
            if (t.sas_ss_size == 0) != (t.sas_ss_sp == 0) and t.sas_ss_size:
                self.fail("sig-altstack", f"altstack base {t.sas_ss_sp:#x} size {t.sas_ss_size}",
                          t)
        for t in groups.values():
            queued += self._check_queue(t, t.signal.shared_pending, t.signal.shared_sigqueue,
                                        "group")
        if queued != K.sigpending_queued:
            self.fail("sig-rlimit", f"{queued} siginfo queued, {K.sigpending_queued} counted")

    def _check_queue(self, t: task_struct, pending: int, queue: list, which: str) -> int:
        seen = 0
        for info in queue:
            m = sigmask(info.signo)
            if not pending & m:
                self.fail("sig-queue", f"{which} queue holds signal {info.signo}, not pending "
                          f"({pending:#x})", t)
            if info.signo < SIGRTMIN and seen & m:
                self.fail("sig-queue", f"{which} queue holds standard signal {info.signo} twice",
                          t)
            seen |= m
        return len(queue)
