"""MCP questions as the app-server's `mcpServer/elicitation/request` and back.

A server's form elicitation keeps its requested schema; a URL elicitation gets an id of
its own; an MCP tool's approval (pycodex asks it the same way Codex does) becomes a form
with no fields, whose `accept` approves the call.
"""

from __future__ import annotations

import uuid

from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.mcp.elicitation import (
    EMPTY_FORM,
    ElicitationRequest,
    ElicitationResponse,
    form_schema,
    tool_approval_question,
)

ELICITATION_REQUEST = "mcpServer/elicitation/request"
_ACTIONS = ("accept", "decline", "cancel")


def elicitation_params(request: ElicitationRequest, *, thread_id: str, turn_id: str | None) -> JsonValue:
    base: dict[str, JsonValue] = {"threadId": thread_id, "turnId": turn_id, "serverName": request.server}
    if request.kind == "tool_approval":
        return {**base, "mode": "form", "message": tool_approval_question(request), "requestedSchema": dict(EMPTY_FORM)}
    if request.url is not None:
        return {**base, "mode": "url", "message": request.message, "url": request.url,
                "elicitationId": str(uuid.uuid4())}
    return {**base, "mode": "form", "message": request.message, "requestedSchema": form_schema(request.requested_schema)}


def elicitation_response(result: JsonValue) -> ElicitationResponse:
    """The client's answer; ValueError when it is not one (then it counts as no answer)."""
    if not isinstance(result, dict) or result.get("action") not in _ACTIONS:
        raise ValueError(f"not an elicitation answer: {result!r}")
    content = result.get("content")
    if content is not None and not isinstance(content, dict):
        raise ValueError(f"elicitation content must be an object, got {content!r}")
    return ElicitationResponse(action=result["action"], content=content)
