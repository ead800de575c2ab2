"""Wait queues and the sleep protocol.

A syscall that must wait raises BlockOn(queues, cont).  The syscall entry
puts the task to sleep on those queues; wake_up() on any of them makes it
runnable, and when it next runs `cont()` is called in its context to
finish the syscall: it returns the result, or raises BlockOn again to
sleep once more.  Nothing of the caller's Python stack survives the
sleep, so everything the continuation needs is in its closure.

Signals (Linux's -ERESTART* protocol).  An interruptible wait (and a
killable one, for fatal signals) ends when a signal is pending for the
task: at the start, or after a wake-up when `cont` would sleep again (so
a condition that came true together with the signal wins, as in
___wait_event).  The syscall then returns -restart, or whatever
`interrupted()` returns (a partial count, or -ERESTART_RESTARTBLOCK after
setting current's restart_block).  The way back to user mode decides:
ERESTARTSYS restarts under SA_RESTART and is EINTR otherwise,
ERESTARTNOHAND and ERESTART_RESTARTBLOCK are EINTR after a handler,
ERESTARTNOINTR always restarts; with no handler run, all restart
(RESTARTBLOCK through restart_syscall).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from ..panic import Errno
from ..uapi import ERESTARTSYS

if TYPE_CHECKING:
    from ..task import task_struct


@dataclass(eq=False, slots=True)
class wait_queue_head:
    waiters: list = field(default_factory=list)   # task_struct | wait_queue_entry


@dataclass(eq=False, slots=True)
class wait_queue_entry:
    """A callback on a wait queue instead of a sleeping task (Linux's
    wait_queue_entry with its own func): epoll's ep_poll_callback.
    func(entry, key) runs at each wake_up; key is the poll mask the waker
    passes (0: unkeyed, anything may have changed).  It returns True if
    it counts as a wake-up."""
    func: Callable[["wait_queue_entry", int], bool]
    private: object = None
    # Does a task wait on what this entry feeds (epoll: a task in
    # epoll_wait, or a poller of the epoll)?  None: always.
    waiting: Optional[Callable[[], bool]] = None


def add_wait_queue(wq: wait_queue_head, entry: wait_queue_entry) -> None:
    wq.waiters.append(entry)


def remove_wait_queue(wq: wait_queue_head, entry: wait_queue_entry) -> None:
    try:
        wq.waiters.remove(entry)
    except ValueError:
        pass


class BlockOn(Exception):
    """Sleep on `queues` until woken (or until virtual time `deadline`),
    then finish the syscall with `cont`.  TASK_INTERRUPTIBLE unless
    `interruptible` is False: then TASK_KILLABLE if `killable` (only a
    fatal signal ends the wait), else TASK_UNINTERRUPTIBLE.  A signal that
    ends the wait makes the syscall return -restart, or interrupted()."""

    def __init__(self, queues: "list[wait_queue_head]", cont: Callable[[], int],
                 deadline: int = -1, interruptible: bool = True, restart: int = ERESTARTSYS,
                 interrupted: Optional[Callable[[], int]] = None, killable: bool = False) -> None:
        super().__init__()
        self.queues = queues
        self.cont = cont
        self.deadline = deadline
        self.interruptible = interruptible
        self.killable = killable
        self.restart = restart
        self.interrupted = interrupted

    def chain(self, cont: Callable[[], int],
              interrupted: Optional[Callable[[], int]] = None) -> "BlockOn":
        """The same wait, finished by `cont` (a caller wrapping a callee's
        continuation); `interrupted` replaces the callee's if given."""
        return BlockOn(self.queues, cont, self.deadline, self.interruptible, self.restart,
                       interrupted or self.interrupted, self.killable)

    def interrupted_result(self) -> int:
        """The syscall's result when a signal ends this wait."""
        if self.interrupted is None:
            return -self.restart
        try:
            return self.interrupted()
        except Errno as e:
            return -e.errno


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


def wake_up(wq: wait_queue_head, nr: int = 0, key: int = 0) -> int:
    """Wake the tasks sleeping on wq (at most nr if nr > 0) and run its
    callback entries with `key` (the poll events that became true, or 0);
    returns how many were woken.  A sleeping task is woken whatever the
    key: it re-checks its condition when it runs."""
    from .core import wake_up_process
    woken = 0
    for w in list(wq.waiters):
        if nr and woken >= nr:
            break
        if isinstance(w, wait_queue_entry):
            if w.func(w, key):
                woken += 1
        elif wake_up_process(w):
            woken += 1
    return woken
