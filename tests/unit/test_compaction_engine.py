"""Compaction through the engine's queue pair, against the mock model on loopback.

Manual (`Op::Compact`) twice in a row, on a Chat Completions provider, OpenAI's remote
`/responses/compact` with the 404 fallback, and a window already full (the compaction
request overflows: oldest tool outputs dropped and retried, then a clear error).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from pycodex.config.config import ConfigOverrides, load_config
from pycodex.context.compaction_prompt import SUMMARY_REQUEST
from pycodex.context.compaction_trim import DROPPED_OUTPUT
from pycodex.core.thread_manager import CodexThread, ThreadManager, ThreadOptions
from pycodex.protocol.events import (
    ContextCompactedEvent,
    ErrorEvent,
    EventMsg,
    GetHistoryEntryResponseEvent,
    ItemCompletedEvent,
    ItemStartedEvent,
    SessionConfiguredEvent,
    TaskCompleteEvent,
    TaskStartedEvent,
    TokenCountEvent,
    WarningEvent,
)
from pycodex.protocol.items import ContextCompactionTurnItem
from pycodex.protocol.ops import CompactOp, GetHistoryEntryRequestOp, UserInputOp
from pycodex.protocol.user_input import TextInput
from pycodex.rollout.reader import read_rollout
from tests.support.engine import shell, until
from tests.support.mock_model import (
    MockModelServer,
    RecordedRequest,
    Reply,
    chat_text,
    chat_tool_calls,
    compacted,
    compaction_item,
    function_call,
    http_error,
    message,
    response,
)

AGENTS_TEXT = "Always run the linter before committing."
FIRST_TASK = "TASK-ONE: make the parser accept trailing commas"
PLAN = {"plan": [{"step": "write the failing test", "status": "completed"},
                 {"step": "fix the tokenizer", "status": "in_progress"}]}
OVERFLOW = http_error(400, {"error": {
    "type": "invalid_request_error", "code": "context_length_exceeded",
    "message": "Your input exceeds the context window of this model (4096 tokens).",
}})


class World:
    def __init__(self, tmp_path: Path, mock: MockModelServer, config: str = "", provider: str = "") -> None:
        self.mock = mock
        self.home = tmp_path / "home"
        self.home.mkdir()
        (self.home / "config.toml").write_text(
            f'model = "gpt-5.5"\nmodel_provider = "mock"\n{config}\n'
            f'[model_providers.mock]\nname = "mock"\nbase_url = "{mock.url}"\n'
            f'env_key = "MOCK_KEY"\nrequest_max_retries = 0\nstream_max_retries = 0\n{provider}\n'
        )
        self.ws = tmp_path / "ws"
        self.ws.mkdir()
        subprocess.run(["git", "init", "-q", str(self.ws)], check=True)
        (self.ws / "AGENTS.md").write_text(AGENTS_TEXT)
        self.env = {"PYCODEX_HOME": str(self.home), "HOME": str(tmp_path), "MOCK_KEY": "x",
                    "PATH": os.environ["PATH"], "SHELL": "/bin/bash"}
        self.manager = ThreadManager(ThreadOptions(env=self.env))

    async def start(self) -> tuple[CodexThread, SessionConfiguredEvent]:
        config = load_config(
            ConfigOverrides(cwd=self.ws, sandbox_mode="danger-full-access", approval_policy="never"),
            env=self.env,
        )
        thread = await self.manager.start_thread(config)
        first = (await thread.next_event()).msg
        assert isinstance(first, SessionConfiguredEvent)
        return thread, first


async def turn(thread: CodexThread, text: str) -> list[EventMsg]:
    await thread.submit(UserInputOp(items=[TextInput(text=text)]))
    return await until(thread, TaskCompleteEvent)


async def compact(thread: CodexThread) -> list[EventMsg]:
    await thread.submit(CompactOp())
    return await until(thread, TaskCompleteEvent)


def texts(body: dict[str, Any]) -> list[str]:
    """Every text the request carries (Responses input or Chat messages)."""
    out: list[str] = []
    for item in body.get("input") or body.get("messages") or []:
        content = item.get("content")
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            out.extend(p.get("text", "") for p in content if isinstance(p, dict))
        if isinstance(item.get("output"), str):
            out.append(item["output"])
    return out


def size(body: dict[str, Any]) -> int:
    return len(json.dumps(body.get("input") or body.get("messages")))


def tool_turn(mock: MockModelServer, outputs: int = 2, width: int = 3000, final_usage: int = 110) -> None:
    """FIRST_TASK's turn: a plan, then `outputs` shell calls printing `width` bytes each;
    the last response reports `final_usage` tokens in context."""
    calls = [shell(f"printf 'out{n}-%.0s' $(seq {width // 5})", f"call_{n}") for n in range(outputs)]
    mock.enqueue(
        response(function_call("update_plan", PLAN, "plan_1")),
        response(*calls),
        response(message("parser fixed"), usage=usage(final_usage)),
    )


async def big_turn(mock: MockModelServer, thread: CodexThread, text: str, tag: str) -> None:
    """A turn whose one tool call prints ~3000 bytes of `tag`."""
    mock.enqueue(response(shell(f"printf '{tag}-%.0s' $(seq 600)", f"call_{tag}")), response(message("ok")))
    await turn(thread, text)


async def long_session(mock: MockModelServer, thread: CodexThread) -> None:
    """FIRST_TASK with big tool outputs, then a second turn whose one small tool result is
    the last turn's, which must survive verbatim."""
    tool_turn(mock, outputs=3)
    await turn(thread, FIRST_TASK)
    mock.enqueue(response(shell("echo docs-updated-ok", "call_docs")), response(message("docs done")))
    await turn(thread, "SECOND: update the docs")


def usage(total: int) -> dict[str, Any]:
    return {"input_tokens": total - 10, "output_tokens": 10, "total_tokens": total}


def compaction_events(events: list[EventMsg]) -> list[str]:
    kinds: list[str] = []
    for e in events:
        is_item = isinstance(e, ItemStartedEvent | ItemCompletedEvent) and isinstance(
            e.item, ContextCompactionTurnItem
        )
        if is_item or isinstance(e, ContextCompactedEvent | TaskStartedEvent | TaskCompleteEvent):
            kinds.append(e.type)
    return kinds


async def test_manual_compaction_twice_keeps_what_must_survive_and_never_grows(
    tmp_path: Path, mock_model: MockModelServer
) -> None:
    world = World(tmp_path, mock_model)
    thread, conf = await world.start()
    await long_session(mock_model, thread)
    before = size(mock_model.requests[-1].body)

    mock_model.enqueue(response(message("NOTE-1: tokenizer half done")))
    events = await compact(thread)
    assert compaction_events(events) == [
        "task_started", "item_started", "context_compacted", "item_completed", "task_complete"
    ]
    summary_request = mock_model.requests[-1].body
    assert texts(summary_request)[-1] == SUMMARY_REQUEST
    assert summary_request["tools"] == []
    counts = [e for e in events if isinstance(e, TokenCountEvent) and e.info is not None]
    assert counts and counts[-1].info is not None
    assert counts[-1].info.model_context_window == 258_400
    left_after_first = counts[-1].info.last_token_usage.total_tokens
    assert 0 < left_after_first < before // 4 // 2

    mock_model.enqueue(response(message("NOTE-2: tokenizer")))
    await compact(thread)
    # Nothing happened since: a longer note would make the context bigger, so it is refused.
    mock_model.enqueue(response(message("NOTE-3: " + "very long " * 100)))
    events = await compact(thread)
    assert [e.message for e in events if isinstance(e, WarningEvent)] == [
        "compaction would not make this context smaller; it was left as it is"
    ]
    mock_model.enqueue(response(message("ok")))
    await turn(thread, "carry on")
    await thread.shutdown()

    after = mock_model.requests[-1].body
    seen = "\n".join(texts(after))
    for kept in (FIRST_TASK, AGENTS_TEXT, "fix the tokenizer", "write the failing test", "NOTE-2",
                 "SECOND: update the docs", "carry on"):
        assert kept in seen, kept
    assert "NOTE-1" not in seen and "NOTE-3" not in seen  # the second summary replaced the first
    # The last turn's tool result verbatim (with its call); the first turn's big ones gone.
    assert any(o.endswith("docs-updated-ok\n") for o in texts(after))
    assert any(i.get("call_id") == "call_docs" and i["type"] == "function_call" for i in after["input"])
    assert "out0-out0-" not in seen
    assert size(after) < before // 2
    # The second compaction made nothing bigger than the first left.
    records = read_rollout(Path(str(conf.rollout_path))).records
    replaced = [r.payload["replacement_history"] for r in records if r.type == "compacted"]
    assert len(replaced) == 2
    assert len(json.dumps(replaced[1])) <= len(json.dumps(replaced[0]))
    assert [i for i in after["input"] if i.get("type") != "message" or i["role"] != "assistant"][
        : len(replaced[1])
    ] == replaced[1]


async def test_compaction_on_a_chat_completions_provider(tmp_path: Path, mock_model: MockModelServer) -> None:
    world = World(tmp_path, mock_model, provider='wire_api = "chat"')
    big = json.dumps({"command": ["bash", "-c", "printf 'chat-big-%.0s' $(seq 600)"]})
    small = json.dumps({"command": ["bash", "-c", "echo chat-small-ok"]})
    mock_model.enqueue(chat_tool_calls([("call_a", "shell", big)]), chat_text("done"),
                       chat_tool_calls([("call_b", "shell", small)]), chat_text("done too"))
    thread, _ = await world.start()
    await turn(thread, FIRST_TASK)
    await turn(thread, "SECOND: small step")
    mock_model.enqueue(chat_text("CHAT-NOTE: shell ran"))
    events = await compact(thread)
    assert not [e for e in events if isinstance(e, ErrorEvent)]
    mock_model.enqueue(chat_text("ok"))
    await turn(thread, "next")
    await thread.shutdown()
    summary_request, after = mock_model.requests[-2].body, mock_model.requests[-1].body
    assert mock_model.requests[-2].path == "/v1/chat/completions"
    assert summary_request["messages"][-1] == {"role": "user", "content": SUMMARY_REQUEST}
    seen = "\n".join(texts(after))
    assert "CHAT-NOTE" in seen and FIRST_TASK in seen and AGENTS_TEXT in seen and "chat-small-ok" in seen
    assert "chat-big-" not in seen


async def test_remote_compaction_then_404_fallback_to_local(tmp_path: Path, mock_model: MockModelServer) -> None:
    world = World(tmp_path, mock_model, provider="requires_openai_auth = true")
    thread, _ = await world.start()
    await long_session(mock_model, thread)
    model_requests = len(mock_model.model_requests())

    mock_model.enqueue_compact(compacted(
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": FIRST_TASK}]},
        compaction_item("SERVER-SIDE-SUMMARY"),
    ))
    events = await compact(thread)
    assert not [e for e in events if isinstance(e, ErrorEvent | WarningEvent)]
    assert len(mock_model.model_requests()) == model_requests  # no local summary request
    (remote,) = mock_model.compact_requests()
    assert remote.body["model"] == "gpt-5.5" and remote.body["instructions"]
    assert FIRST_TASK in texts(remote.body)
    mock_model.enqueue(response(message("ok")))
    await turn(thread, "after remote")
    after = mock_model.requests[-1].body
    assert {"type": "compaction", "encrypted_content": "SERVER-SIDE-SUMMARY"} in after["input"]
    assert "fix the tokenizer" in "\n".join(texts(after))

    # The endpoint is gone (a gateway): 404, then a local summary; not asked again after.
    await big_turn(mock_model, thread, "THIRD", "third")
    mock_model.enqueue(response(message("LOCAL-NOTE-1")))
    events = await compact(thread)
    assert not [e for e in events if isinstance(e, ErrorEvent)]
    assert len(mock_model.compact_requests()) == 2
    assert texts(mock_model.requests[-1].body)[-1] == SUMMARY_REQUEST
    await big_turn(mock_model, thread, "FOURTH", "fourth")
    mock_model.enqueue(response(message("LOCAL-NOTE-2")))
    await compact(thread)
    assert len(mock_model.compact_requests()) == 2
    mock_model.enqueue(response(message("ok")))
    await turn(thread, "after local")
    await thread.shutdown()
    seen = "\n".join(texts(mock_model.requests[-1].body))
    assert "LOCAL-NOTE-2" in seen and "SERVER-SIDE-SUMMARY" not in json.dumps(mock_model.requests[-1].body)
    assert "fourth-fourth" in seen and "third-third" not in seen


@pytest.mark.parametrize("recovers", [True, False], ids=["drops-oldest-outputs", "still-too-big"])
async def test_a_window_already_full(tmp_path: Path, mock_model: MockModelServer, recovers: bool) -> None:
    """The context is over the limit before the turn's first request, and the compaction
    request itself overflows: the oldest tool outputs are dropped and it is retried; when
    nothing is left to drop the turn ends with a clear error and history is untouched."""
    world = World(tmp_path, mock_model, config="model_auto_compact_token_limit = 2500")
    tool_turn(mock_model, outputs=3, width=2500, final_usage=3400)
    thread, conf = await world.start()
    await turn(thread, FIRST_TASK)
    if recovers:
        mock_model.enqueue(OVERFLOW, response(message("FULL-NOTE")), response(message("done")))
    else:
        mock_model.enqueue(*[OVERFLOW] * 6)
    start = len(mock_model.requests)
    events = await turn(thread, "one more thing")
    await thread.shutdown()
    asks = [r.body for r in mock_model.requests[start:] if texts(r.body)[-1] == SUMMARY_REQUEST]
    outputs = [[i["output"] for i in body["input"] if i["type"] == "function_call_output"][1:] for body in asks]
    errors = [e.message for e in events if isinstance(e, ErrorEvent)]
    if recovers:
        assert len(asks) == 2 and DROPPED_OUTPUT not in outputs[0]
        # The oldest went first; the newest is still there.
        assert outputs[1][0] == DROPPED_OUTPUT and "out2-out2-" in outputs[1][-1]
        assert not errors
        assert any(isinstance(e, WarningEvent) and "dropped" in e.message for e in events)
        assert "FULL-NOTE" in "\n".join(texts(mock_model.requests[-1].body))
    else:
        assert len(asks) >= 2 and all(o == DROPPED_OUTPUT for o in outputs[-1])
        assert len(errors) == 1 and "cannot compact" in errors[0] and "context window" in errors[0]
        records = read_rollout(Path(str(conf.rollout_path))).records
        assert not [r for r in records if r.type == "compacted"]


async def test_at_most_one_automatic_compaction_per_turn(tmp_path: Path, mock_model: MockModelServer) -> None:
    world = World(tmp_path, mock_model, config="model_auto_compact_token_limit = 2500")
    thread, _ = await world.start()
    tool_turn(mock_model, outputs=3, width=2500)
    await turn(thread, FIRST_TASK)
    mock_model.enqueue(
        response(shell("echo one", "c1"), usage=usage(3000)),
        response(message("NOTE")),  # the automatic compaction, mid-turn
        response(shell("echo two", "c2"), usage=usage(3000)),
    )
    events = await turn(thread, "SECOND")
    await thread.shutdown()
    errors = [e.message for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) == 1 and "already compacted once" in errors[0]
    assert sum(isinstance(e, ContextCompactedEvent) for e in events) == 1
    assert mock_model.pending == 0
    # The request after the compaction went on with the turn: its tool result was kept.
    after = mock_model.requests[-1].body
    assert any(i.get("call_id") == "c1" and i["type"] == "function_call_output" for i in after["input"])
    assert "out0-out0" not in json.dumps(after)


async def test_input_during_a_manual_compaction_waits_for_it(tmp_path: Path, mock_model: MockModelServer) -> None:
    """A message sent while `/compact` runs starts its turn from the compacted history."""
    world = World(tmp_path, mock_model)
    thread, conf = await world.start()
    await long_session(mock_model, thread)
    asked, gate = threading.Event(), threading.Event()

    def gated(_request: RecordedRequest) -> Reply:
        asked.set()
        gate.wait(10)
        return response(message("GATED-NOTE"))

    mock_model.enqueue(gated, response(message("answered")))
    sent = len(mock_model.requests)
    await thread.submit(CompactOp())
    assert await asyncio.to_thread(asked.wait, 10)  # the summary request is in flight
    await thread.submit(UserInputOp(items=[TextInput(text="DURING the compaction")]))
    # Ops are handled in order: once this one is answered, the input above was handled.
    await thread.submit(GetHistoryEntryRequestOp(offset=0, log_id=conf.history_log_id))
    await until(thread, GetHistoryEntryResponseEvent)
    gate.set()
    events = await until(thread, TaskCompleteEvent)  # the compaction's
    events += await until(thread, TaskCompleteEvent)  # the turn's
    await thread.shutdown()
    assert sum(isinstance(e, ContextCompactedEvent) for e in events) == 1
    summary_ask, turn_request = mock_model.requests[sent], mock_model.requests[sent + 1]
    assert "DURING the compaction" not in texts(summary_ask.body)
    seen = "\n".join(texts(turn_request.body))
    assert "GATED-NOTE" in seen and "DURING the compaction" in seen and "out0-out0" not in seen
