"""Questions an MCP server (or an MCP tool's approval) puts to the user.

A server may send `elicitation/create` while it handles a call; pycodex also asks
before running an MCP tool that needs approval (as Codex does, through the same kind of
request). Who answers is the front end's business: the connection manager holds one
`Elicitor`. Until a front end installs its own (the app-server will forward the request
as `mcpServer/elicitation/request`, the TUI will ask), the default declines every
question and says so in a warning — what `exec`, which cannot ask anyone, must do.
"""

from __future__ import annotations

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
