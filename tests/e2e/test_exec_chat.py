"""`pycodex exec` against a Chat Completions provider (`wire_api = "chat"`)."""

from __future__ import annotations

import json

import pytest

from tests.support.exec_cli import ExecHarness
from tests.support.mock_model import chat_text, chat_tool_calls

pytestmark = pytest.mark.e2e

CHAT = ("-c", 'model_providers.mock.wire_api="chat"')


def test_chat_provider_tool_call_then_answer(harness: ExecHarness) -> None:
    args = json.dumps({"command": ["bash", "-c", "echo hello-from-chat"]})
    harness.mock.enqueue(
        chat_tool_calls([("call_c1", "shell", args)]),
        chat_text("All done via chat."),
    )

    r = harness.run("--json", *CHAT, "-s", "danger-full-access", "[[shell]] chat")

    assert r.rc == 0, r.stderr
    assert r.pairs() == [
        ("thread.started", None),
        ("turn.started", None),
        ("item.started", "command_execution"),
        ("item.completed", "command_execution"),
        ("item.completed", "agent_message"),
        ("turn.completed", None),
    ]
    [cmd] = r.items("command_execution")
    assert cmd["aggregated_output"] == "hello-from-chat\n" and cmd["exit_code"] == 0
    assert r.items("agent_message")[0]["text"] == "All done via chat."
    # Chat usage: prompt 100 (20 cached), completion 10 (3 reasoning), twice.
    assert r.last["usage"]["input_tokens"] == 200
    assert r.last["usage"]["cached_input_tokens"] == 40
    assert r.last["usage"]["output_tokens"] == 20

    first, second = harness.mock.model_requests()
    assert first.path == second.path == "/v1/chat/completions"
    assert first.headers["authorization"] == "Bearer x"
    assert first.body["stream"] is True
    assert first.body["model"] == "gpt-5.5"
    assert {t["function"]["name"] for t in first.body["tools"]} >= {"exec_command", "write_stdin", "update_plan"}
    assert first.body["messages"][0]["role"] == "system"
    assert first.body["messages"][-1] == {"role": "user", "content": "[[shell]] chat"}
    assistant, tool = second.body["messages"][-2:]
    assert assistant["role"] == "assistant"
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in assistant["tool_calls"]] == [
        ("call_c1", "shell", args)
    ]
    assert tool["role"] == "tool" and tool["tool_call_id"] == "call_c1"
    assert tool["content"].endswith("Output:\nhello-from-chat\n")
