"""tinyunix: the composition layer.  It joins a machine (emu/) and a kernel
(kernel/) and owns no policy: the command line, and the subscribers to the
kernel's event stream.  Dependencies point one way: tinyunix/ -> kernel/ ->
emu/ (tests/test_layering.py checks it)."""


def __getattr__(name: str):
    # `from tinyunix import Machine` without importing the kernel for the CLI.
    if name in ("Machine", "MachineError", "NotReached", "Event"):
        from . import machine
        return getattr(machine, name)
    raise AttributeError(name)
