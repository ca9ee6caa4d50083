"""The picker and the transcript overlay as the TUI runs them: inside a running
prompt_toolkit prompt (the composer's situation), in a real pty decoded by pyte."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.terminal import KEYS, PtyTerminal

# A composer stand-in: Ctrl-P opens the picker, Ctrl-T the overlay, each while the prompt
# application is suspended (prompt_toolkit's in_terminal), as the TUI does.
HOST = textwrap.dedent(
    """
    import asyncio
    from prompt_toolkit import PromptSession
    from prompt_toolkit.application import in_terminal
    from prompt_toolkit.key_binding import KeyBindings
    from pycodex.frontends.tui.pickers import PickerItem, run_picker_app
    from pycodex.frontends.tui.overlay import run_transcript_overlay

    class Cell:
        def __init__(self, i):
            self.i = i
        def render(self, width, theme):
            return [f"cell {self.i} line {j}" for j in range(3)]
        def render_expanded(self, width, theme):
            return [f"cell {self.i} line {j}" for j in range(30)]

    ITEMS = [PickerItem(f"thread about {w}", f"id-{w}", f"{n}m ago")
             for n, w in enumerate(["apples", "bananas", "cherries", "dates"], 1)]
    keys = KeyBindings()

    @keys.add("c-p")
    def _(event):
        async def pick():
            async with in_terminal():
                chosen = await run_picker_app("Resume a thread", ITEMS)
                print(f"picked={chosen}")
        event.app.create_background_task(pick())

    @keys.add("c-t")
    def _(event):
        async def show():
            async with in_terminal():
                await run_transcript_overlay([Cell(i) for i in range(5000)], None)
                print("overlay closed")
        event.app.create_background_task(show())

    async def main():
        session = PromptSession(key_bindings=keys)
        while (line := await session.prompt_async("composer> ")) != "quit":
            print(f"sent={line}")

    asyncio.run(main())
    """
)


@pytest.fixture
def host(tmp_path: Path) -> PtyTerminal:
    script = tmp_path / "host.py"
    script.write_text(HOST, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "LANG": "C.UTF-8"}
    term = PtyTerminal([sys.executable, str(script)], cols=80, rows=24, env=env)
    term.wait_for("composer>")
    return term


def test_picker_filters_as_you_type_and_enter_chooses(host: PtyTerminal) -> None:
    with host as term:
        term.send("draft")
        term.send("\x10")  # Ctrl-P
        term.wait_for("Resume a thread")
        assert "› thread about apples  1m ago" in term.screen_text()
        term.send("an")
        term.wait_for("search: an")
        assert "apples" not in term.screen_text() and "bananas" in term.screen_text()
        term.send(KEYS["down"])  # wraps within the 1 match
        term.send(KEYS["enter"])
        term.wait_for("picked=id-bananas")
        term.wait_for("composer> draft")  # the composer comes back with its text
        assert "Resume a thread" not in term.screen_text()  # the picker erased itself
        term.send(KEYS["enter"])
        term.wait_for("sent=draft")


def test_picker_escape_cancels(host: PtyTerminal) -> None:
    with host as term:
        term.send("\x10")
        term.wait_for("Resume a thread")
        term.send(KEYS["down"] + KEYS["down"])
        term.wait_for("› thread about cherries")
        term.send(KEYS["esc"])
        term.wait_for("picked=None")
        term.wait_for("composer>")


def test_overlay_opens_at_the_end_of_5000_cells_and_closes_to_an_intact_screen(host: PtyTerminal) -> None:
    with host as term:
        term.send("typed before\r")
        term.wait_for("sent=typed before")
        term.send("\x14")  # Ctrl-T
        term.wait_for("cell 4999 line 2")
        assert term.screen.in_alternate_screen
        term.send(KEYS["home"])
        term.wait_for("cell 0 line 0")
        term.send(KEYS["enter"])  # expand the selected (first) cell
        term.wait_for("cell 0 line 20")
        term.send("q")
        term.wait_for("overlay closed")
        assert not term.screen.in_alternate_screen
        assert "sent=typed before" in term.screen_text()  # the main screen is as it was
        assert "cell 0" not in term.all_text()  # and nothing of the overlay leaked into it


def test_overlay_closes_on_esc_pressed_right_after_opening(host: PtyTerminal) -> None:
    with host as term:
        term.send("\x14")
        term.wait_for("cell 4999 line 2")
        term.send(KEYS["esc"])  # within the composer's key-flush delay
        term.wait_for("overlay closed")
        assert not term.screen.in_alternate_screen
