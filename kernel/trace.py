"""strace-style trace: one line per syscall, written by one listener."""
from __future__ import annotations

from typing import IO

from .entry import trace_line
from .state import KernelState
from .uapi import SIGNAL_NAMES, SIGRTMIN

# si_code names as strace prints them: the generic ones, then per signal.
_SI_CODES = {0: "SI_USER", 0x80: "SI_KERNEL", -1: "SI_QUEUE", -2: "SI_TIMER", -3: "SI_MESGQ",
             -4: "SI_ASYNCIO", -5: "SI_SIGIO", -6: "SI_TKILL"}
_SIG_CODES = {
    "SIGCHLD": ("CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED",
                "CLD_CONTINUED"),
    "SIGSEGV": ("SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR"),
    "SIGBUS": ("BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR"),
    "SIGFPE": ("FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND",
               "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB"),
    "SIGILL": ("ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC",
               "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK"),
    "SIGTRAP": ("TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT"),
}


def signame(sig: int) -> str:
    if sig >= SIGRTMIN:
        return f"SIGRT_{sig - SIGRTMIN}"
    return SIGNAL_NAMES.get(sig, str(sig))


def sigset_str(mask: int) -> str:
    """A signal mask as strace prints it: [USR1 TERM], or ~[...] when more
    than half the signals are in it."""
    names = [signame(s)[3:] for s in range(1, 65) if mask >> (s - 1) & 1]
    if len(names) > 32:
        rest = [signame(s)[3:] for s in range(1, 65) if not mask >> (s - 1) & 1]
        return "~[" + " ".join(rest) + "]"
    return "[" + " ".join(names) + "]"


def siginfo_str(f: dict) -> str:
    """A delivered signal's siginfo as strace prints it."""
    name = signame(f["signo"])
    code = f["code"]
    codes = _SIG_CODES.get(name, ())
    if 0 < code <= len(codes) and code != 0x80:
        cname = codes[code - 1]
    else:
        cname = _SI_CODES.get(code, str(code))
    parts = [f"si_signo={name}", f"si_code={cname}"]
    if "errno" in f:
        parts.append(f"si_errno={f['errno']}")
    for k in ("pid", "uid", "status", "utime", "stime", "tid", "overrun"):
        if k in f:
            parts.append(f"si_{k}={signame(f[k]) if k == 'status' and code != 1 else f[k]}")
    if "value" in f and code != -6:                 # SI_TKILL shows no value
        parts.append(f"si_int={f['value'] & 0xFFFFFFFF}")
        parts.append(f"si_ptr={f['value']:#x}")
    if "addr" in f:
        parts.append(f"si_addr={f['addr']:#x}" if f["addr"] else "si_addr=NULL")
    if "band" in f:
        parts.append(f"si_band={f['band']}, si_fd={f['fd']}")
    return "{" + ", ".join(parts) + "}"


def attach_tracer(K: KernelState, out: IO[str]) -> None:
    def on_event(event: str, f: dict) -> None:
        if event == "syscall":
            if f["name"] == "rt_sigreturn" and f["ret"] is None:
                return               # its own "sigreturn" line says what it restored
            out.write(trace_line(f["task"], f["nr"], f["args"], f["ent"], f["ret"]) + "\n")
        elif event == "syscall_resume":
            out.write(f"[{f['task'].pid}] <... resumed> = {f['ret']}\n")
        elif event == "signal":
            out.write(f"[{f['task'].pid}] --- {signame(f['signo'])} {siginfo_str(f)} ---\n")
        elif event == "sigreturn":
            out.write(f"[{f['task'].pid}] rt_sigreturn({{mask={sigset_str(f['mask'])}}}) = "
                      f"{f['ret'] - (1 << 64) if f['ret'] >= 1 << 63 else f['ret']}\n")
        elif event in ("segv", "trap", "oom", "note", "fault"):
            fields = " ".join(f"{k}={v:#x}" if isinstance(v, int) else f"{k}={v}"
                              for k, v in f.items() if k != "task")
            out.write(f"[{f['task'].pid}] --- {event} {fields}\n")
        elif event == "exit":
            code = f["code"]
            if code & 0x7F:
                core = " (core dumped)" if code & 0x80 else ""
                out.write(f"[{f['task'].pid}] +++ killed by {signame(code & 0x7F)}{core} +++\n")
            else:
                out.write(f"[{f['task'].pid}] +++ exited with {(code >> 8) & 0xFF} +++\n")
    K.listeners.append(on_event)
