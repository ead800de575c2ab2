"""Wait queues and the sleep protocol.

A syscall that must wait raises BlockOn(queues, cont).  The syscall entry
puts the task to sleep on those queues; wake_up() on any of them makes it
runnable, and when it next runs `cont()` is called in its context to
finish the syscall: it returns the result, or raises BlockOn again to
sleep once more.  Nothing of the caller's Python stack survives the
sleep, so everything the continuation needs is in its closure.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..task import task_struct


@dataclass(eq=False, slots=True)
class wait_queue_head:
    waiters: list = field(default_factory=list)


class BlockOn(Exception):
    """Sleep on `queues` until woken (or until virtual time `deadline`),
    then finish the syscall with `cont`."""

    def __init__(self, queues: "list[wait_queue_head]", cont: Callable[[], int],
                 deadline: int = -1, interruptible: bool = True) -> None:
        super().__init__()
        self.queues = queues
        self.cont = cont
        self.deadline = deadline
        self.interruptible = interruptible


def add_wait(tsk: "task_struct", queues: "list[wait_queue_head]") -> None:
    for wq in queues:
        wq.waiters.append(tsk)
        tsk.wait_on.append(wq)


def remove_wait(tsk: "task_struct") -> None:
    for wq in tsk.wait_on:
        try:
            wq.waiters.remove(tsk)
        except ValueError:
            pass
    tsk.wait_on.clear()


def wake_up(wq: wait_queue_head, nr: int = 0) -> int:
    """Wake the tasks sleeping on wq (at most nr if nr > 0); returns how many."""
    from .core import wake_up_process
    woken = 0
    for tsk in list(wq.waiters):
        if nr and woken >= nr:
            break
        if wake_up_process(tsk):
            woken += 1
    return woken
