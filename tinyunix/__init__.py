"""tinyunix: the composition layer.  It joins a machine (emu/) and a kernel
(kernel/) and owns no policy: the command line, and the subscribers to the
kernel's event stream.  Dependencies point one way: tinyunix/ -> kernel/ ->
emu/ (tests/test_layering.py checks it)."""
