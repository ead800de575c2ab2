"""--events FILE: every kernel event as one JSON object per line.

Schema (stable; README "Tracing" documents it):
  {"seq": n, "t": virtual ns, "blocks": basic blocks run, "cpu": vCPU,
   "pid": task (0 for none), "kind": event name, ...the event's fields}
Task objects become pids (task -> pid, parent/child/prev/next -> *_pid),
a VMA becomes {"start", "end", "perms", "name"}, bytes become strings
(UTF-8, undecodable bytes escaped), the syscall table entry is dropped.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Any

from kernel.sched.core import blocks_run, ktime_get_ns

from .strace.tracer import vma_str


def _vma(v: Any) -> Any:
    if v is None:
        return None
    parts = vma_str(v).split(" ", 2)
    return {"start": v.vm_start, "end": v.vm_end, "perms": parts[1],
            "name": parts[2] if len(parts) > 2 else ""}


def _plain(v: Any) -> Any:
    t = type(v)
    if t is int or t is str or v is None or t is bool or t is float:
        return v
    if t is tuple or t is list:
        return [x if type(x) is int else _plain(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", "backslashreplace")
    if isinstance(v, int):
        return int(v)                 # IntEnum/IntFlag states
    if hasattr(v, "pid") and hasattr(v, "tgid"):
        return v.pid
    return str(v)


@dataclass(eq=False)
class EventLog:
    K: Any
    out: IO[str]
    seq: int = 0

    def __call__(self, event: str, f: dict) -> None:
        self.seq += 1
        tsk = f.get("task") or f.get("parent") or f.get("next")
        cpu = f.get("cpu")
        if cpu is None:
            cpu = getattr(tsk, "cpu", 0) if tsk is not None else 0
        rec: dict = {"seq": self.seq, "t": ktime_get_ns(), "blocks": blocks_run(), "cpu": cpu,
                     "pid": tsk.pid if tsk is not None else 0, "kind": event}
        for k, v in f.items():
            if k in ("task", "ent", "cpu"):
                continue
            if k == "vma":
                rec[k] = _vma(v)
            elif k in ("parent", "child", "prev", "next"):
                rec[k + "_pid"] = v.pid if v is not None else 0
            else:
                rec[k] = _plain(v)
        self.out.write(json.dumps(rec, separators=(",", ":")) + "\n")


def attach_events(K: Any, out: IO[str]) -> EventLog:
    log = EventLog(K, out)
    K.listeners.append(log)
    return log
