"""The TUI inside a real terminal multiplexer (tmux from Debian, installed by .ci/run):
typed with send-keys, read with capture-pane. The finished transcript goes into tmux's own
history, so after 200 more lines the first answer is found by scrolling back there —
exactly once (nothing replayed), in order, and the TUI never switched to the alternate
screen."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.exec_cli import ExecHarness
from tests.support.mock_model import message, response
from tests.support.terminal import TmuxTerminal
from tests.tui.conftest import pane_prompt_ready

pytestmark = pytest.mark.e2e

FIRST = "FIRST-ANSWER the capital is Paris"
LONG = "```text\n" + "\n".join(f"later line {n:03d}" for n in range(1, 201)) + "\n```"


def send_line(tmux: TmuxTerminal, text: str) -> None:
    tmux.type_text(text)
    tmux.send_keys("Enter")


def test_first_answer_is_found_in_tmux_history_after_200_more_lines(
    start_tmux_tui: Callable[..., TmuxTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(response(message(FIRST)), response(message(LONG)))
    tmux = start_tmux_tui(cols=100, rows=30, history=5000)
    tmux.wait_until(lambda: pane_prompt_ready(tmux.capture()), what="the composer")

    send_line(tmux, "what is the capital of France?")
    tmux.wait_for(FIRST)
    send_line(tmux, "print 200 lines")
    tmux.wait_for("later line 200")

    visible = tmux.capture()
    assert FIRST not in visible  # scrolled out of the pane...
    history = tmux.capture(history=True)
    assert history.count(FIRST) == 1  # ...into tmux's history, once: no replay
    assert history.count("later line 001") == 1
    assert history.index("what is the capital") < history.index(FIRST) < history.index("later line 001")
    # The 200 lines and what came before them, less the 30 rows still in the pane.
    assert tmux.history_size() >= 200 - 30
    # Scrolling back: the history lines just above the first of the 200.
    above = tmux.tmux("capture-pane", "-p", "-t", tmux.target, "-S", "-", "-E", "-1")
    assert FIRST in above
    assert tmux.tmux("display-message", "-p", "-t", tmux.target, "#{alternate_on}").strip() == "0"

    send_line(tmux, "/quit")
    tmux.wait_for("[pycodex exited 0]")
