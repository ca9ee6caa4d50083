"""Real engine turns through `ThreadNotifier`: the v2 notifications a client gets are the
ones Codex 0.163 sends for the same turn, each valid against its v2 schema."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pycodex.core.thread_manager import CodexThread
from pycodex.protocol.events import EventMsg, TaskCompleteEvent, TurnAbortedEvent
from pycodex.protocol.ops import InterruptOp
from pycodex.protocol.v2.notifications import Notification, ThreadNotifier
from tests.support.engine import shell, start_thread, submit_text, until
from tests.support.mock_model import (
    MockModelServer,
    function_call,
    http_error,
    message,
    reasoning,
    response,
)
from tests.support.shared import APP_SERVER_REFERENCE, APP_SERVER_SCHEMAS

REFERENCE = APP_SERVER_REFERENCE
SCHEMAS = APP_SERVER_SCHEMAS


def _validators() -> dict[str, jsonschema.Draft7Validator]:
    """method -> a validator of its params, from Codex's ServerNotification schema."""
    v2 = json.loads((SCHEMAS / "codex_app_server_protocol.v2.schemas.json").read_text())
    union = json.loads((SCHEMAS / "ServerNotification.json").read_text())
    out = {}
    for variant in union["oneOf"]:
        method = variant["properties"]["method"]["enum"][0]
        ref = variant["properties"].get("params", {}).get("$ref")
        if ref:
            out[method] = jsonschema.Draft7Validator({"$ref": ref, **v2})
    return out


VALIDATORS = _validators()


def _codex_turn_methods(first_input: str) -> list[str]:
    """The notification methods Codex sent for the turn started with `first_input`."""
    methods: list[str] = []
    recording = False
    for line in (REFERENCE / "session.transcript.jsonl").read_text().splitlines():
        msg = json.loads(line).get("msg")
        if not isinstance(msg, dict):
            continue
        if msg.get("method") == "turn/start":
            recording = msg["params"]["input"][0]["text"] == first_input
        elif recording and "method" in msg and "id" not in msg:
            methods.append(msg["method"])
            if msg["method"] == "turn/completed":
                break
    return methods


@pytest.fixture
async def thread(mock_model: MockModelServer, tmp_path: Path) -> AsyncIterator[CodexThread]:
    t = await start_thread(mock_model, tmp_path)
    yield t
    await t.shutdown()


async def _notified(thread: CodexThread, text: str, until_kind: type[Any] = TaskCompleteEvent) -> list[Notification]:
    notifier = ThreadNotifier(thread.thread_id)
    await submit_text(thread, text)
    events: list[EventMsg] = await until(thread, until_kind)
    out = [n for e in events for n in notifier.notifications(e)]
    for method, params in out:
        VALIDATORS[method].validate(params)
    return out


def _methods(notes: list[Notification]) -> list[str]:
    return [method for method, _ in notes]


async def test_a_shell_turn_notifies_what_codex_notifies(
    thread: CodexThread, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(response(shell("echo hello-from-tool", "call_1")), response(message("All done.")))
    notes = await _notified(thread, "[[shell]] run it")

    codex = [m for m in _codex_turn_methods("[[shell]] run it") if m != "thread/readState/changed"]
    ours = [m for m in _methods(notes) if m != "item/commandExecution/outputDelta"]
    # The same notifications; pycodex runs a response's calls once the response is
    # complete, so its first token count comes before the command's items.
    assert sorted(ours) == sorted(codex)
    assert ours[:2] == codex[:2] == ["thread/status/changed", "turn/started"]
    assert ours[-2:] == codex[-2:] == ["thread/status/changed", "turn/completed"]
    completed = notes[-1][1]["turn"]
    assert completed["status"] == "completed" and completed["itemsView"] == "summary"
    assert [i["text"] for i in completed["items"]] == ["All done."]
    deltas = [p for m, p in notes if m == "item/agentMessage/delta"]
    assert "".join(d["delta"] for d in deltas) == "All done."
    output = [p for m, p in notes if m == "item/commandExecution/outputDelta"]
    assert "hello-from-tool" in "".join(p["delta"] for p in output)
    assert {p["itemId"] for p in output} == {"call_1"}


async def test_reasoning_and_plan(thread: CodexThread, mock_model: MockModelServer) -> None:
    plan = {"explanation": "my plan", "plan": [{"step": "a", "status": "in_progress"}]}
    mock_model.enqueue(
        response(reasoning("**Thinking** about it", id="rs_1"), function_call("update_plan", plan)),
        response(message("ok")),
    )
    notes = await _notified(thread, "plan it")

    methods = _methods(notes)
    assert methods.index("item/reasoning/summaryPartAdded") < methods.index("item/reasoning/summaryTextDelta")
    [part] = [p for m, p in notes if m == "item/reasoning/summaryPartAdded"]
    assert (part["itemId"], part["summaryIndex"]) == ("rs_1", 0)
    [updated] = [p for m, p in notes if m == "turn/plan/updated"]
    assert updated["plan"] == [{"step": "a", "status": "inProgress"}]


async def test_a_failed_turn_carries_its_error(thread: CodexThread, mock_model: MockModelServer) -> None:
    mock_model.enqueue(http_error(400, {"error": {"message": "bad things", "type": "invalid_request_error"}}))
    notes = await _notified(thread, "fail")

    [error] = [p for m, p in notes if m == "error"]
    assert error["willRetry"] is False and "bad things" in error["error"]["message"]
    completed = notes[-1][1]["turn"]
    assert completed["status"] == "failed" and completed["error"] == error["error"]


async def test_an_interrupted_turn_completes_as_interrupted(
    thread: CodexThread, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(response(shell("sleep 30", "call_s")))
    notifier = ThreadNotifier(thread.thread_id)
    await submit_text(thread, "wait")
    from pycodex.protocol.event_payloads import ExecCommandBeginEvent

    events = await until(thread, ExecCommandBeginEvent)
    await thread.submit(InterruptOp())
    events += await until(thread, TurnAbortedEvent)
    notes = [n for e in events for n in notifier.notifications(e)]
    for method, params in notes:
        VALIDATORS[method].validate(params)
    assert notes[-1][0] == "turn/completed" and notes[-1][1]["turn"]["status"] == "interrupted"
