"""`exec_command`/`write_stdin` through the installed `pycodex exec --json`.

The model is gpt-5.5 (the harness default), which is offered exec_command as in Codex.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.exec_cli import ExecHarness, call_outputs, kill_matching, wait_until_gone
from tests.support.mock_model import RecordedRequest, Reply, function_call, message, response

pytestmark = pytest.mark.e2e


@pytest.fixture
def sleep_marker() -> Iterator[str]:
    marker = f"sleep 28.{random.randrange(10**6):06d}"
    try:
        yield marker
    finally:
        kill_matching(marker)


def exec_call(call_id: str, cmd: str, **extra: Any) -> dict[str, Any]:
    return function_call("exec_command", {"cmd": cmd, **extra}, call_id=call_id)


def session_id_in(request: RecordedRequest) -> int:
    out = call_outputs(request)[-1][1]
    marker = "Process running with session ID "
    assert marker in out, out
    return int(out.split(marker, 1)[1].split("\n", 1)[0])


def test_repl_session_over_write_stdin_in_exec_json(harness: ExecHarness) -> None:
    def write(call_id: str, chars: str) -> Any:
        def reply(request: RecordedRequest) -> Reply:
            args = {"session_id": session_id_in(request), "chars": chars, "yield_time_ms": 1500}
            return response(function_call("write_stdin", args, call_id=call_id))
        return reply

    harness.mock.enqueue(
        response(exec_call("c1", "python3 -q -i", tty=True, login=False, yield_time_ms=1500)),
        write("c2", "print(6 * 7)\n"),
        write("c3", "exit()\n"),
        response(message("The answer is 42.")),
    )
    r = harness.run("--json", "-s", "danger-full-access", "use python")
    assert r.rc == 0, r.stderr
    outs = [call_outputs(req)[-1][1] for req in harness.mock.model_requests()[1:]]
    assert "Process running with session ID" in outs[0]
    assert "42" in outs[1]
    assert "Process exited with code 0" in outs[2]
    [cmd] = r.items("command_execution")
    assert cmd["command"] == "/bin/bash -c 'python3 -q -i'"
    assert cmd["status"] == "completed" and cmd["exit_code"] == 0 and "42" in cmd["aggregated_output"]
    assert r.pairs()[-2:] == [("item.completed", "agent_message"), ("turn.completed", None)]


def test_command_still_running_at_turn_end_is_completed_in_progress_and_killed(
    harness: ExecHarness, sleep_marker: str
) -> None:
    script = f"echo serving; sleep 1.2; echo tick; {sleep_marker}"
    harness.mock.enqueue(
        response(exec_call("c1", script, yield_time_ms=300)),
        lambda req: response(function_call(
            "write_stdin", {"session_id": session_id_in(req), "chars": "", "yield_time_ms": 5000},
            call_id="c2")),
        response(message("Server is up.")),
    )
    started = time.monotonic()
    r = harness.run("--json", "-s", "workspace-write", "start a server")
    assert r.rc == 0, r.stderr
    assert time.monotonic() - started < 15
    pairs = r.pairs()
    assert pairs[:2] == [("thread.started", None), ("turn.started", None)]
    assert pairs[2] == ("item.started", "command_execution")
    # Output that arrives while it runs shows up as item.updated (the command ran > 1 s).
    updates = r.items("command_execution", event="item.updated")
    assert updates and "serving" in updates[-1]["aggregated_output"]
    [done] = r.items("command_execution")
    assert done["status"] == "in_progress" and done["exit_code"] is None
    assert "serving" in done["aggregated_output"] and "tick" in done["aggregated_output"]
    assert pairs[-3:] == [("item.completed", "agent_message"), ("item.completed", "command_execution"),
                          ("turn.completed", None)]
    assert wait_until_gone(sleep_marker) == [], "the session's process outlived pycodex exec"
    second = json.dumps(harness.mock.model_requests()[2].body["input"])
    assert "tick" in second
