"""Questions an MCP server (or an MCP tool's approval) puts to the user.

A server may send `elicitation/create` while it handles a call; pycodex also asks
before running an MCP tool that needs approval (as Codex does, through the same kind of
request). Who answers is the front end's business: the connection manager holds one
`Elicitor`. Until a front end installs its own (the app-server will forward the request
as `mcpServer/elicitation/request`, the TUI will ask), the default declines every
question and says so in a warning — what `exec`, which cannot ask anyone, must do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal, Protocol

import msgspec

ElicitationAction = Literal["accept", "decline", "cancel"]
ElicitationKind = Literal["server", "tool_approval"]


class ElicitationRequest(msgspec.Struct, frozen=True, kw_only=True):
    server: str
    kind: ElicitationKind
    message: str
    # The JSON schema of the answer a form elicitation wants (None for URL/approval).
    requested_schema: dict[str, Any] | None = None
    # A URL elicitation's address.
    url: str | None = None
    # For a tool approval: the tool and its arguments.
    tool: str | None = None
    arguments: Any = None


class ElicitationResponse(msgspec.Struct, frozen=True, kw_only=True):
    action: ElicitationAction
    content: dict[str, Any] | None = None


class Elicitor(Protocol):
    async def __call__(self, request: ElicitationRequest) -> ElicitationResponse: ...


class DecliningElicitor:
    """Declines everything, with a warning naming what was declined."""

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn

    async def __call__(self, request: ElicitationRequest) -> ElicitationResponse:
        if request.kind == "tool_approval":
            what = f"the call of MCP tool `{request.server}/{request.tool}`"
        else:
            what = f"a request from MCP server `{request.server}` ({request.message})"
        self._warn(f"declined {what}: this front end cannot ask for approval or input")
        return ElicitationResponse(action="decline")


EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}}


def tool_approval_question(request: ElicitationRequest) -> str:
    """What to ask about an MCP tool's call (`kind == "tool_approval"`)."""
    arguments = json.dumps(request.arguments, ensure_ascii=False) if request.arguments is not None else "{}"
    return request.message or f"Allow the MCP tool `{request.tool}` to run with {arguments}?"


# What the protocol's typed form schema (MCP 2025-11-25 `requestedSchema`) admits; servers
# built on JSON-Schema generators add more (`title` at the top, …), which is dropped.
_FORM_KEYS = ("$schema", "type", "properties", "required")
_FIELD_KEYS = frozenset({
    "type", "title", "description", "default", "format", "minLength", "maxLength", "minimum",
    "maximum", "enum", "enumNames", "oneOf", "items", "minItems", "maxItems",
})


def form_schema(schema: object) -> dict[str, Any]:
    """A server's requested schema in the shape the protocol allows (an empty form when it
    is not an object schema at all)."""
    if not isinstance(schema, dict) or schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return dict(EMPTY_FORM)
    form: dict[str, Any] = {key: schema[key] for key in _FORM_KEYS if key in schema}
    form["properties"] = {
        name: {k: v for k, v in field.items() if k in _FIELD_KEYS}
        for name, field in schema["properties"].items()
        if isinstance(field, dict)
    }
    return form
