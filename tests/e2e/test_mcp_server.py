"""`pycodex mcp-server` driven by the official `mcp` SDK's client over stdio: the installed
CLI as a real process, the mock model behind it, real commands in the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.session import ElicitationFnT, LoggingFnT
from mcp.client.stdio import stdio_client

from tests.support.exec_cli import (
    PYCODEX,
    ExecHarness,
    input_items,
    last_user_text,
    read_rollout,
    shell_call,
)
from tests.support.mcp_config import fixture_server
from tests.support.mock_model import (
    MockModelServer,
    RecordedRequest,
    Reply,
    function_call,
    hang,
    message,
    response,
)

pytestmark = pytest.mark.e2e
TIMEOUT_S = 60.0


async def with_server(harness: ExecHarness, body: Callable[[ClientSession], Awaitable[Any]],
                      elicit: ElicitationFnT | None = None, on_log: LoggingFnT | None = None) -> Any:
    params = StdioServerParameters(command=str(PYCODEX), args=["mcp-server"], env=harness.env,
                                   cwd=str(harness.workspace))
    async with stdio_client(params) as (read, write), \
            ClientSession(read, write, elicitation_callback=elicit, logging_callback=on_log) as session:
        await session.initialize()
        return await asyncio.wait_for(body(session), TIMEOUT_S)


class LogLines:
    """The `notifications/message` entries the server sent: ({threadId, message}, level)."""

    def __init__(self) -> None:
        self.entries: list[tuple[dict[str, Any], str]] = []
        self.thread_seen = asyncio.Event()

    async def __call__(self, params: types.LoggingMessageNotificationParams) -> None:
        assert params.logger == "pycodex" and isinstance(params.data, dict), params
        self.entries.append((params.data, params.level))
        self.thread_seen.set()

    def messages(self, level: str | None = None) -> list[str]:
        return [data["message"] for data, lvl in self.entries if level is None or lvl == level]


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT_S * 2))


def text_of(result: types.CallToolResult) -> str:
    return "".join(part.text for part in result.content if isinstance(part, types.TextContent))


def test_tools_are_listed_with_their_schemas(harness: ExecHarness) -> None:
    async def body(session: ClientSession) -> Any:
        return (await session.list_tools()).tools

    tools = {tool.name: tool for tool in run(with_server(harness, body))}
    assert set(tools) == {"codex", "codex-reply"}
    codex = tools["codex"].input_schema
    assert codex["required"] == ["prompt"]
    assert {"approval-policy", "sandbox", "config", "base-instructions", "developer-instructions",
            "compact-prompt", "model", "profile", "cwd"} <= set(codex["properties"])
    assert codex["properties"]["sandbox"]["enum"] == ["read-only", "workspace-write", "danger-full-access"]
    assert {"threadId", "conversationId"} <= set(tools["codex-reply"].input_schema["properties"])
    assert tools["codex"].output_schema is not None
    assert tools["codex"].output_schema["required"] == ["threadId", "content"]


def test_codex_runs_a_shell_turn_and_codex_reply_continues_it(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(response(shell_call("echo hi-from-mcp")), response(message("all done")),
                       response(message("second answer")))
    progress_lines: list[str] = []
    logs = LogLines()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        progress_lines.append(message or "")

    async def body(session: ClientSession) -> Any:
        capabilities = session.server_capabilities
        assert capabilities is not None and capabilities.logging is not None
        first = await session.call_tool(
            "codex", {"prompt": "say hi", "approval-policy": "never", "sandbox": "read-only"},
            progress_callback=on_progress,
        )
        thread_id = first.structured_content["threadId"] if first.structured_content else None
        second = await session.call_tool("codex-reply", {"prompt": "and again", "conversationId": thread_id})
        return first, second

    first, second = run(with_server(harness, body, on_log=logs))
    assert not first.is_error, text_of(first)
    assert first.structured_content is not None and first.structured_content["content"] == "all done"
    assert text_of(first) == "all done"
    thread_id = first.structured_content["threadId"]
    outputs = input_items(mock_model.model_requests()[1], "function_call_output")
    assert "hi-from-mcp" in json.dumps(outputs)
    assert any("echo hi-from-mcp" in line for line in progress_lines), progress_lines
    # The same lines as log messages, each naming its thread.
    assert {data["threadId"] for data, _ in logs.entries} == {thread_id}
    assert "running `bash -c 'echo hi-from-mcp'`" in logs.messages("info"), logs.entries
    assert "agent: all done" in logs.messages("info")

    assert not second.is_error, text_of(second)
    assert second.structured_content == {"threadId": thread_id, "content": "second answer"}
    third_request = json.dumps(mock_model.model_requests()[2].body["input"])
    assert "say hi" in third_request and "all done" in third_request  # the first turn's history
    rollouts = [p for p in harness.rollouts() if thread_id in p.name]
    assert len(rollouts) == 1  # an ordinary recorded thread


def test_two_calls_run_concurrently(harness: ExecHarness, mock_model: MockModelServer) -> None:
    both_asked = threading.Barrier(2, timeout=30)

    def answer_once_both_asked(request: RecordedRequest) -> Reply:
        both_asked.wait()  # each request is held until the other one has arrived too
        return response(message(f"answer to {last_user_text(request)}"))

    mock_model.enqueue(answer_once_both_asked, answer_once_both_asked)

    async def body(session: ClientSession) -> Any:
        return await asyncio.gather(
            session.call_tool("codex", {"prompt": "task one", "approval-policy": "never"}),
            session.call_tool("codex", {"prompt": "task two", "approval-policy": "never"}),
        )

    one, two = run(with_server(harness, body))
    assert text_of(one) == "answer to task one" and text_of(two) == "answer to task two"
    assert one.structured_content["threadId"] != two.structured_content["threadId"]


@pytest.mark.parametrize("accept", [True, False], ids=["accepted", "declined"])
def test_an_approval_is_asked_through_elicitation(
    harness: ExecHarness, mock_model: MockModelServer, accept: bool
) -> None:
    mock_model.enqueue(response(shell_call("touch approved.txt")), response(message("finished")))
    asked: list[str] = []

    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestFormParams)
        assert params.requested_schema["properties"]["approve"]["type"] == "boolean"
        asked.append(params.message)
        if accept:
            return types.ElicitResult(action="accept", content={"approve": True})
        return types.ElicitResult(action="decline")

    async def body(session: ClientSession) -> Any:
        return await session.call_tool(
            "codex", {"prompt": "make the file", "approval-policy": "untrusted", "sandbox": "workspace-write"}
        )

    result = run(with_server(harness, body, elicit))
    assert not result.is_error, text_of(result)
    assert len(asked) == 1 and "touch approved.txt" in asked[0]
    assert (harness.workspace / "approved.txt").exists() is accept


@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")  # logging/setLevel
def test_without_elicitation_the_approval_is_denied_and_logged_as_a_warning(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(response(shell_call("touch approved.txt")), response(message("finished")))
    logs = LogLines()

    async def body(session: ClientSession) -> Any:
        await session.set_logging_level("warning")  # info lines (progress) are not wanted now
        return await session.call_tool("codex", {"prompt": "make it", "approval-policy": "untrusted"})

    result = run(with_server(harness, body, on_log=logs))
    assert text_of(result) == "finished"
    assert not (harness.workspace / "approved.txt").exists()
    assert [level for _, level in logs.entries] == ["warning"], logs.entries
    assert "touch approved.txt" in logs.messages()[0] and "no elicitation capability" in logs.messages()[0]


def test_bad_arguments_are_clear_tool_errors(harness: ExecHarness, mock_model: MockModelServer) -> None:
    async def body(session: ClientSession) -> Any:
        return (
            await session.call_tool("codex", {"prompt": "x", "sandbox": "bogus"}),
            await session.call_tool("codex", {"model": "m"}),
            await session.call_tool("codex-reply", {"prompt": "x", "threadId": "0199-no-such-thread"}),
            await session.call_tool("codex", {"prompt": "x", "colour": "blue"}),
        )

    bad_sandbox, no_prompt, no_thread, unknown = run(with_server(harness, body))
    for result in (bad_sandbox, no_prompt, no_thread, unknown):
        assert result.is_error
    assert "`sandbox` must be one of read-only, workspace-write, danger-full-access" in text_of(bad_sandbox)
    assert "missing required argument `prompt`" in text_of(no_prompt)
    assert "no thread with id '0199-no-such-thread'" in text_of(no_thread)
    assert "unknown argument(s): colour" in text_of(unknown)
    assert mock_model.model_requests() == []  # nothing reached the model


def test_codex_reply_resumes_a_thread_recorded_by_an_earlier_server(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(response(message("noted: 42")), response(message("it was 42")))

    async def start(session: ClientSession) -> Any:
        return await session.call_tool("codex", {"prompt": "remember 42", "approval-policy": "never"})

    first = run(with_server(harness, start))
    assert first.structured_content is not None, text_of(first)
    thread_id = first.structured_content["threadId"]

    async def reply(session: ClientSession) -> Any:  # a new server process: the thread is on disk only
        return await session.call_tool("codex-reply", {"prompt": "which number?", "threadId": thread_id})

    second = run(with_server(harness, reply))
    assert not second.is_error, text_of(second)
    assert second.structured_content == {"threadId": thread_id, "content": "it was 42"}
    history = json.dumps(mock_model.model_requests()[1].body["input"])
    assert "remember 42" in history and "noted: 42" in history
    rollouts = [p for p in harness.rollouts() if thread_id in p.name]
    assert len(rollouts) == 1  # resumed into the same file
    assert "which number?" in json.dumps(read_rollout(rollouts[0]))


def test_a_cancelled_call_interrupts_its_turn(harness: ExecHarness, mock_model: MockModelServer) -> None:
    asked = threading.Event()

    def hold(request: RecordedRequest) -> Reply:
        asked.set()
        return hang(total_s=TIMEOUT_S)  # the model never answers the first turn

    mock_model.enqueue(hold, response(message("fresh turn")))
    logs = LogLines()

    async def body(session: ClientSession) -> Any:
        call = asyncio.create_task(session.call_tool("codex", {"prompt": "long task", "approval-policy": "never"}))
        await asyncio.wait_for(logs.thread_seen.wait(), 20)
        assert await asyncio.to_thread(asked.wait, 20)
        call.cancel()  # the client sends notifications/cancelled
        with contextlib.suppress(asyncio.CancelledError):
            await call
        thread_id = logs.entries[0][0]["threadId"]
        # Without the interruption this would join the hung turn and never end.
        return thread_id, await asyncio.wait_for(
            session.call_tool("codex-reply", {"prompt": "something else", "threadId": thread_id}), 20
        )

    thread_id, result = run(with_server(harness, body, on_log=logs))
    assert not result.is_error, text_of(result)
    assert result.structured_content == {"threadId": thread_id, "content": "fresh turn"}
    assert last_user_text(mock_model.model_requests()[1]) == "something else"
    (rollout,) = [p for p in harness.rollouts() if thread_id in p.name]
    assert "turn_aborted" in json.dumps(read_rollout(rollout))


def test_the_codex_arguments_reach_the_thread(harness: ExecHarness, mock_model: MockModelServer) -> None:
    elsewhere = harness.root / "elsewhere"
    elsewhere.mkdir()
    mock_model.enqueue(response(message("configured")))

    async def body(session: ClientSession) -> Any:
        return await session.call_tool("codex", {
            "prompt": "go", "model": "gpt-5.4", "cwd": str(elsewhere), "approval-policy": "untrusted",
            "sandbox": "workspace-write", "base-instructions": "BASE-RULE-9",
            "developer-instructions": "DEV-RULE-7", "config": {"model_reasoning_effort": "low"},
        })

    result = run(with_server(harness, body))
    assert not result.is_error and result.structured_content is not None, text_of(result)
    request = mock_model.model_requests()[0].body
    assert request["model"] == "gpt-5.4" and request["reasoning"]["effort"] == "low"
    texts = [part["text"] for item in request["input"] for part in item.get("content", [])]
    assert texts[0] == "BASE-RULE-9"  # replaces the built-in instructions
    assert "DEV-RULE-7" in texts
    (rollout,) = [p for p in harness.rollouts() if result.structured_content["threadId"] in p.name]
    (context,) = [line["payload"] for line in read_rollout(rollout) if line["type"] == "turn_context"]
    assert context["cwd"] == str(elsewhere) and context["approval_policy"] == "untrusted"
    assert context["sandbox_policy"]["type"] == "workspace-write"


@pytest.mark.parametrize("accept", [True, False], ids=["accepted", "declined"])
def test_a_question_of_the_threads_mcp_server_is_asked_through_elicitation(
    harness: ExecHarness, mock_model: MockModelServer, accept: bool
) -> None:
    harness.write_config(extra=fixture_server(startup_timeout_sec=30))
    mock_model.enqueue(response(function_call("mcp__fx__ask", {}, "c1")), response(message("asked")))
    asked: list[types.ElicitRequestParams] = []

    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params)
        if accept:
            return types.ElicitResult(action="accept", content={"ok": True})
        return types.ElicitResult(action="decline")

    async def body(session: ClientSession) -> Any:
        return await session.call_tool("codex", {"prompt": "ask me", "approval-policy": "never"})

    result = run(with_server(harness, body, elicit))
    assert not result.is_error, text_of(result)
    [question] = asked
    assert isinstance(question, types.ElicitRequestFormParams) and question.message == "Proceed?"
    assert question.requested_schema["properties"]["ok"]["type"] == "boolean"
    outputs = json.dumps(input_items(mock_model.model_requests()[1], "function_call_output"))
    assert f"elicitation: {'accept' if accept else 'decline'}" in outputs
