"""`pycodex mcp-server` driven by the official `mcp` SDK's client over stdio: the installed
CLI as a real process, the mock model behind it, real commands in the sandbox."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.support.exec_cli import PYCODEX, ExecHarness, input_items, last_user_text, shell_call
from tests.support.mock_model import MockModelServer, RecordedRequest, Reply, message, response

pytestmark = pytest.mark.e2e
TIMEOUT_S = 60.0
Elicit = Callable[[Any, types.ElicitRequestParams], Awaitable[types.ElicitResult]]


async def with_server(harness: ExecHarness, body: Callable[[ClientSession], Awaitable[Any]],
                      elicit: Elicit | None = None) -> Any:
    params = StdioServerParameters(command=str(PYCODEX), args=["mcp-server"], env=harness.env,
                                   cwd=str(harness.workspace))
    async with stdio_client(params) as (read, write), \
            ClientSession(read, write, elicitation_callback=elicit) as session:
        await session.initialize()
        return await asyncio.wait_for(body(session), TIMEOUT_S)


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT_S * 2))  # type: ignore[arg-type]


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
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, text: str | None) -> None:
        progress.append(text or "")

    async def body(session: ClientSession) -> Any:
        first = await session.call_tool(
            "codex", {"prompt": "say hi", "approval-policy": "never", "sandbox": "read-only"},
            progress_callback=on_progress,
        )
        thread_id = first.structured_content["threadId"] if first.structured_content else None
        second = await session.call_tool("codex-reply", {"prompt": "and again", "conversationId": thread_id})
        return first, second

    first, second = run(with_server(harness, body))
    assert not first.is_error, text_of(first)
    assert first.structured_content is not None and first.structured_content["content"] == "all done"
    assert text_of(first) == "all done"
    thread_id = first.structured_content["threadId"]
    outputs = input_items(mock_model.model_requests()[1], "function_call_output")
    assert "hi-from-mcp" in json.dumps(outputs)
    assert any("echo hi-from-mcp" in line for line in progress), progress

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
    assert one.structured_content["threadId"] != two.structured_content["threadId"]  # type: ignore[index]


@pytest.mark.parametrize("accept", [True, False], ids=["accepted", "declined"])
def test_an_approval_is_asked_through_elicitation(
    harness: ExecHarness, mock_model: MockModelServer, accept: bool
) -> None:
    mock_model.enqueue(response(shell_call("touch approved.txt")), response(message("finished")))
    asked: list[str] = []

    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
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


def test_without_elicitation_the_approval_is_denied(harness: ExecHarness, mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(shell_call("touch approved.txt")), response(message("finished")))

    async def body(session: ClientSession) -> Any:
        return await session.call_tool("codex", {"prompt": "make it", "approval-policy": "untrusted"})

    result = run(with_server(harness, body))
    assert text_of(result) == "finished"
    assert not (harness.workspace / "approved.txt").exists()


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
