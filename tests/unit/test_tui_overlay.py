"""The transcript overlay's view (pycodex.frontends.tui.overlay.TranscriptView): what it
shows, how it scrolls and expands, and that it renders only what is visible."""

from __future__ import annotations

from typing import Any

from pycodex.frontends.tui.overlay import TranscriptView


class Cell:
    """A cell of `n` lines "name:0".."name:n-1"; counts its renders."""

    def __init__(self, name: str, n: int = 1) -> None:
        self.name, self.n, self.renders = name, n, 0

    def render(self, width: int, theme: Any) -> list[str]:
        self.renders += 1
        return [f"{self.name}:{i}"[:width] for i in range(self.n)]


class LongOutput(Cell):
    """Collapsed: the first and last line around a marker; expanded: every line."""

    def render(self, width: int, theme: Any) -> list[str]:
        self.renders += 1
        return [f"{self.name}:0", f"… {self.n - 2} more lines", f"{self.name}:{self.n - 1}"]

    def render_expanded(self, width: int, theme: Any) -> list[str]:
        return [f"{self.name}:{i}" for i in range(self.n)]


def text(view: TranscriptView) -> list[str]:
    return [line.replace("\x1b[36m▌\x1b[0m ", "> ").strip() for line in view.visible_lines()]


def joined(view: TranscriptView) -> str:
    return "\n".join(text(view))


def test_opens_at_the_end_with_the_last_cell_selected() -> None:
    cells = [Cell(f"c{i}", 2) for i in range(10)]
    view = TranscriptView(cells, 40, 5, theme=None)
    # Each cell is 2 lines + a separator; the bottom row is the last cell's separator.
    assert text(view) == ["c8:1", "", "> c9:0", "> c9:1", ""]
    assert view.selected == 9
    assert view.footer().startswith("cell 10/10")


def test_opening_a_5000_cell_transcript_renders_only_the_visible_cells() -> None:
    cells = [Cell(f"c{i}", 3) for i in range(5000)]
    view = TranscriptView(cells, 80, 30, theme=None)
    view.visible_lines()
    assert sum(c.renders for c in cells) <= 30 // 4 + 2
    view.scroll_to_start()
    view.visible_lines()
    view.page(1)
    view.visible_lines()
    assert sum(c.renders for c in cells) <= 3 * (30 // 4 + 2)
    assert cells[2500].renders == 0


def test_scrolling_by_lines_and_pages_is_clamped_at_both_ends() -> None:
    cells = [Cell(f"c{i}", 1) for i in range(6)]  # 12 lines with separators
    view = TranscriptView(cells, 40, 4, theme=None)
    view.scroll(1)  # already at the end
    assert text(view) == ["c4:0", "", "> c5:0", ""]
    view.scroll(-3)
    assert text(view) == ["", "c3:0", "", "> c4:0"]  # the selection moved into view
    view.page(-10)
    assert view.top == (0, 0)
    assert text(view)[0].endswith("c0:0")
    view.page(10)
    assert text(view) == ["> c4:0", "", "c5:0", ""]
    view.scroll(5)
    assert text(view) == ["> c4:0", "", "c5:0", ""]


def test_selection_follows_the_viewport_and_tab_scrolls_to_the_selected_cell() -> None:
    cells = [Cell(f"c{i}", 3) for i in range(20)]
    view = TranscriptView(cells, 40, 4, theme=None)
    view.scroll_to_start()
    view.scroll(0)
    assert view.selected == 0  # the last cell left the viewport: selection moved into it
    view.select(5)
    assert view.selected == 5
    assert text(view)[0] == "> c5:0"
    view.select(-2)
    assert text(view)[0] == "> c3:0"


def test_a_long_output_expands_in_place_and_collapses_again() -> None:
    cells = [Cell("a"), LongOutput("out", 50), Cell("b")]
    view = TranscriptView(cells, 40, 60, theme=None)
    assert "… 48 more lines" in joined(view)
    assert "out:17" not in joined(view)
    view.select(-1)
    view.toggle_selected()
    assert "> out:17\n" in joined(view)
    assert "expanded" in view.footer()
    view.toggle_selected()
    assert "out:17" not in joined(view)
    view.toggle_all()  # every expandable cell; plain cells are unaffected
    assert "out:17" in joined(view)
    assert "b:0" in joined(view)


def test_expanding_a_cell_above_the_viewport_keeps_the_view_valid() -> None:
    cells = [LongOutput(f"o{i}", 40) for i in range(5)]
    view = TranscriptView(cells, 40, 6, theme=None)
    view.toggle_all()
    view.scroll_to_end()
    assert text(view)[-2] == "> o4:39"
    view.toggle_all()
    assert text(view)[-2] == "> o4:39"
    assert all(line == "" or ":" in line or "more lines" in line for line in text(view))


def test_resize_rewraps_at_the_new_width_and_keeps_the_end_in_view() -> None:
    cells = [Cell("abcdefghijklmnopqrstuvwxyz", 1) for _ in range(3)]
    view = TranscriptView(cells, 40, 3, theme=None)
    assert text(view)[-2] == "> abcdefghijklmnopqrstuvwxyz:0"
    view.resize(12, 3)
    assert text(view)[-2] == "> abcdefghij"  # 12 columns minus the 2-column gutter
    assert all(len(line) <= 12 for line in text(view))


def test_an_empty_transcript_shows_blank_rows() -> None:
    view = TranscriptView([], 40, 3, theme=None)
    assert view.visible_lines() == ["", "", ""]
    view.scroll(5)
    view.select(1)
    view.toggle_selected()
    assert "empty" in view.footer()
