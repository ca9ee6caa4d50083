"""The transcript overlay (Ctrl-T): the whole thread in a full-screen scrollable view.

Opening it must not cost time proportional to the thread (Codex users report a
sluggish overlay on long sessions), so `TranscriptView` never renders the whole
transcript: the viewport is anchored at a (cell, line-in-cell) position and only the
cells that intersect it are rendered, each once per width (cached). Opening at the end,
scrolling a page or jumping to the start costs O(visible lines), whatever the number of
cells.

A cell is anything with `render(width, theme) -> list[str]` (ANSI lines). A cell that
also has `render_expanded(width, theme)` has a collapsed form (long command output
shown as head and tail) and can be expanded here: Enter toggles the selected cell, `e`
every cell.

`run_transcript_overlay` shows a view with prompt_toolkit in the alternate screen, so
the terminal's own scrollback (where the finished cells live) is untouched when it
closes. prompt_toolkit is imported only there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

GUTTER_SELECTED = "\x1b[36m▌\x1b[0m "
GUTTER = "  "
GUTTER_WIDTH = 2
FOOTER_HELP = "↑/↓ scroll · PgUp/PgDn page · Tab/S-Tab cell · Enter expand · e all · q close"


class OverlayCell(Protocol):
    def render(self, width: int, theme: Any) -> list[str]: ...


@runtime_checkable
class ExpandableCell(Protocol):
    def render(self, width: int, theme: Any) -> list[str]: ...

    def render_expanded(self, width: int, theme: Any) -> list[str]: ...


class TranscriptView:
    """A viewport of `height` rows over `cells`, rendered lazily.

    Position: `top` = (cell index, line within that cell's rendering) of the first row.
    Every cell is followed by one blank separator line.
    """

    def __init__(self, cells: Sequence[OverlayCell], width: int, height: int, theme: Any) -> None:
        self.cells = cells
        self.theme = theme
        self.width = max(GUTTER_WIDTH + 1, width)
        self.height = max(1, height)
        self.expanded: set[int] = set()
        self.all_expanded = False
        self._cache: dict[int, list[str]] = {}
        self.renders = 0  # cells rendered so far: the cost of what the view did
        self.top = (0, 0)
        self.selected = max(0, len(cells) - 1)
        self.scroll_to_end()

    # --- geometry ------------------------------------------------------------------------

    def resize(self, width: int, height: int) -> None:
        width, height = max(GUTTER_WIDTH + 1, width), max(1, height)
        if (width, height) == (self.width, self.height):
            return
        at_end = self.top == self._back_from_end(self.height)
        if width != self.width:
            self._cache.clear()
            self.top = (self.top[0], 0)
        self.width, self.height = width, height
        if at_end:  # following the end of the transcript: keep following it
            self.scroll_to_end()
        self._clamp_bottom()

    def lines_of(self, index: int) -> list[str]:
        """Cell `index` as displayed: rendered (expanded if asked), plus a separator."""
        lines = self._cache.get(index)
        if lines is None:
            cell = self.cells[index]
            inner = self.width - GUTTER_WIDTH
            if self.is_expanded(index) and isinstance(cell, ExpandableCell):
                lines = [*cell.render_expanded(inner, self.theme), ""]
            else:
                lines = [*cell.render(inner, self.theme), ""]
            self.renders += 1
            self._cache[index] = lines
        return lines

    def is_expanded(self, index: int) -> bool:
        return self.all_expanded != (index in self.expanded)

    # --- scrolling -----------------------------------------------------------------------

    def scroll_to_end(self) -> None:
        """Anchor so the last line of the last cell is the bottom row (or show it all)."""
        self.top = self._back_from_end(self.height)

    def scroll_to_start(self) -> None:
        self.top = (0, 0)

    def scroll(self, delta: int) -> None:
        """Move the viewport `delta` lines (negative: up), clamped at both ends."""
        cell, line = self.top
        if delta < 0:
            self.top = self._walk_back(cell, line, -delta)
        else:
            self.top = self._walk_forward(cell, line, delta)
            self._clamp_bottom()
        self._keep_selection_visible()

    def page(self, pages: int) -> None:
        self.scroll(pages * max(1, self.height - 1))

    def _walk_back(self, cell: int, line: int, count: int) -> tuple[int, int]:
        while count > 0:
            if line >= count:
                return cell, line - count
            count -= line
            if cell == 0:
                return 0, 0
            cell -= 1
            line = len(self.lines_of(cell))
        return cell, line

    def _walk_forward(self, cell: int, line: int, count: int) -> tuple[int, int]:
        while count > 0 and cell < len(self.cells):
            remaining = len(self.lines_of(cell)) - line
            if count < remaining:
                return cell, line + count
            count -= remaining
            cell, line = cell + 1, 0
        return cell, line

    def _back_from_end(self, rows: int) -> tuple[int, int]:
        if not self.cells:
            return 0, 0
        last = len(self.cells) - 1
        return self._walk_back(last, len(self.lines_of(last)), rows)

    def _clamp_bottom(self) -> None:
        """Never scroll past the point where the last line is on the bottom row."""
        end = self._back_from_end(self.height)
        if self.top > end:
            self.top = end

    # --- selection and expansion ---------------------------------------------------------

    def visible_cells(self) -> range:
        """Indices of the cells with at least one line in the viewport."""
        cell, line = self.top
        first, rows = cell, self.height
        while rows > 0 and cell < len(self.cells):
            rows -= len(self.lines_of(cell)) - line
            cell, line = cell + 1, 0
        return range(first, max(first, cell))

    def _keep_selection_visible(self) -> None:
        shown = self.visible_cells()
        if shown and self.selected not in shown:
            self.selected = shown[0] if self.selected < shown[0] else shown[-1]

    def select(self, delta: int) -> None:
        """Move the selection `delta` cells and scroll so the selected cell starts in view."""
        if not self.cells:
            return
        self.selected = min(len(self.cells) - 1, max(0, self.selected + delta))
        shown = self.visible_cells()
        if self.selected not in shown or (self.selected == shown[0] and self.top[1] > 0):
            self.top = (self.selected, 0)
            self._clamp_bottom()

    def toggle_selected(self) -> None:
        if not self.cells:
            return
        self.expanded ^= {self.selected}
        self._cache.pop(self.selected, None)
        self._after_size_change()

    def toggle_all(self) -> None:
        self.all_expanded = not self.all_expanded
        self.expanded.clear()
        self._cache.clear()
        self._after_size_change()

    def _after_size_change(self) -> None:
        cell, line = self.top
        if cell < len(self.cells):
            self.top = (cell, min(line, len(self.lines_of(cell)) - 1))
        self._clamp_bottom()

    # --- output --------------------------------------------------------------------------

    def visible_lines(self) -> list[str]:
        """Exactly `height` rows: the viewport's lines with the gutter, blank-padded."""
        rows: list[str] = []
        cell, line = self.top
        while len(rows) < self.height and cell < len(self.cells):
            gutter = GUTTER_SELECTED if cell == self.selected else GUTTER
            for text in self.lines_of(cell)[line:]:
                rows.append(gutter + text if text else "")
                if len(rows) == self.height:
                    break
            cell, line = cell + 1, 0
        return rows + [""] * (self.height - len(rows))

    def footer(self) -> str:
        if not self.cells:
            return "empty transcript · q close"
        state = "expanded" if self.is_expanded(self.selected) else ""
        where = f"cell {self.selected + 1}/{len(self.cells)}{' ' + state if state else ''}"
        return f"{where} · {FOOTER_HELP}"[: self.width]


async def run_transcript_overlay(cells: Sequence[OverlayCell], theme: Any, title: str = "Transcript") -> None:
    """Show `cells` full-screen (alternate screen) until the user closes it (q, Esc, Ctrl-T)."""
    from prompt_toolkit.application import Application
    from prompt_toolkit.formatted_text import ANSI
    from prompt_toolkit.input import create_input
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
    from prompt_toolkit.layout import HSplit, Layout, Window
    from prompt_toolkit.layout.controls import FormattedTextControl

    view: TranscriptView | None = None

    def current() -> TranscriptView:
        nonlocal view
        size = app.output.get_size()
        if view is None:
            view = TranscriptView(cells, size.columns, size.rows - 2, theme)
        else:
            view.resize(size.columns, size.rows - 2)
        return view

    def body() -> ANSI:
        return ANSI("\n".join(current().visible_lines()))

    def header() -> ANSI:
        return ANSI(f"\x1b[1m{title}\x1b[0m")

    def footer() -> ANSI:
        return ANSI(f"\x1b[2m{current().footer()}\x1b[0m")

    keys = KeyBindings()
    actions = {
        "up": lambda v: v.scroll(-1), "k": lambda v: v.scroll(-1),
        "down": lambda v: v.scroll(1), "j": lambda v: v.scroll(1),
        "pageup": lambda v: v.page(-1), "pagedown": lambda v: v.page(1), " ": lambda v: v.page(1),
        "home": lambda v: (v.scroll_to_start(), v.select(-len(cells))),
        "end": lambda v: (v.scroll_to_end(), v.select(len(cells))),
        "tab": lambda v: v.select(1), "s-tab": lambda v: v.select(-1),
        "enter": lambda v: v.toggle_selected(), "e": lambda v: v.toggle_all(),
    }
    for key, action in actions.items():
        keys.add(key)(lambda event, action=action: action(current()))

    @keys.add("q")
    @keys.add("escape", eager=True)
    @keys.add("c-t")
    @keys.add("c-c")
    def _close(event: KeyPressEvent) -> None:
        event.app.exit()

    layout = Layout(HSplit([
        Window(FormattedTextControl(header), height=1),
        Window(FormattedTextControl(body), wrap_lines=False),
        Window(FormattedTextControl(footer), height=1),
    ]))
    # An input (key parser) of its own, not the app session's shared one: the suspended
    # composer app may still have a pending flush timer on the shared parser, which would
    # steal a lone Esc typed here within half a second of the key that opened this view.
    app: Application[None] = Application(
        layout=layout, key_bindings=keys, full_screen=True, input=create_input()
    )
    await app.run_async()
