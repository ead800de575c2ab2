"""`tinyunix debug`: the batch mode prints what the panes show; the
full-screen view is driven headless by Textual's pilot."""
import asyncio
import subprocess
import sys

from tinyunix.debug.app import DebugApp
from tinyunix.debug.session import DebugSession
from tinyunix.machine import Machine


def _batch(*args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "tinyunix", "debug", *args],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_batch_steps_syscalls_faults_and_back(fault_paths):
    out = _batch("-ex", "b main", "-ex", "c", "-ex", "s", "-ex", "s", "-ex", "fault",
                 "-ex", "back", "-ex", "walk page", "-ex", "nonsense", fault_paths, "cow")
    lines = out.splitlines()
    assert "[3] breakpoint 0x" in out and "<main>" in out
    # the call decoded at its entry, then its result
    enter = lines.index("(tinyunix) s") + 1
    assert lines[enter].startswith("[3] ") and lines[enter].endswith("...")
    assert " = " in lines[enter + 2]
    assert "fault " in lines[lines.index("(tinyunix) fault") + 1]
    assert "unknown command 'nonsense'" in out
    for pane in ("disassembly", "registers", "tasks", "vmas", "page walk", "log"):
        assert f"--- {pane} ---" in out
    assert "=> 0x" in out                     # the disassembly marks RIP
    assert "refcount" in out                  # the walk shows the frame


def test_batch_file_and_bad_program(tmp_path, guests):
    script = tmp_path / "cmds"
    script.write_text("# a comment\nsyscall\nrun\n")
    out = _batch("--batch", str(script), str(guests / "hello"))
    assert "exited: status 3" in out and "hello, world" in out
    r = subprocess.run([sys.executable, "-m", "tinyunix", "debug", str(tmp_path / "none")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 127 and "No such file" in r.stderr and "Traceback" not in r.stderr


def test_the_view_by_keys_and_command_line(fault_paths):
    m = Machine([fault_paths, "cow"])
    session = DebugSession(m)

    async def drive() -> None:
        app = DebugApp(session)
        async with app.run_test(size=(150, 46)) as pilot:
            await pilot.press("s")                      # to the first syscall entry
            assert session.m.where.kind == "syscall_enter"
            await pilot.press("colon")
            await pilot.press(*"b fork", "enter")
            await pilot.press("c")
            assert session.m.where.kind == "fork"
            await pilot.press("i", "i", "b")            # stepi twice, back once
            assert session.m.where.kind == "step"
            regs = str(app.query_one("#regs").render())
            assert "rip" in regs
            tasks = str(app.query_one("#tasks").render())
            assert "fault_paths" in tasks
            await pilot.press("q")
    try:
        asyncio.run(drive())
    finally:
        m.close()
