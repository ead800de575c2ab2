"""strace-style trace: one line per syscall, written by one listener."""
from __future__ import annotations

from typing import IO

from .entry import trace_line
from .state import KernelState


def attach_tracer(K: KernelState, out: IO[str]) -> None:
    def on_event(event: str, f: dict) -> None:
        if event == "syscall":
            out.write(trace_line(f["task"], f["nr"], f["args"], f["ent"], f["ret"]) + "\n")
        elif event == "syscall_resume":
            out.write(f"[{f['task'].pid}] <... resumed> = {f['ret']}\n")
        elif event in ("segv", "trap", "oom", "note", "fault"):
            fields = " ".join(f"{k}={v:#x}" if isinstance(v, int) else f"{k}={v}"
                              for k, v in f.items() if k != "task")
            out.write(f"[{f['task'].pid}] --- {event} {fields}\n")
        elif event == "exit":
            out.write(f"[{f['task'].pid}] +++ exited, status {f['code']:#x} +++\n")
    K.listeners.append(on_event)
