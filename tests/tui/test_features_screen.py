"""T2's TUI features on the real screen: the installed `pycodex` in a pty (pyte) against
the mock model — /status, the /resume picker, `@` file completion, `!cmd`, Esc-Esc
backtrack and the Ctrl-T transcript overlay."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from tests.support.exec_cli import ExecHarness
from tests.support.mock_model import function_call, message, response
from tests.support.terminal import KEYS, PtyTerminal, ctrl
from tests.tui.conftest import prompt_ready

pytestmark = pytest.mark.e2e


def started(start_tui: Callable[..., PtyTerminal], *args: str, **kw: object) -> PtyTerminal:
    term = start_tui(*args, **kw)
    term.wait_until(lambda: prompt_ready(term), what="the composer")
    return term


def ask(term: PtyTerminal, text: str, answer_shown: str) -> None:
    term.send(text + "\r")
    term.wait_for_anywhere(answer_shown)
    term.wait_until(lambda: prompt_ready(term), what="the composer after the turn")


def test_status_shows_model_policies_and_thread(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(response(message("hello there")))
    term = started(start_tui)
    ask(term, "hi", "hello there")
    term.send("/status\r")
    term.wait_for("Thread:")
    screen = term.screen_text()
    for expected in ("Model:", "gpt-5.5", "Provider:", "mock", "Approval:", "Sandbox:",
                     "Tokens:", "110 total", str(tui_world.workspace)):
        assert expected in screen, expected


def test_resume_picker_searches_threads_and_resumes_the_choice(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(response(message("answer about apples")),
                           response(message("answer about bananas")))
    assert tui_world.run("tell me about apples").rc == 0
    assert tui_world.run("tell me about bananas").rc == 0
    term = started(start_tui)
    term.send("/resume\r")
    term.wait_for("Resume a thread")
    term.wait_for("tell me about apples")
    term.send("appl")
    term.wait_until(lambda: "bananas" not in term.screen_text(), what="the search to filter")
    term.send(KEYS["enter"])
    term.wait_for_anywhere("answer about apples")  # the resumed thread's history is shown
    term.wait_until(lambda: prompt_ready(term), what="the composer")
    tui_world.mock.enqueue(response(message("more apples")))
    ask(term, "and more?", "more apples")
    sent = tui_world.mock.requests[-1].body["input"]
    assert "tell me about apples" in str(sent) and "bananas" not in str(sent)


def test_at_completes_a_workspace_file(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    (tui_world.workspace / "src").mkdir()
    (tui_world.workspace / "src" / "payment_gateway.py").write_text("")
    term = started(start_tui)
    term.send("look at @paygate")
    term.wait_for("src/payment_gateway.py")  # in the completion menu
    term.send(KEYS["tab"])
    term.wait_until(
        lambda: "look at src/payment_gateway.py" in term.screen_lines()[term.cursor[1]],
        what="the path in the composer",
    )


def test_bang_runs_a_shell_command_and_shows_its_output(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    term = started(start_tui)
    term.send("!echo bang-$((6*7)) && pwd\r")
    term.wait_for("bang-42")
    term.wait_for(str(tui_world.workspace))
    assert tui_world.mock.requests == []  # the model was not asked


def test_esc_esc_goes_back_to_an_earlier_message_in_a_fork(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(response(message("one done")), response(message("two done")))
    term = started(start_tui)
    ask(term, "step one", "one done")
    ask(term, "step two", "two done")
    term.send(KEYS["esc"])
    term.send(KEYS["esc"])
    term.wait_for("Back to an earlier message")
    term.send(KEYS["enter"])  # the most recent: "step two"
    term.wait_until(lambda: "step two" in term.screen_lines()[term.cursor[1]],
                    what="the message back in the composer")
    term.send(ctrl("u"))
    tui_world.mock.enqueue(response(message("two again")))
    ask(term, "step two, edited", "two again")
    sent = str(tui_world.mock.requests[-1].body["input"])
    assert "step one" in sent and "step two, edited" in sent and "'step two'" not in sent


def test_ctrl_t_overlay_shows_the_transcript_and_closes_cleanly(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(response(message("first reply")), response(message("second reply")))
    term = started(start_tui)
    ask(term, "first", "first reply")
    ask(term, "second", "second reply")
    before = term.all_text()
    term.send(ctrl("t"))
    term.wait_until(lambda: term.screen.in_alternate_screen, what="the overlay")
    term.wait_for("second reply")
    term.send(KEYS["home"])
    term.wait_for("first reply")
    term.send("q")
    term.wait_until(lambda: not term.screen.in_alternate_screen, what="the overlay to close")
    term.wait_until(lambda: prompt_ready(term), what="the composer")
    assert term.all_text().count("first reply") == before.count("first reply")


def test_ctrl_t_expands_a_long_command_output_that_scrollback_shows_cut(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    script = "for i in $(seq -w 1 100); do echo out-$i; done"
    tui_world.mock.enqueue(
        response(function_call("shell", {"command": ["bash", "-c", script]}, "call_1")),
        response(message("printed them")),
    )
    term = started(start_tui, "-a", "never")
    ask(term, "print 100 lines", "printed them")
    assert "out-100" in term.all_text() and "out-001" not in term.all_text()  # cut to its tail
    term.send(ctrl("t"))
    term.wait_until(lambda: term.screen.in_alternate_screen, what="the overlay")
    term.send(KEYS["home"])
    term.wait_for("earlier lines")  # the command cell, still collapsed
    assert "out-001" not in term.screen_text()
    term.send("e")  # expand every long output
    term.wait_for("out-001")
    term.send(KEYS["pagedown"])
    term.wait_for("out-030")
    term.send("q")
    term.wait_until(lambda: not term.screen.in_alternate_screen, what="the overlay to close")
    assert "out-001" not in term.all_text()  # the scrollback was not touched


def test_copy_sends_the_last_answer_to_the_terminal_clipboard(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(response(message("copy me, please")))
    term = started(start_tui)
    ask(term, "say something", "copy me, please")
    term.send("/copy\r")
    term.wait_for("Copied the last answer")
    payload = base64.b64encode(b"copy me, please")
    assert b"\x1b]52;c;" + payload + b"\x07" in bytes(term.raw)


def test_diff_shows_the_working_tree_changes_as_a_diff(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    (tui_world.workspace / "existing.txt").write_text("new line\n")
    term = started(start_tui)
    term.send("/diff\r")
    term.wait_for("+new line")
    assert "-old line" in term.screen_text()
