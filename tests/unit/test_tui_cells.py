"""TUI cells and session state as pure functions: v2 notifications in, cells and lines out."""

from __future__ import annotations

from pycodex.frontends.tui.cells import AgentCell, CommandCell, PatchCell, hard_line_breaks
from pycodex.frontends.tui.session import SessionState
from pycodex.frontends.tui.theme import Theme, theme_from_env

PLAIN = Theme(color=False)


def test_an_answer_keeps_its_line_breaks_and_renders_markdown() -> None:
    lines = AgentCell("**bold** words\nnext line\n\n```\ncode  \n```").render(60, PLAIN)
    text = "\n".join(lines)
    assert "• bold words" in text and "next line" in text
    assert text.index("bold words") < text.index("next line") < text.index("code")
    assert hard_line_breaks("a\nb") == "a  \nb  " and hard_line_breaks("```\na\n```") == "```\na\n```"


def test_long_command_output_shows_its_tail_and_expands() -> None:
    cell = CommandCell("seq 1 20", "\n".join(str(n) for n in range(1, 21)) + "\n", exit_code=0, status="completed")
    short, full = "\n".join(cell.render(80, PLAIN)), "\n".join(cell.render_expanded(80, PLAIN))
    assert "✓ $ seq 1 20" in short and "… 12 earlier lines" in short and "  20" in short and "  1\n" not in short
    assert "  1\n" in full and "earlier lines" not in full
    failed = "\n".join(CommandCell("false", "", exit_code=1, status="completed").render(80, PLAIN))
    assert "✗ $ false" in failed and "(exit 1)" in failed


def test_a_patch_shows_its_diff_coloured_only_with_colour() -> None:
    cell = PatchCell([{"path": "a.txt", "kind": {"type": "update"}, "diff": "@@ -1 +1 @@\n-old\n+new\n"}], "completed")
    plain = cell.render(80, PLAIN)
    assert "Edited a.txt" in "\n".join(plain) and "  -old" in plain and "  +new" in plain
    assert all("\x1b[" not in line for line in plain)
    assert any("\x1b[" in line for line in cell.render(80, Theme(color=True)))


def test_no_color_and_light_terminals_from_the_environment() -> None:
    assert theme_from_env({"NO_COLOR": "1"}).color is False
    assert theme_from_env({"COLORFGBG": "0;15"}).dark is False
    assert theme_from_env({}).color and theme_from_env({}).dark


def test_notifications_become_cells_once_finished() -> None:
    state = SessionState()
    state.thread_id = "t"
    ids = {"threadId": "t", "turnId": "u"}
    assert state.on_notification("turn/started", {"threadId": "t", "turn": {"id": "u"}}) == []
    state.on_notification("item/agentMessage/delta", {**ids, "itemId": "m", "delta": "Hel"})
    state.on_notification("item/agentMessage/delta", {**ids, "itemId": "m", "delta": "lo"})
    assert state.turn is not None and state.turn.answer == "Hello"
    cells = state.on_notification("item/completed", {**ids, "item": {"type": "agentMessage", "id": "m", "text": "Hello"}})
    assert cells == [AgentCell("Hello")] and state.turn.answer == "" and state.last_agent_message == "Hello"
    # Another thread's notifications are not this session's.
    assert state.on_notification("item/completed", {"threadId": "x", "item": {"type": "agentMessage", "text": "no"}}) == []
    done = state.on_notification("turn/completed", {"threadId": "t", "turn": {"id": "u", "status": "interrupted"}})
    assert state.turn is None and "Interrupted" in done[0].text
    assert [type(c).__name__ for c in state.cells] == ["AgentCell", "NoticeCell"]
