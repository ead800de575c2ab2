"""The layers' import direction (DESIGN.md): tinyunix/ -> kernel/ -> emu/.
emu/ imports nothing from kernel/ or tinyunix/, and kernel/ nothing from
tinyunix/: the machine calls the kernel through the handlers it was given,
and the kernel reports through the event sinks it was given.  Every import
counts, including those inside functions and under TYPE_CHECKING."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# package -> the top-level packages it must not import
FORBIDDEN = {"emu": {"kernel", "tinyunix"}, "kernel": {"tinyunix"}}


def imported_modules(src: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `src`, the source of
    `module` (relative imports resolved against it)."""
    out = []
    base = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base[:len(base) - node.level + 1]
                name = ".".join(parent + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
    return out


def violations(top: str) -> list[str]:
    bad = []
    for path in sorted((REPO / top).rglob("*.py")):
        rel = path.relative_to(REPO).with_suffix("")
        is_pkg = rel.name == "__init__"
        module = ".".join(rel.parent.parts if is_pkg else rel.parts)
        for line, name in imported_modules(path.read_text(), module, is_pkg):
            if name.split(".")[0] in FORBIDDEN[top]:
                bad.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    return bad


def test_emu_imports_neither_kernel_nor_tinyunix() -> None:
    assert (REPO / "emu" / "machine.py").exists()
    assert violations("emu") == []


def test_kernel_does_not_import_tinyunix() -> None:
    assert (REPO / "kernel" / "main.py").exists()
    assert violations("kernel") == []


def test_the_scanner_sees_every_kind_of_import() -> None:
    src = ("import kernel.state\n"
           "from kernel import main\n"
           "def f():\n"
           "    from ..kernel import x\n"
           "if TYPE_CHECKING:\n"
           "    from .. import tinyunix\n"
           "from . import paging\n")
    names = sorted(n for _, n in imported_modules(src, "emu.sub.mod", False))
    assert names == ["emu", "emu.kernel", "emu.sub", "kernel", "kernel.state"]
    # relative to a package's __init__, one dot is the package itself
    assert [n for _, n in imported_modules("from . import x\nfrom .. import y\n",
                                           "kernel.mm", True)] == ["kernel.mm", "kernel"]
