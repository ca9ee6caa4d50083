"""MCP questions as the app-server's `mcpServer/elicitation/request` and back.

A server's form elicitation keeps its requested schema; a URL elicitation gets an id of
its own; an MCP tool's approval (pycodex asks it the same way Codex does) becomes a form
with no fields, whose `accept` approves the call.
"""

from __future__ import annotations

import json
import uuid

from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.mcp.elicitation import ElicitationRequest, ElicitationResponse

ELICITATION_REQUEST = "mcpServer/elicitation/request"
_ACTIONS = ("accept", "decline", "cancel")
_EMPTY_FORM: dict[str, JsonValue] = {"type": "object", "properties": {}}


def elicitation_params(request: ElicitationRequest, *, thread_id: str, turn_id: str | None) -> JsonValue:
    base: dict[str, JsonValue] = {"threadId": thread_id, "turnId": turn_id, "serverName": request.server}
    if request.kind == "tool_approval":
        arguments = json.dumps(request.arguments, ensure_ascii=False) if request.arguments is not None else "{}"
        message = request.message or f"Allow the MCP tool `{request.tool}` to run with {arguments}?"
        return {**base, "mode": "form", "message": message, "requestedSchema": _EMPTY_FORM}
    if request.url is not None:
        return {**base, "mode": "url", "message": request.message, "url": request.url,
                "elicitationId": str(uuid.uuid4())}
    return {**base, "mode": "form", "message": request.message, "requestedSchema": form_schema(request.requested_schema)}


# What the protocol's typed form schema (MCP 2025-11-25 `requestedSchema`) admits; servers
# built on JSON-Schema generators add more (`title` at the top, …), which is dropped.
_FORM_KEYS = ("$schema", "type", "properties", "required")
_FIELD_KEYS = frozenset({
    "type", "title", "description", "default", "format", "minLength", "maxLength", "minimum",
    "maximum", "enum", "enumNames", "oneOf", "items", "minItems", "maxItems",
})


def form_schema(schema: object) -> dict[str, JsonValue]:
    """A server's requested schema in the shape the protocol allows (an empty form when it
    is not an object schema at all)."""
    if not isinstance(schema, dict) or schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return dict(_EMPTY_FORM)
    form: dict[str, JsonValue] = {key: schema[key] for key in _FORM_KEYS if key in schema}
    form["properties"] = {
        name: {k: v for k, v in field.items() if k in _FIELD_KEYS}
        for name, field in schema["properties"].items()
        if isinstance(field, dict)
    }
    return form


def elicitation_response(result: JsonValue) -> ElicitationResponse:
    """The client's answer; ValueError when it is not one (then it counts as no answer)."""
    if not isinstance(result, dict) or result.get("action") not in _ACTIONS:
        raise ValueError(f"not an elicitation answer: {result!r}")
    content = result.get("content")
    if content is not None and not isinstance(content, dict):
        raise ValueError(f"elicitation content must be an object, got {content!r}")
    return ElicitationResponse(action=result["action"], content=content)
