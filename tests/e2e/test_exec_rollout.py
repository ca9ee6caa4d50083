"""What `pycodex exec` records on disk (`$PYCODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`)."""

from __future__ import annotations

import re

import pytest

from tests.support.exec_cli import ExecHarness, read_rollout, shell_call
from tests.support.mock_model import message, response

pytestmark = pytest.mark.e2e


def test_rollout_of_a_shell_run(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(shell_call("echo hello-from-tool")), response(message("All done.")))

    r = harness.run("--json", "-s", "danger-full-access", "[[shell]] x")

    assert r.rc == 0, r.stderr
    [path] = harness.rollouts()
    thread_id = r.events[0]["thread_id"] if r.events else ""
    rel = path.relative_to(harness.home / "sessions")
    assert re.fullmatch(
        rf"\d{{4}}/\d{{2}}/\d{{2}}/rollout-\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}-\d{{2}}-\d{{2}}-{thread_id}\.jsonl",
        str(rel),
    ), rel
    assert path.stat().st_mode & 0o777 == 0o600

    lines = read_rollout(path)
    assert [line["ordinal"] for line in lines] == list(range(len(lines)))
    assert all(set(line) == {"timestamp", "ordinal", "type", "payload"} for line in lines)
    types = [line["type"] for line in lines]
    assert types[0] == "session_meta"
    assert types.count("session_meta") == 1
    # Initial context first, then per request a turn_context; events along the way.
    first = {t: types.index(t) for t in ("response_item", "turn_context", "event_msg")}
    assert 0 < first["response_item"] < first["turn_context"]
    assert types.count("turn_context") == 2  # one per model request

    meta = lines[0]["payload"]
    assert meta["id"] == thread_id
    assert meta["cwd"] == str(harness.workspace)
    assert meta["originator"] == "pycodex_exec"
    assert meta["source"] == "exec"
    assert meta["model_provider"] == "mock"
    assert meta["git"]["commit_hash"]

    items = [line["payload"] for line in lines if line["type"] == "response_item"]
    kinds = [(i["type"], i.get("role")) for i in items]
    assert ("function_call", None) in kinds and ("function_call_output", None) in kinds
    assert kinds[-1] == ("message", "assistant")
    user_texts = [
        part["text"] for i in items if i.get("role") == "user" for part in i["content"]
    ]
    assert "[[shell]] x" in user_texts
    call = next(i for i in items if i["type"] == "function_call")
    output = next(i for i in items if i["type"] == "function_call_output")
    assert call["call_id"] == output["call_id"] == "call_1"
    assert output["output"].endswith("hello-from-tool\n")

    events = [line["payload"]["type"] for line in lines if line["type"] == "event_msg"]
    assert events[0] == "task_started"
    assert events[-1] == "task_complete"
    assert "token_count" in events
    assert not any(e.endswith("_delta") for e in events)
    # As Codex 0.163: the turn's finished items, in order, with the call id as the
    # command's item id; not the older user_message / agent_message events.
    assert "user_message" not in events and "agent_message" not in events
    done = [
        line["payload"] for line in lines
        if line["type"] == "event_msg" and line["payload"]["type"] == "item_completed"
    ]
    assert [d["item"]["type"] for d in done] == ["UserMessage", "CommandExecution", "AgentMessage"]
    thread_id = meta["id"]
    assert {d["thread_id"] for d in done} == {thread_id}
    user, command, answer = (d["item"] for d in done)
    assert user["content"][0]["text"] == "[[shell]] x"
    assert command["id"] == "call_1" and command["status"] == "completed"
    assert command["exit_code"] == 0 and "hello-from-tool" in command["aggregated_output"]
    assert command["cwd"] == harness.workspace.as_uri()
    assert answer["content"] == [{"type": "Text", "text": "All done."}]
    assert all(d["started_at_ms"] <= d["completed_at_ms"] for d in done)


def test_ephemeral_writes_no_rollout(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(message("Just text, no tools.")))

    r = harness.run("--json", "--ephemeral", "[[text]]")

    assert r.rc == 0, r.stderr
    assert r.items("agent_message")[0]["text"] == "Just text, no tools."
    assert harness.rollouts() == []
    assert not (harness.home / "sessions").exists()


def test_each_run_is_its_own_rollout(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(message("one")), response(message("two")))

    first = harness.run("--json", "first")
    second = harness.run("--json", "second")

    assert first.rc == second.rc == 0
    assert first.events and second.events
    ids = {first.events[0]["thread_id"], second.events[0]["thread_id"]}
    assert len(ids) == 2
    assert {read_rollout(p)[0]["payload"]["id"] for p in harness.rollouts()} == ids
