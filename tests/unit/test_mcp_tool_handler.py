"""`McpToolHandler` without a server: the approval rule under every policy, refusals,
errors, and the output mapping of `pycodex.mcp.results`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from pycodex.mcp.elicitation import ElicitationRequest, ElicitationResponse
from pycodex.mcp.errors import McpError
from pycodex.mcp.results import IMAGE_OMITTED, model_output
from pycodex.protocol.event_payloads import McpToolCallBeginEvent, McpToolCallEndEvent
from pycodex.protocol.models import InputImage, InputText
from pycodex.tools.base import ToolCall, ToolContext
from pycodex.tools.handlers.mcp import McpToolHandler, needs_approval, object_schema

READ_ONLY = {"readOnlyHint": True}


@pytest.mark.parametrize(
    ("annotations", "mode", "policy", "asks"),
    [
        (None, "auto", "untrusted", True),
        (None, "auto", "on-request", True),
        (None, "auto", "on-failure", False),
        (None, "auto", "never", False),
        (READ_ONLY, "auto", "untrusted", False),
        (READ_ONLY, "auto", "on-request", False),
        ({"readOnlyHint": True, "destructiveHint": True}, "auto", "on-request", True),
        (None, "approve", "untrusted", False),
        (READ_ONLY, "prompt", "on-failure", True),
        (READ_ONLY, "prompt", "never", False),
    ],
)
def test_approval_rule(annotations: Any, mode: str, policy: str, asks: bool) -> None:
    assert needs_approval(annotations, mode, policy) is asks


class FakeClient:
    def __init__(self, answer: str = "accept", error: str | None = None) -> None:
        self.answer = answer
        self.error = error
        self.asked: list[ElicitationRequest] = []
        self.calls: list[tuple[str, str, Any]] = []

    async def call_tool(self, server: str, tool: str, arguments: Any, meta: Any) -> dict[str, Any]:
        self.calls.append((server, tool, arguments))
        if self.error is not None:
            raise McpError(self.error)
        return {"content": [{"type": "text", "text": "done"}]}

    async def elicit(self, request: ElicitationRequest) -> ElicitationResponse:
        self.asked.append(request)
        return ElicitationResponse(action=self.answer)  # type: ignore[arg-type]


def run(client: FakeClient, policy: str, annotations: Any = None) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    ctx = ToolContext(
        turn_id="t", cwd=Path("/"), approval_policy=policy, sandbox_mode="read-only",
        command_env={}, emit=events.append, emit_warning=lambda _: None,
    )
    definition = {"name": "w", "inputSchema": {"type": "object"}, "annotations": annotations}
    handler = McpToolHandler(name="mcp__s__w", server="s", tool="w", definition=definition, client=client)
    call = ToolCall(name="mcp__s__w", call_id="c1", kind="function", payload='{"x": 1}')
    return asyncio.run(handler.handle(call, ctx)), events


def test_untrusted_asks_and_a_decline_never_calls_the_server() -> None:
    client = FakeClient(answer="decline")
    output, events = run(client, "untrusted")
    assert [r.tool for r in client.asked] == ["w"] and client.calls == []
    assert not output.success
    assert [getattr(p, "text", None) for p in output.content][1:] == ["user rejected MCP tool call"]
    assert isinstance(events[0], McpToolCallBeginEvent) and isinstance(events[1], McpToolCallEndEvent)
    assert events[1].result == {"Err": "user rejected MCP tool call"}


def test_an_accepted_approval_runs_the_call() -> None:
    client = FakeClient(answer="accept")
    output, events = run(client, "untrusted")
    assert client.calls == [("s", "w", {"x": 1})] and output.success
    assert events[1].result == {"Ok": {"content": [{"type": "text", "text": "done"}]}}


def test_a_cancel_is_reported_as_such() -> None:
    output, _ = run(FakeClient(answer="cancel"), "on-request")
    assert output.content[1].text == "user cancelled MCP tool call"


def test_read_only_tools_are_not_asked_about() -> None:
    client = FakeClient(answer="decline")
    output, _ = run(client, "untrusted", READ_ONLY)
    assert client.asked == [] and output.success


def test_a_failed_request_is_an_error_result() -> None:
    output, events = run(FakeClient(error="boom"), "never")
    assert not output.success and output.content[1].text == "tool call error: boom"
    assert events[1].result == {"Err": "tool call error: boom"}


def test_images_become_a_note_for_a_model_without_image_input() -> None:
    result = {"content": [{"type": "image", "data": "AAA", "mimeType": "image/png"}]}
    seen = model_output(result, wall_time_sec=0.5, supports_images=True)
    assert seen[1] == InputImage(image_url="data:image/png;base64,AAA", detail="high")
    blind = model_output(result, wall_time_sec=0.5, supports_images=False)
    assert blind == [InputText(text="Wall time: 0.5000 seconds\nOutput:"), InputText(text=IMAGE_OMITTED)]


def test_schemas_are_made_object_shaped() -> None:
    assert object_schema({"$schema": "x"}) == {"type": "object", "properties": {}}
    fixed = object_schema({"properties": {"a": {"description": "d"}, "b": {"items": {}}}})
    assert fixed["properties"] == {
        "a": {"description": "d", "type": "string"},
        "b": {"items": {}, "type": "array"},
    }
