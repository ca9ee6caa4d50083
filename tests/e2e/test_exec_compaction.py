"""A long session through an automatic compaction, as a user runs it: `pycodex exec`, then
`exec fork` and `exec resume` of the compacted thread.

The yardstick: the request after the compaction still holds the first task, the AGENTS.md
text, the plan and the last turn verbatim and is smaller than the one before; a fork or a
resume then sends exactly what the model saw after the compaction, and more.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pycodex.context.compaction_prompt import SUMMARY_REQUEST
from tests.support.exec_cli import ExecHarness, read_rollout, shell_call
from tests.support.mock_model import RecordedRequest, function_call, message, response

pytestmark = pytest.mark.e2e

AGENTS_TEXT = "Run `make lint` before every commit; never edit generated files."
FIRST_TASK = "TASK-ONE: port the CSV exporter to the streaming writer"
PLAN = {"explanation": "exporter first", "plan": [
    {"step": "read the old exporter", "status": "completed"},
    {"step": "switch exporter to the streaming writer", "status": "in_progress"},
]}
LIMIT = 3000


def usage(total: int) -> dict[str, Any]:
    return {"input_tokens": total - 10, "output_tokens": 10, "total_tokens": total}


def texts(request: RecordedRequest) -> str:
    out: list[str] = []
    for item in request.body["input"]:
        out.extend(p.get("text", "") for p in item.get("content") or [] if isinstance(p, dict))
        if isinstance(item.get("output"), str):
            out.append(item["output"])
    return "\n".join(out)


def size(request: RecordedRequest) -> int:
    return len(json.dumps(request.body["input"]))


def thread_id(result: Any) -> str:
    assert result.rc == 0, result.stderr
    value: str = result.of_type("thread.started")[0]["thread_id"]
    return value


def test_long_session_compacts_automatically_then_resumes_and_forks(harness: ExecHarness) -> None:
    mock = harness.mock
    (harness.workspace / "AGENTS.md").write_text(AGENTS_TEXT, encoding="utf-8")
    config = harness.home / "config.toml"
    config.write_text(f"model_auto_compact_token_limit = {LIMIT}\n" + config.read_text(encoding="utf-8"))

    # Turn 1: a plan and three big tool outputs; usage climbs to just under the limit.
    big = [shell_call(f"printf 'old{n}-%.0s' $(seq 500)", f"call_old{n}") for n in range(3)]
    mock.enqueue(
        response(function_call("update_plan", PLAN, "call_plan"), usage=usage(600)),
        response(*big, usage=usage(900)),
        response(message("exporter read"), usage=usage(LIMIT - 100)),
    )
    first = thread_id(harness.run("--json", FIRST_TASK))

    # Turn 2 (resumed): one more tool result pushes the context over the limit; the
    # compaction runs before the turn's next request.
    mock.enqueue(
        response(shell_call("echo streaming-writer-wired-in", "call_new"), usage=usage(LIMIT + 200)),
        response(message("E2E-NOTE: exporter half ported")),
        response(message("second done"), usage=usage(1900)),
    )
    result = harness.run("--json", "resume", first, "SECOND: wire the writer in")
    assert thread_id(result) == first
    assert result.last["type"] == "turn.completed"
    start = 3
    before, ask, after = mock.requests[start], mock.requests[start + 1], mock.requests[start + 2]
    assert ask.body["input"][-1]["content"][0]["text"] == SUMMARY_REQUEST
    seen = texts(after)
    for kept in (FIRST_TASK, AGENTS_TEXT, "switch exporter to the streaming writer",
                 "read the old exporter", "SECOND: wire the writer in", "E2E-NOTE"):
        assert kept in seen, kept
    # The last turn verbatim: its call and its output as the model saw them before.
    last_turn = [i for i in ask.body["input"] if i.get("call_id") == "call_new"]
    assert [i["type"] for i in last_turn] == ["function_call", "function_call_output"]
    assert "streaming-writer-wired-in" in last_turn[1]["output"]
    assert all(i in after.body["input"] for i in last_turn)
    assert "old0-old0" not in seen and "old2-old2" not in seen
    assert size(after) < size(before) // 2, (size(before), size(after))
    print(f"\ncontext before compaction: {size(before)} bytes; after: {size(after)} bytes")

    (rollout,) = harness.rollouts()
    compacted = [line for line in read_rollout(rollout) if line["type"] == "compacted"]
    assert len(compacted) == 1 and "E2E-NOTE" in compacted[0]["payload"]["message"]

    # Fork, then resume: both send what the model saw after the compaction, then the
    # answer it gave, then their own new message.
    seen_after = [*after.body["input"], message("second done")]
    mock.enqueue(response(message("forked")), response(message("resumed")))
    fork_id = thread_id(harness.run("--json", "fork", first, "FORKED turn"))
    assert fork_id != first
    assert thread_id(harness.run("--json", "resume", first, "RESUMED turn")) == first
    for request, text in ((mock.requests[-2], "FORKED turn"), (mock.requests[-1], "RESUMED turn")):
        sent = request.body["input"]
        assert _without_ids(sent[: len(seen_after)]) == _without_ids(seen_after)
        assert sent[len(seen_after):] == [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        ]


def _without_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The assistant answer comes back with the provider's item id and annotations.
    out = []
    for item in items:
        item = {k: v for k, v in item.items() if k != "id"}
        if item.get("role") == "assistant":
            item["content"] = [{"type": p["type"], "text": p["text"]} for p in item["content"]]
        out.append(item)
    return out
