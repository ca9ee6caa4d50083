"""The TUI's core on a real screen: the installed `pycodex` in a pty decoded by pyte,
against the mock model — a turn streamed into scrollback, the first prompt on the command
line, approvals with each decision, a patch's diff, interrupting, resizing, NO_COLOR, and
quitting with the terminal given back."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.support.exec_cli import ExecHarness
from tests.support.mock_model import custom_tool_call, function_call, message, response
from tests.support.terminal import KEYS, PtyTerminal, ctrl
from tests.tui.conftest import prompt_ready

pytestmark = pytest.mark.e2e


def started(start_tui: Callable[..., PtyTerminal], *args: str, **kw: object) -> PtyTerminal:
    term = start_tui(*args, **kw)
    term.wait_until(lambda: prompt_ready(term), what="the composer")
    return term


def idle(term: PtyTerminal) -> None:
    term.wait_until(lambda: prompt_ready(term) and "working" not in term.screen_text(), what="the turn to end")


def shell(cmd: str, call_id: str = "call_1") -> dict[str, object]:
    return function_call("shell", {"command": ["bash", "-c", cmd]}, call_id=call_id)


def test_a_turn_streams_into_scrollback_and_the_composer_comes_back(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(response(message("Paris is the **capital**.\nSecond line.")))
    term = started(start_tui)
    term.send("capital of France?\r")
    term.wait_for_anywhere("Paris is the capital.")
    idle(term)
    text = term.all_text()
    assert text.index("› capital of France?") < text.index("Paris is the capital.") < text.index("Second line.")
    assert text.count("Paris is the capital.") == 1
    assert "capital of France?" in str(tui_world.mock.requests[-1].body["input"])
    history = (tui_world.home / "history.jsonl").read_text().splitlines()
    assert json.loads(history[-1])["text"] == "capital of France?"


def test_the_first_message_can_come_from_the_command_line(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(response(message("hi from the model")))
    term = start_tui("say hi")
    term.wait_for_anywhere("hi from the model")
    idle(term)
    assert "say hi" in str(tui_world.mock.requests[-1].body["input"])


@pytest.mark.parametrize(
    ("key", "ran", "after"),
    [("y", True, "all done"), ("a", True, "all done"), ("n", False, "all done"), (KEYS["esc"], False, "Interrupted")],
    ids=["yes", "yes-for-session", "no", "no-and-stop"],
)
def test_a_command_approval_is_asked_inline(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness, key: str, ran: bool, after: str
) -> None:
    tui_world.mock.enqueue(response(shell("touch approved.txt")), response(message("all done")))
    term = started(start_tui, "-a", "untrusted")
    term.send("make the file\r")
    term.wait_for("Run this command?")
    screen = term.screen_text()
    assert "touch approved.txt" in screen and str(tui_world.workspace) in screen
    assert "[y] yes" in screen and "[n] no" in screen
    term.send(key)
    term.wait_for_anywhere(after)
    idle(term)
    assert (tui_world.workspace / "approved.txt").exists() == ran
    assert "Run this command?" not in term.screen_text()


def test_a_patch_approval_shows_the_diff_first(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    patch = "*** Begin Patch\n*** Update File: existing.txt\n@@\n-old line\n+new line\n*** End Patch\n"
    tui_world.mock.enqueue(response(custom_tool_call("apply_patch", patch)), response(message("patched")))
    term = started(start_tui, "-a", "untrusted", "-s", "read-only")
    term.send("edit it\r")
    term.wait_for("Apply these changes?")
    screen = term.screen_text()
    assert "-old line" in screen and "+new line" in screen
    term.send("y")
    term.wait_for_anywhere("patched")
    idle(term)
    assert (tui_world.workspace / "existing.txt").read_text() == "new line\n"


def test_esc_interrupts_the_running_command(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(response(shell("echo started; exec sleep 30")))
    term = started(start_tui, "-s", "danger-full-access", "-a", "never")
    term.send("wait a while\r")
    term.wait_for("sleep 30")
    term.wait_for("Esc to interrupt")
    term.send(KEYS["esc"])
    term.wait_for_anywhere("Interrupted")
    idle(term)
    assert len(tui_world.mock.requests) == 1  # nothing more was asked of the model


def test_a_resize_rewraps_the_live_region_and_replays_nothing(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(response(message("the first answer")),
                           response(shell("echo running; exec sleep 30")))
    term = started(start_tui, "-s", "danger-full-access", "-a", "never", cols=100)
    term.send("one\r")
    term.wait_for_anywhere("the first answer")
    idle(term)
    term.send("two\r")
    term.wait_for("sleep 30")  # a command is running: the live region is up
    term.resize(60, 30)
    term.wait_until(lambda: prompt_ready(term), what="the composer after the resize")
    term.resize(90, 30)
    term.wait_until(lambda: prompt_ready(term), what="the composer after the resize")
    assert term.all_text().count("the first answer") == 1
    term.send(KEYS["esc"])
    term.wait_for_anywhere("Interrupted")


def test_no_color_means_no_colour(start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness) -> None:
    tui_world.mock.enqueue(response(message("plain **bold** `code`")))
    term = started(start_tui, env={"NO_COLOR": "1"})
    term.send("hi\r")
    term.wait_for_anywhere("plain bold")
    idle(term)
    y = next(i for i, line in enumerate(term.screen_lines()) if "plain bold" in line)
    chars = term.screen.buffer[y]
    styled = [c for c in chars.values() if c.fg != "default" or c.bg != "default"]
    assert styled == []


def test_ctrl_c_twice_on_an_empty_composer_quits_cleanly(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    term = started(start_tui)
    term.send(ctrl("c"))
    term.wait_for("Press Ctrl-C again to quit")
    term.send(ctrl("c"))
    assert term.wait_exit() == 0


def test_remote_attaches_to_a_running_app_server(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    import re
    import subprocess

    from tests.support.exec_cli import PYCODEX

    server = subprocess.Popen([str(PYCODEX), "app-server", "--listen", "ws://127.0.0.1:0"], env=tui_world.env,
                              cwd=tui_world.workspace, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        url = ""
        while not url:
            line = server.stderr.readline()
            assert line, "the app-server ended before listening"
            found = re.search(r"listening on: (ws://\S+)", line)
            url = found.group(1) if found else ""
        tui_world.mock.enqueue(response(message("answered by the remote server")))
        term = started(start_tui, "--remote", url)
        term.send("hello remote\r")
        term.wait_for_anywhere("answered by the remote server")
        idle(term)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_fatal_error_is_one_line_naming_the_log(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    term = start_tui("--remote", "ws://127.0.0.1:9")  # nothing listens there
    assert term.wait_exit() == 1
    text = term.all_text()
    assert "pycodex: " in text and "tui.log" in text


def test_approvals_preset_applies_to_the_next_turn(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(response(shell("touch outside-ok.txt")), response(message("done")))
    term = started(start_tui, "-a", "untrusted", "-s", "read-only")
    term.send("/approvals full access\r")
    term.wait_for("Approval policy never, sandbox danger-full-access")
    term.send("make it\r")
    term.wait_for_anywhere("done")
    idle(term)
    assert (tui_world.workspace / "outside-ok.txt").exists()  # ran unasked, unsandboxed
    assert "Run this command?" not in term.all_text()


def test_ctrl_r_finds_an_earlier_message_in_the_history(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    history = tui_world.home / "history.jsonl"
    history.write_text(json.dumps({"session_id": "s", "ts": 1, "text": "refactor the parser"}) + "\n"
                       + json.dumps({"session_id": "s", "ts": 2, "text": "add a test"}) + "\n")
    term = started(start_tui)
    term.send(ctrl("r"))
    term.send("parser")
    term.wait_for("refactor the parser")
    term.send(KEYS["enter"])  # accept the match into the composer (not send it)
    term.wait_until(lambda: "refactor the parser" in term.screen_lines()[term.cursor[1]],
                    what="the found message in the composer")
    assert tui_world.mock.requests == []


def test_up_recalls_the_previous_message(start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness) -> None:
    (tui_world.home / "history.jsonl").write_text(json.dumps({"session_id": "s", "ts": 1, "text": "from last time"}) + "\n")
    term = started(start_tui)
    term.send(KEYS["up"])
    term.wait_until(lambda: "from last time" in term.screen_lines()[term.cursor[1]], what="the recalled message")


def test_enter_during_a_turn_steers_it_and_tab_queues_for_after_it(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    tui_world.mock.enqueue(
        response(shell("echo step; sleep 2")), response(message("first done")),  # the steered turn
        response(message("queued done")),  # the queued message's own turn
    )
    term = started(start_tui, "-s", "danger-full-access", "-a", "never")
    term.send("start\r")
    term.wait_for("sleep 2")
    term.send("also mention the weather\r")  # Enter: into the running turn
    term.send("then summarise")
    term.send(KEYS["tab"])  # Tab: after this turn
    term.wait_for("1 queued")
    term.wait_for_anywhere("queued done", timeout=20)
    idle(term)
    first_follow_up, queued_turn = (str(r.body["input"]) for r in tui_world.mock.requests[1:3])
    assert "also mention the weather" in first_follow_up and "then summarise" not in first_follow_up
    assert "then summarise" in queued_turn


def test_a_large_paste_arrives_whole_without_sending(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    pasted = "\n".join(f"line {n} of the pasted log" for n in range(300))
    term = started(start_tui)
    term.send("\x1b[200~" + pasted + "\x1b[201~")  # as a terminal delivers a paste
    term.wait_for("line 299 of the pasted log")
    assert tui_world.mock.requests == []  # its newlines did not send it
    tui_world.mock.enqueue(response(message("got it")))
    term.send("\r")
    term.wait_for_anywhere("got it")
    assert "line 0 of the pasted log" in str(tui_world.mock.requests[-1].body["input"])
    assert "line 299 of the pasted log" in str(tui_world.mock.requests[-1].body["input"])


def test_status_names_the_account_and_logout_removes_it(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    (tui_world.home / "auth.json").write_text(json.dumps({"OPENAI_API_KEY": "sk-stored", "auth_mode": "apikey"}))
    (tui_world.home / "auth.json").chmod(0o600)
    term = started(start_tui)
    term.send("/status\r")
    term.wait_for("Account:")
    assert "API key" in next(line for line in term.screen_lines() if "Account:" in line)
    term.send("/logout\r")
    term.wait_for("Signed out")
    assert not (tui_world.home / "auth.json").exists()
    term.send("/status\r")
    term.wait_until(lambda: any("Account:" in line and "none" in line for line in term.screen_lines()),
                    what="the account gone from /status")


def test_a_custom_prompt_is_a_slash_command_with_arguments(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    prompts = tui_world.home / "prompts"
    prompts.mkdir()
    (prompts / "greet.md").write_text("---\ndescription: greet someone\nargument-hint: NAME\n---\nSay hello to $1, warmly.\n")
    tui_world.mock.enqueue(response(message("hello sent")))
    term = started(start_tui)
    term.send("/prom")
    term.wait_for("/prompts:greet")  # offered in the completion menu, with its description
    assert "greet someone" in term.screen_text()
    term.send("pts:greet Ada\r")
    term.wait_for_anywhere("hello sent")
    assert "Say hello to Ada, warmly." in str(tui_world.mock.requests[-1].body["input"])


def test_undo_restores_the_files_the_last_turn_changed(
    start_tui: Callable[..., PtyTerminal], tui_world: ExecHarness
) -> None:
    patch = "*** Begin Patch\n*** Update File: existing.txt\n@@\n-old line\n+new line\n*** End Patch\n"
    tui_world.mock.enqueue(response(custom_tool_call("apply_patch", patch)), response(message("patched")))
    term = started(start_tui, "-s", "workspace-write", "-a", "never")
    term.send("edit it\r")
    term.wait_for_anywhere("patched")
    idle(term)
    assert (tui_world.workspace / "existing.txt").read_text() == "new line\n"
    term.send("/undo\r")
    term.wait_for("/undo:")
    assert (tui_world.workspace / "existing.txt").read_text() == "old line\n"
