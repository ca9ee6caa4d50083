"""Nothing hangs: bad input is refused at the door, a failing tool ends the turn.

The installed CLI against the mock model. Faults inside a turn are injected through two
hidden test tools (`PYCODEX_TEST_FAULT_TOOLS=1`): `test_raise` raises as a buggy tool
would; `test_wait` blocks until cancelled and then leaves a marker file.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.exec_cli import PYCODEX, ExecHarness
from tests.support.mock_model import function_call, message, response

pytestmark = pytest.mark.e2e


def run_bytes(harness: ExecHarness, stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(PYCODEX), "exec", *args], input=stdin, capture_output=True,
        cwd=harness.workspace, env=harness.env, timeout=20, check=False,
    )


@pytest.mark.parametrize(
    ("data", "bad_byte", "offset"),
    [
        ("café au lait".encode("latin-1"), 0xE9, 3),
        ("hi".encode("utf-16"), 0xFF, 0),
    ],
    ids=["latin-1", "utf-16"],
)
def test_a_prompt_that_is_not_utf8_is_refused_naming_the_byte(
    harness: ExecHarness, data: bytes, bad_byte: int, offset: int
) -> None:
    result = run_bytes(harness, data, "--json", "-")
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert f"stdin is not valid UTF-8: byte 0x{bad_byte:02x} at offset {offset}" in stderr
    assert "Traceback" not in stderr
    # Refused before anything happened: no request, nothing recorded.
    assert harness.mock.model_requests() == []
    assert harness.rollouts() == []


def test_a_prompt_argument_that_is_not_utf8_is_refused(harness: ExecHarness) -> None:
    result = subprocess.run(
        [str(PYCODEX).encode(), b"exec", b"--json", b"ab\xffcd"], capture_output=True,
        stdin=subprocess.DEVNULL, cwd=harness.workspace, env=harness.env, timeout=20, check=False,
    )
    assert result.returncode == 1
    assert "the prompt argument is not valid UTF-8: byte 0xff at offset 2" in result.stderr.decode()
    assert harness.mock.model_requests() == []


def test_a_tool_that_raises_ends_the_turn_with_one_line(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(function_call("test_raise", {}, "call_boom")))
    env = {**harness.env, "PYCODEX_TEST_FAULT_TOOLS": "1"}
    r = harness.run("--json", "break something", env=env)
    assert r.rc == 1, r.stderr
    failed = [e for e in r.events or [] if e["type"] in ("turn.failed", "error")]
    assert failed, r.stdout
    assert "internal error: RuntimeError: injected fault" in r.stdout
    assert r.events is not None and r.events[-1]["type"] == "turn.failed"
    # The call got an output, so the thread can go on (and resume) after the failure.
    [rollout] = harness.rollouts()
    outputs = [json.loads(line)["payload"] for line in rollout.read_text().splitlines()
               if '"function_call_output"' in line]
    assert [o["call_id"] for o in outputs] == ["call_boom"]


def test_the_other_calls_of_the_response_are_cancelled_and_answered(
    harness: ExecHarness, tmp_path: Path
) -> None:
    marker = tmp_path / "cancelled"
    harness.mock.enqueue(response(
        function_call("test_wait", {"marker": str(marker)}, "call_wait"),
        function_call("test_raise", {}, "call_boom"),
    ))
    env = {**harness.env, "PYCODEX_TEST_FAULT_TOOLS": "1"}
    proc = harness.spawn("--json", "two calls", env=env)
    assert proc.stdout is not None
    # Cancelled (and awaited) before the turn reports its failure, not left running until
    # the process exits: the marker is there when the failure is printed.
    seen_when_failed = None
    for line in proc.stdout:
        if json.loads(line)["type"] == "turn.failed":
            seen_when_failed = marker.exists()
    assert proc.wait(timeout=20) == 1
    assert seen_when_failed is True
    [rollout] = harness.rollouts()
    answered = {json.loads(line)["payload"]["call_id"] for line in rollout.read_text().splitlines()
                if '"function_call_output"' in line}
    assert answered == {"call_wait", "call_boom"}


def test_the_thread_goes_on_after_a_failed_turn(harness: ExecHarness) -> None:
    """The failed turn left a consistent history: resuming it sends every call answered."""
    harness.mock.enqueue(response(function_call("test_raise", {}, "call_boom")))
    env = {**harness.env, "PYCODEX_TEST_FAULT_TOOLS": "1"}
    assert harness.run("--json", "first", env=env).rc == 1
    harness.mock.enqueue(response(message("fine now")))
    r = harness.run("--json", "resume", "--last", "again", env=env)
    assert r.rc == 0, r.stderr
    body = harness.mock.model_requests()[-1].body
    calls = {i["call_id"] for i in body["input"] if i.get("type") == "function_call"}
    outputs = {i["call_id"] for i in body["input"] if i.get("type") == "function_call_output"}
    assert calls == outputs == {"call_boom"}


def test_a_broken_thread_index_is_reported_not_fatal(harness: ExecHarness) -> None:
    """The rollout is the record; the SQLite index only speeds up listings. When it
    cannot be written the turn still completes, and the user is told once."""
    (harness.home / "state.sqlite").mkdir()
    harness.mock.enqueue(response(message("done anyway")))
    r = harness.run("--json", "hi")
    assert r.rc == 0, r.stderr
    warnings = [e for e in r.events or [] if "thread index" in json.dumps(e)]
    assert len(warnings) == 1, r.stdout
    assert "not updated" in json.dumps(warnings[0])
    assert [i["text"] for i in r.items("agent_message")] == ["done anyway"]


def test_threads_list_names_an_index_it_cannot_open(harness: ExecHarness) -> None:
    (harness.home / "state.sqlite").mkdir()
    result = subprocess.run(
        [str(PYCODEX), "threads", "list"], capture_output=True, text=True,
        stdin=subprocess.DEVNULL, env=harness.env, timeout=20, check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: thread index ") and "state.sqlite" in line
