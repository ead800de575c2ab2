"""strace-style tracing of a tinyunix machine (tinyunix run --trace):
the kernel only emits events (K.emit); this package turns them into
strace's lines.  Decoders: table.py (one sc() line per syscall)."""
from .table import DECODERS, sc
from .tracer import DEFAULT_CLASSES, TRACE_CLASSES, Tracer, attach_tracer

__all__ = ["DECODERS", "sc", "Tracer", "attach_tracer", "TRACE_CLASSES", "DEFAULT_CLASSES"]
