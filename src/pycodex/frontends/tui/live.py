"""The live region: prompt_toolkit's part of the screen, at the bottom, never the whole
screen (no alternate screen). It shows what is still changing — the answer or command
output streaming, an approval question — then the status line and the composer.
Everything finished is printed above it, into the terminal's scrollback, once.

Keys: Enter sends (steers a running turn); Alt-Enter / Ctrl-J insert a newline; Tab
queues a message while a turn runs (or completes); Esc or Ctrl-C interrupts a turn; Esc
Esc goes back to an earlier message; Ctrl-C twice on an empty composer (or Ctrl-D) quits;
Ctrl-T shows the whole transcript; Ctrl-G edits the message in $EDITOR; Up/Down and
Ctrl-R search earlier messages ($PYCODEX_HOME/history.jsonl).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from prompt_toolkit.application import Application, in_terminal
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.filters import Condition, has_completions, is_searching
from prompt_toolkit.formatted_text import ANSI, FormattedText
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import (
    ConditionalContainer,
    Float,
    FloatContainer,
    HSplit,
    Layout,
    Window,
)
from prompt_toolkit.layout.controls import BufferControl, FormattedTextControl
from prompt_toolkit.layout.dimension import Dimension
from prompt_toolkit.layout.menus import CompletionsMenu
from prompt_toolkit.widgets import SearchToolbar

from pycodex.frontends.tui.cells import PatchCell

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pycodex.frontends.tui.app import TuiApp

LIVE_LINES = 12  # the tail of what streams that stays on screen
DOUBLE_PRESS_S = 1.0


class _ComposerCompleter(Completer):
    """`/` commands at the start of the composer; `@` file mentions anywhere."""

    def __init__(self, app: TuiApp) -> None:
        self._app = app

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        return []  # all completions are computed asynchronously

    async def get_completions_async(self, document: Document, complete_event: CompleteEvent) -> Any:
        from pycodex.frontends.tui import mentions, slash

        text = document.text_before_cursor
        if text.startswith("/") and " " not in text:
            for name, description in slash.completions(text):
                yield Completion(name, start_position=-len(text), display_meta=description)
            return
        mention = mentions.find_mention(document.text, document.cursor_position)
        if mention is None or not mention.query:
            return
        search = mentions.FileSearch(self._app.client.request, lambda: [self._app.cwd])
        with contextlib.suppress(Exception):
            for hit in await search.search(mention.query):
                replaced = mentions.mention_text(hit.path)
                yield Completion(replaced, start_position=-(document.cursor_position - mention.start),
                                 display=hit.path)


class LiveUi:
    def __init__(self, app: TuiApp) -> None:
        self.app = app
        self._last_esc = 0.0
        self._last_ctrl_c = 0.0
        self._held: list[str] = []  # cells to print once the screen is ours again
        self._history = InMemoryHistory(_load_history(app))
        self.buffer = Buffer(
            multiline=True, completer=_ComposerCompleter(app), complete_while_typing=True,
            history=self._history, enable_history_search=True,
        )
        self._application: Application[int] = Application(
            layout=self._layout(), key_bindings=self._keys(), full_screen=False,
            mouse_support=False, erase_when_done=False,
        )

    # --- what the TuiApp calls -------------------------------------------------------------

    async def run(self) -> int:
        ticker = asyncio.create_task(self._tick())
        try:
            return await self._application.run_async()
        finally:
            ticker.cancel()

    def width(self) -> int:
        try:
            return int(self._application.output.get_size().columns)
        except Exception:
            return 100

    def print_above(self, text: str) -> None:
        """Print finished cells into the scrollback, above the live region.

        Not through `in_terminal`: that puts the terminal in cooked mode while it prints,
        and keys typed meanwhile would be echoed by the tty and their Enter turned into
        a newline. The live region is erased, the text written in its place (raw mode:
        explicit carriage returns), and the region drawn again below it."""
        app = self._application
        if not app.is_running:
            print(text, end="", flush=True)
            return
        self._held.append(text)
        if app._running_in_terminal:  # a picker or the overlay owns the screen: later
            return
        held, self._held = "".join(self._held), []
        app.renderer.erase()
        app.output.write_raw(held.replace("\r\n", "\n").replace("\n", "\r\n"))
        app.output.flush()
        app.invalidate()

    def flush_held(self) -> None:
        """Print what arrived while a picker or the overlay had the screen."""
        if self._held:
            self.print_above("")

    def invalidate(self) -> None:
        self._application.invalidate()

    def set_composer(self, text: str) -> None:
        self.buffer.set_document(Document(text, len(text)), bypass_readonly=True)

    def turn_ended(self) -> None:
        _notify_when_unfocused(self.app)

    def exit(self) -> None:
        if self._application.is_running and not self._application.future.done():  # type: ignore[union-attr]
            self._application.exit(result=0)

    # --- layout ---------------------------------------------------------------------------

    def _layout(self) -> Layout:
        live = Window(FormattedTextControl(self._live_text), dont_extend_height=True, wrap_lines=True)
        status = Window(FormattedTextControl(self._status_text), height=1)
        search = SearchToolbar(text_if_not_searching="", ignore_case=True)
        composer = Window(
            BufferControl(self.buffer, search_buffer_control=search.control, preview_search=True),
            height=Dimension(min=1, max=10), wrap_lines=True,
            get_line_prefix=lambda line, wrap: [("bold", "› " if line == 0 and not wrap else "  ")],
            dont_extend_height=True,
        )
        body = HSplit([ConditionalContainer(live, Condition(self._has_live)), status, composer, search])
        menu = Float(xcursor=True, ycursor=True, content=CompletionsMenu(max_height=8, scroll_offset=1))
        return Layout(FloatContainer(body, floats=[menu]), focused_element=composer)

    def _has_live(self) -> bool:
        turn = self.app.state.turn
        return self.app.approval is not None or (
            turn is not None and bool(turn.answer or turn.reasoning or turn.running)
        )

    def _live_text(self) -> ANSI:
        width = self.width() - 1
        lines: list[str] = []
        turn = self.app.state.turn
        if turn is not None:
            if turn.reasoning and not turn.answer:
                lines += [f"\x1b[2;3m{line}\x1b[0m" for line in turn.reasoning.splitlines()]
            if turn.answer:
                lines += ["• " + line for line in turn.answer.splitlines()]
            if turn.running is not None:
                lines += turn.running.render(width, self.app.theme)[1:]
        approval = self.app.approval
        if approval is not None:
            if turn is not None and turn.changes and "changes" in approval.title:
                lines += PatchCell(turn.changes).render(width, self.app.theme)[1:]
            lines += ["", *approval.lines()]
        return ANSI("\n".join(lines[-LIVE_LINES:] if approval is None else lines))

    def _status_text(self) -> FormattedText:
        s = self.app.state.settings
        parts: list[str] = []  # most important first: a narrow terminal cuts the end
        seconds = self.app.turn_seconds()
        if seconds is not None:
            parts.append(f"working {int(seconds)}s · Esc to interrupt")
        if self.app.queued:
            parts.append(f"{len(self.app.queued)} queued")
        parts.append(s.model + (f" {s.effort}" if s.effort else ""))
        left = self.app.state.context_left_percent()
        if left is not None:
            parts.append(f"{left}% context left")
        parts.append(_short(self.app.cwd))
        return FormattedText([("fg:ansibrightblack" if self.app.theme.color else "", "  " + "  ·  ".join(parts))])

    async def _tick(self) -> None:
        """Redraw once a second while a turn runs (its clock in the status line)."""
        while True:
            await asyncio.sleep(1)
            if self.app.state.turn is not None:
                self.invalidate()

    # --- keys -----------------------------------------------------------------------------

    def _keys(self) -> KeyBindings:
        keys = KeyBindings()
        # While an approval is asked its keys answer it; while Ctrl-R searches, prompt_toolkit's
        # search keys (Enter accepts the match) apply.
        approving = Condition(lambda: self.app.approval is not None)
        asking = approving | is_searching

        @keys.add("enter", filter=~asking & ~has_completions)
        def _send(event: KeyPressEvent) -> None:
            self._send_composer()

        @keys.add("enter", filter=~asking & has_completions)
        def _accept_completion(event: KeyPressEvent) -> None:
            state = self.buffer.complete_state
            if state is not None and state.current_completion is not None:
                self.buffer.apply_completion(state.current_completion)
            else:
                self._send_composer()

        @keys.add("escape", "enter", filter=~asking)
        @keys.add("c-j", filter=~asking)
        def _newline(event: KeyPressEvent) -> None:
            self.buffer.insert_text("\n")

        @keys.add("tab", filter=~asking & ~has_completions)
        def _queue(event: KeyPressEvent) -> None:
            text = self.buffer.text.strip()
            if text and self.app.state.turn is not None:
                self.app.queued.append(text)
                self.buffer.reset()
            elif text:
                self._send_composer()

        @keys.add("escape", eager=True, filter=~asking)
        def _escape(event: KeyPressEvent) -> None:
            self._on_escape()

        @keys.add("c-c", filter=~asking)
        def _ctrl_c(event: KeyPressEvent) -> None:
            self._on_ctrl_c()

        @keys.add("c-d", filter=~asking)
        def _ctrl_d(event: KeyPressEvent) -> None:
            if not self.buffer.text:
                self.exit()

        @keys.add("c-t", filter=~asking)
        def _overlay(event: KeyPressEvent) -> None:
            self.app.spawn(self._show_overlay())

        @keys.add("c-g", filter=~asking)
        def _editor(event: KeyPressEvent) -> None:
            self.buffer.open_in_editor()

        for key in ("y", "a", "p", "n", "escape", "c-c"):
            self._approval_key(keys, key, approving)
        return keys

    def _approval_key(self, keys: KeyBindings, key: str, asking: Any) -> None:
        choice = {"escape": "esc", "c-c": "esc"}.get(key, key)

        @keys.add(key, filter=asking, eager=True)
        def _answer(event: KeyPressEvent) -> None:
            approval = self.app.approval
            if approval is not None:
                approval.choose(choice)

    def _send_composer(self) -> None:
        text = self.buffer.text
        if not text.strip():
            return
        self.buffer.append_to_history()
        _append_history(self.app, text)
        self.buffer.reset()
        self.app.spawn(self._submit(text))

    async def _submit(self, text: str) -> None:
        try:
            await self.app.submit(text)
        except Exception as exc:  # a refused request: say so, keep the session
            self.app.add_error(str(getattr(exc, "message", "") or exc))

    def _on_escape(self) -> None:
        now = time.monotonic()
        if self.app.state.turn is not None:
            self.app.spawn(self.app.interrupt())
        elif now - self._last_esc < DOUBLE_PRESS_S and not self.buffer.text:
            from pycodex.frontends.tui.backtrack import run_backtrack

            self.app.spawn(self._guarded(run_backtrack(self.app)))
            now = 0.0
        self._last_esc = now

    def _on_ctrl_c(self) -> None:
        now = time.monotonic()
        if self.app.state.turn is not None:
            self.app.spawn(self.app.interrupt())
        elif self.buffer.text:
            self.buffer.reset()
        elif now - self._last_ctrl_c < DOUBLE_PRESS_S:
            self.exit()
        else:
            self.app.add_info("Press Ctrl-C again to quit.")
        self._last_ctrl_c = now

    async def _guarded(self, work: Any) -> None:
        try:
            await work
        except Exception as exc:
            self.app.add_error(str(getattr(exc, "message", "") or exc))

    async def _show_overlay(self) -> None:
        from pycodex.frontends.tui.overlay import run_transcript_overlay

        async with in_terminal():
            await run_transcript_overlay(self.app.state.cells, self.app.theme)
        self.flush_held()


def _short(path: str) -> str:
    import os

    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home != "/" and path.startswith(home) else path


def _history_path(app: TuiApp) -> Any:
    from pycodex.config.home import pycodex_home

    return pycodex_home(app.env) / "history.jsonl"


def _load_history(app: TuiApp) -> list[str]:
    import json

    try:
        lines = _history_path(app).read_text(encoding="utf-8").splitlines()[-500:]
    except OSError:
        return []
    texts = []
    for line in lines:
        with contextlib.suppress(ValueError, AttributeError):
            texts.append(str(json.loads(line)["text"]))
    return texts


def _append_history(app: TuiApp, text: str) -> None:
    """`history.jsonl` as Codex writes it (one object per line: session, ts, text)."""
    import json

    entry = {"session_id": app.state.thread_id or "", "ts": int(time.time()), "text": text}
    with contextlib.suppress(OSError):
        path = _history_path(app)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _notify_when_unfocused(app: TuiApp) -> None:
    """OSC 9: a desktop notification when a turn ends (terminals show it when unfocused)."""
    if app.env.get("PYCODEX_TUI_NOTIFY", "1") != "0":
        app.write_terminal("\x1b]9;pycodex: turn complete\x07")
