"""The full-screen debugger view (Textual): disassembly, registers with
the changed ones highlighted, the task tree, the selected task's VMAs and
a page-table walk, the event log, and a command line.  Every pane is the
session's text (session.py), so the batch mode shows the same."""
from __future__ import annotations

from typing import Optional

from rich.markup import escape
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Static

from .session import DebugSession


class Pane(Static):
    DEFAULT_CSS = """
    Pane { border: round $primary; height: 1fr; overflow: hidden; }
    """

    def __init__(self, title: str, id: str) -> None:
        super().__init__("", id=id, markup=True)
        self.border_title = title


class DebugApp(App):
    AUTO_FOCUS = None       # keys go to the bindings until ":" opens the command line
    CSS = """
    #left { width: 3fr; }
    #right { width: 2fr; }
    #disasm { height: 2fr; }
    #regs { height: 2fr; }
    #message { height: 1; background: $boost; }
    """
    BINDINGS = [
        Binding("i", "cmd('si')", "stepi"),
        Binding("s", "cmd('s')", "syscall"),
        Binding("f", "cmd('fault')", "fault"),
        Binding("c", "cmd('c')", "continue"),
        Binding("b", "cmd('back')", "back"),
        Binding("r", "cmd('rc')", "rev-cont"),
        Binding("colon", "focus_cmd", "command"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, session: DebugSession, startup: Optional[list[str]] = None) -> None:
        super().__init__()
        self.session = session
        self.startup = startup or []

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="left"):
                yield Pane("disassembly", "disasm")
                yield Pane("log", "log")
                yield Pane("page walk", "walk")
            with Vertical(id="right"):
                yield Pane("registers", "regs")
                yield Pane("tasks", "tasks")
                yield Pane("vmas", "vmas")
        yield Static("", id="message", markup=False)
        yield Input(placeholder="command (help lists them)", id="cmdline")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "tinyunix debug"
        for c in self.startup:
            self.session.execute(c)
        self.refresh_panes()

    def refresh_panes(self) -> None:
        s = self.session
        self.query_one("#disasm", Pane).update(
            "\n".join(f"[reverse]{escape(ln)}[/]" if ln.startswith("=>") else escape(ln)
                      for ln in s.pane_disasm().splitlines()))
        self.query_one("#regs", Pane).update(
            s.pane_regs(mark=lambda ln: f"[bold yellow]{ln}[/]"))
        self.query_one("#tasks", Pane).update(escape(s.pane_tasks()))
        self.query_one("#vmas", Pane).update(escape(s.pane_vmas()))
        self.query_one("#walk", Pane).update(escape(s.pane_walk()))
        self.query_one("#log", Pane).update(escape(s.pane_log(20)))
        self.query_one("#message", Static).update(s.message.splitlines()[0] if s.message else "")

    def action_cmd(self, line: str) -> None:
        if self.session.execute(line) == "quit":
            self.exit()
            return
        self.refresh_panes()

    def action_focus_cmd(self) -> None:
        self.query_one("#cmdline", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.value = ""
        self.set_focus(None)
        self.action_cmd(event.value)


def save_screenshot(session: DebugSession, cmds: list[str], path: str,
                    size: tuple[int, int] = (150, 46)) -> None:
    """Run the view headless after `cmds` and save it as SVG (the README's picture)."""
    import asyncio
    import os

    async def shoot() -> None:
        app = DebugApp(session, startup=cmds)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.save_screenshot(os.path.basename(path), path=os.path.dirname(path) or ".")
    asyncio.run(shoot())
