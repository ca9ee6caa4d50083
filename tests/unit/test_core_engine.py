"""The engine through its queue pair: submit ops, read events, check what the model got."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pycodex.config.config import ConfigOverrides, load_config
from pycodex.core.codex import InternalAgentDied
from pycodex.core.thread_manager import CodexThread, ThreadManager, ThreadOptions
from pycodex.protocol.events import (
    ErrorEvent,
    EventMsg,
    ExecCommandBeginEvent,
    SessionConfiguredEvent,
    ShutdownCompleteEvent,
    TaskCompleteEvent,
    TurnAbortedEvent,
)
from pycodex.protocol.ops import InterruptOp
from tests.support.engine import shell, submit_text, until
from tests.support.mock_model import MockModelServer, function_call, message, response

Events = list[EventMsg]


async def _start(
    mock_model: MockModelServer, tmp_path: Path, sandbox_mode: str = "danger-full-access"
) -> CodexThread:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'model_provider = "mock"\n[model_providers.mock]\nname = "mock"\nbase_url = "{mock_model.url}"\n'
        'env_key = "MOCK_KEY"\nrequest_max_retries = 0\nstream_max_retries = 0\n'
    )
    ws = tmp_path / "ws"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    (ws / "AGENTS.md").write_text("Always say please.")
    env = {"PYCODEX_HOME": str(home), "HOME": str(tmp_path), "MOCK_KEY": "x",
           "PATH": os.environ["PATH"], "SHELL": "/bin/bash"}
    config = load_config(
        ConfigOverrides(cwd=ws, sandbox_mode=sandbox_mode, approval_policy="never"), env=env
    )
    t = await ThreadManager(ThreadOptions(env=env)).start_thread(config)
    first = await t.next_event()
    assert isinstance(first.msg, SessionConfiguredEvent) and first.id == ""
    return t


@pytest.fixture
async def thread(mock_model: MockModelServer, tmp_path: Path) -> AsyncIterator[CodexThread]:
    t = await _start(mock_model, tmp_path)
    yield t
    await t.shutdown()







def outputs(body: dict[str, Any]) -> dict[str, str]:
    return {i["call_id"]: i["output"] for i in body["input"] if i["type"] == "function_call_output"}


async def test_first_request_layout(thread: CodexThread, mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("hi")))
    sub = await submit_text(thread, "hello")
    assert sub == "0"
    events = await until(thread, TaskCompleteEvent)
    assert events[-1].last_agent_message == "hi"  # type: ignore[union-attr]
    body = mock_model.requests[0].body
    roles = [(i["type"], i.get("role")) for i in body["input"]]
    # As Codex: base instructions, then what the sandbox/approval settings mean, then the
    # user-side context (AGENTS.md, environment), then the prompt.
    assert roles == [
        ("message", "developer"),
        ("message", "developer"),
        ("message", "user"),
        ("message", "user"),
    ]
    [permissions] = body["input"][1]["content"]
    assert permissions["text"].startswith("<permissions instructions>")
    context_parts = [p["text"] for p in body["input"][2]["content"]]
    assert "Always say please." in context_parts[0] and "<INSTRUCTIONS>" in context_parts[0]
    assert context_parts[-1].startswith("<environment_context>")
    assert body["input"][3]["content"] == [{"type": "input_text", "text": "hello"}]
    assert [t.get("name", t["type"]) for t in body["tools"]][:3] == ["exec_command", "write_stdin", "update_plan"]
    assert body["prompt_cache_key"] == thread.thread_id


async def test_unknown_tool_is_answered_not_fatal(thread: CodexThread, mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(function_call("nope", {}, call_id="c1")), response(message("ok")))
    await submit_text(thread, "go")
    events = await until(thread, TaskCompleteEvent)
    assert not any(isinstance(e, ErrorEvent) for e in events)
    assert outputs(mock_model.requests[1].body) == {"c1": "unsupported call: nope"}


async def test_parallel_calls_run_concurrently_and_answer_in_call_order(
    thread: CodexThread, mock_model: MockModelServer, tmp_path: Path
) -> None:
    """Each command waits for the other to have started (a rendezvous through files), so
    they only both succeed when they run at the same time; run one after the other, the
    first gives up after its bounded wait and the test fails on its output, not on time."""
    a, b = tmp_path / "a-started", tmp_path / "b-started"

    def meet(mine: Path, other: Path, word: str) -> str:
        return (f"touch {mine}; timeout 10 sh -c 'until [ -e {other} ]; do sleep 0.01; done'"
                f" && echo {word}")

    mock_model.enqueue(
        response(shell(meet(a, b, "first"), "a"), shell(meet(b, a, "second"), "b")),
        response(message("done")),
    )
    await submit_text(thread, "go")
    await until(thread, TaskCompleteEvent)
    inputs = mock_model.requests[1].body["input"]
    answered = [i["call_id"] for i in inputs if i["type"] == "function_call_output"]
    assert answered == ["a", "b"]
    got = outputs(mock_model.requests[1].body)
    assert got["a"].endswith("first\n") and got["b"].endswith("second\n"), got


async def test_interrupt_kills_the_command_and_answers_the_dangling_call(
    thread: CodexThread, mock_model: MockModelServer, tmp_path: Path
) -> None:
    marker = tmp_path / "pid"
    mock_model.enqueue(response(shell(f"echo $$ > {marker}; sleep 60", "c1")))
    await submit_text(thread, "start something slow")
    await until(thread, ExecCommandBeginEvent)
    while not marker.exists() or not marker.read_text().strip():
        await asyncio.sleep(0.02)
    pid = int(marker.read_text())
    await thread.submit(InterruptOp())
    events = await until(thread, TurnAbortedEvent)
    assert events[-1].reason.value == "interrupted"  # type: ignore[union-attr]
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    # The next turn's history carries an output for the interrupted call, or the API
    # would reject every later request of the thread.
    mock_model.enqueue(response(message("fine")))
    await submit_text(thread, "next")
    await until(thread, TaskCompleteEvent)
    assert outputs(mock_model.requests[1].body) == {"c1": "aborted by user"}


async def test_input_during_a_turn_goes_out_with_the_next_request(
    thread: CodexThread, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(response(shell("sleep 0.5", "c1")), response(message("done")))
    await submit_text(thread, "first")
    await until(thread, ExecCommandBeginEvent)
    await submit_text(thread, "also this")
    await until(thread, TaskCompleteEvent)
    assert len(mock_model.requests) == 2
    last_user = [i for i in mock_model.requests[1].body["input"] if i.get("role") == "user"][-1]
    assert last_user["content"][0]["text"] == "also this"


async def test_model_error_ends_the_turn_with_an_error_event(
    thread: CodexThread, mock_model: MockModelServer
) -> None:
    from tests.support.mock_model import http_error

    mock_model.enqueue(http_error(400))
    await submit_text(thread, "go")
    events = await until(thread, TaskCompleteEvent)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) == 1 and "400" in errors[0].message


async def test_shutdown_flushes_the_rollout_and_stops(thread: CodexThread, mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("hi")))
    await submit_text(thread, "hello")
    await until(thread, TaskCompleteEvent)
    await thread.shutdown()
    events = await until(thread, ShutdownCompleteEvent)
    assert isinstance(events[-1], ShutdownCompleteEvent)
    with pytest.raises(InternalAgentDied):
        await thread.next_event()
    assert thread.rollout_path is not None
    kinds = [json.loads(line)["type"] for line in thread.rollout_path.read_text().splitlines()]
    assert kinds[0] == "session_meta" and "turn_context" in kinds and kinds.count("response_item") >= 4


async def test_reasoning_models_request_encrypted_reasoning_by_default(
    thread: CodexThread, mock_model: MockModelServer
) -> None:
    # With store=false, reasoning items are only replayable if requested encrypted, and
    # that needs a `reasoning` block even when the user configured no effort.
    mock_model.enqueue(response(message("hi")))
    await submit_text(thread, "hello")
    await until(thread, TaskCompleteEvent)
    body = mock_model.requests[0].body
    assert body["model"] == "gpt-5.5"
    assert body["reasoning"] == {"effort": "medium"}
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["store"] is False


async def test_view_image_tells_clients_which_file_was_shown(
    thread: CodexThread, mock_model: MockModelServer, tmp_path: Path
) -> None:
    from pycodex.protocol.event_payloads import ViewImageToolCallEvent

    (tmp_path / "ws" / "pic.gif").write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    mock_model.enqueue(
        response(function_call("view_image", {"path": "pic.gif"}, call_id="c1")), response(message("ok"))
    )
    await submit_text(thread, "look")
    events = await until(thread, TaskCompleteEvent)
    [shown] = [e for e in events if isinstance(e, ViewImageToolCallEvent)]
    assert shown.call_id == "c1" and shown.path == str(tmp_path / "ws" / "pic.gif")
    output = mock_model.requests[1].body["input"][-1]["output"]
    assert output[0]["image_url"].startswith("data:image/gif;base64,")


async def test_the_sandbox_probe_runs_off_the_event_loop(
    mock_model: MockModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first sandboxed command probes the machine (helper processes, up to seconds):
    in a worker thread, so other threads of the process keep being served meanwhile."""
    import threading

    from pycodex.sandbox import capabilities

    real_probe = capabilities.probe
    seen: list[bool] = []

    def probe() -> capabilities.Capabilities:
        seen.append(threading.current_thread() is threading.main_thread())
        return real_probe()

    monkeypatch.setattr(capabilities, "probe", probe)
    t = await _start(mock_model, tmp_path, sandbox_mode="read-only")
    mock_model.enqueue(response(shell("true", "c1")), response(message("done")))
    await submit_text(t, "go")
    await until(t, TaskCompleteEvent)
    await t.shutdown()
    assert seen and not any(seen)
