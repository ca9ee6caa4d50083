"""Calling an MCP server's tool on the model's behalf.

One handler per offered tool. A call emits `McpToolCallBegin`, asks for approval when
needed, calls the server, emits `McpToolCallEnd`, and answers the model with the result
mapped by :mod:`pycodex.mcp.results`. Every failure — a refusal, a timeout, a server
that crashed or was never up — is answered to the model as an error result, never raised.

Approval: a tool whose annotations say `readOnlyHint` (and not `destructiveHint`) runs
without asking; any other follows the approval policy: asked under `on-request` and
`untrusted`, run under `on-failure` (MCP calls are not sandboxed, so nothing can fail
into an escalation) and `never`. A server's `default_tools_approval_mode` overrides:
`approve` never asks, `prompt` always asks (unless the policy is `never`).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Protocol

from pycodex.mcp.elicitation import ElicitationRequest, ElicitationResponse
from pycodex.mcp.errors import McpError
from pycodex.mcp.results import error_result, is_error, model_output, text_summary
from pycodex.protocol.event_payloads import (
    McpInvocation,
    McpToolCallBeginEvent,
    McpToolCallEndEvent,
)
from pycodex.protocol.events import RustDuration
from pycodex.tools.base import RespondToModel, ToolCall, ToolContext, ToolHandler, ToolOutput
from pycodex.tools.handlers.mcp_resources import McpResourceClient, resource_tools

if TYPE_CHECKING:
    from pycodex.mcp.manager import McpTool

Json = dict[str, Any]
ASKING_POLICIES = frozenset({"on-request", "untrusted"})
REJECTED = "user rejected MCP tool call"
CANCELLED = "user cancelled MCP tool call"


class McpToolClient(Protocol):
    """What an MCP tool call needs from the connection manager."""

    async def call_tool(self, server: str, tool: str, arguments: Json | None, meta: Json | None) -> Json: ...

    async def elicit(self, request: ElicitationRequest) -> ElicitationResponse: ...


def needs_approval(annotations: Any, approval_mode: str, policy: str) -> bool:
    if approval_mode == "approve" or policy == "never":
        return False
    if approval_mode == "prompt":
        return True
    hints = annotations if isinstance(annotations, dict) else {}
    if hints.get("readOnlyHint") is True and hints.get("destructiveHint") is not True:
        return False
    return policy in ASKING_POLICIES


def tool_spec(name: str, definition: Json) -> Json:
    """The function tool offered for one MCP tool: its description and input schema,
    the schema made acceptable to strict providers (an object with `properties`)."""
    schema = definition.get("inputSchema")
    return {
        "type": "function",
        "name": name,
        "description": definition.get("description") or definition.get("title") or "",
        "strict": False,
        "parameters": object_schema(schema if isinstance(schema, dict) else {}),
    }


def object_schema(schema: Json) -> Json:
    out = {key: value for key, value in schema.items() if key != "$schema"}
    out["type"] = "object"
    if not isinstance(out.get("properties"), dict):
        out["properties"] = {}
    out["properties"] = {k: _typed(v) for k, v in out["properties"].items()}
    if "required" in out and not isinstance(out["required"], list):
        del out["required"]
    return out


def _typed(schema: Any) -> Any:
    """A property schema without `type` gets one (some providers reject untyped ones)."""
    if not isinstance(schema, dict):
        return {"type": "string"}
    if any(k in schema for k in ("type", "anyOf", "oneOf", "allOf", "$ref", "enum", "const")):
        return schema
    if "properties" in schema:
        return object_schema(schema)
    if "items" in schema:
        return {**schema, "type": "array"}
    return {**schema, "type": "string"}


class McpToolHandler:
    def __init__(
        self,
        *,
        name: str,
        server: str,
        tool: str,
        definition: Json,
        client: McpToolClient,
        approval_mode: str = "auto",
        supports_images: bool = True,
    ) -> None:
        self.name = name
        self.server = server
        self.tool = tool
        self._definition = definition
        self._spec = tool_spec(name, definition)
        self._client = client
        self._approval_mode = approval_mode
        self._supports_images = supports_images

    def spec(self) -> Json:
        return self._spec

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        arguments = _arguments(call.payload)
        invocation = McpInvocation(server=self.server, tool=self.tool, arguments=arguments)
        ctx.emit(McpToolCallBeginEvent(call_id=call.call_id, invocation=invocation))
        started = time.monotonic()
        outcome = await self._approved(call, ctx, arguments)
        if outcome is None:
            try:
                meta = {"callId": call.call_id, "turnId": ctx.turn_id}
                result = await self._client.call_tool(self.server, self.tool, arguments, meta)
                outcome = {"Ok": result}
            except McpError as exc:
                outcome = {"Err": f"tool call error: {exc}"}
        elapsed = time.monotonic() - started
        ctx.emit(
            McpToolCallEndEvent(
                call_id=call.call_id,
                invocation=invocation,
                duration=RustDuration.from_seconds(elapsed),
                result=outcome,
            )
        )
        return self._output(outcome, elapsed)

    async def _approved(self, call: ToolCall, ctx: ToolContext, arguments: Any) -> Json | None:
        """None when the call may run, else the `Err` outcome of a refusal."""
        annotations = self._definition.get("annotations")
        if not needs_approval(annotations, self._approval_mode, ctx.approval_policy):
            return None
        answer = await self._client.elicit(
            ElicitationRequest(
                server=self.server,
                kind="tool_approval",
                message=f"Allow the {self.server} MCP server to run tool \"{self.tool}\"?",
                tool=self.tool,
                arguments=arguments,
            )
        )
        if answer.action == "accept":
            return None
        return {"Err": CANCELLED if answer.action == "cancel" else REJECTED}

    def _output(self, outcome: Json, elapsed: float) -> ToolOutput:
        result = outcome.get("Ok")
        if not isinstance(result, dict):
            result = error_result(str(outcome.get("Err")))
        output = model_output(result, wall_time_sec=elapsed, supports_images=self._supports_images)
        success = not is_error(result)
        if isinstance(output, str):
            return ToolOutput(text=output, success=success)
        return ToolOutput(text=text_summary(output), success=success, content=tuple(output))


def _arguments(payload: str) -> Json | None:
    if not payload.strip():
        return None
    try:
        value = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise RespondToModel(f"failed to parse function arguments: {exc}") from None
    if not isinstance(value, dict):
        raise RespondToModel("failed to parse function arguments: expected a JSON object")
    return value


class McpTools(McpToolClient, McpResourceClient, Protocol):
    """The connection manager as the tool registry sees it."""

    def tools(self) -> list[McpTool]: ...

    def approval_mode(self, server: str) -> str: ...


def mcp_handlers(manager: McpTools, *, supports_images: bool) -> list[ToolHandler]:
    """A handler per MCP tool of the servers that are up, then the resource tools."""
    handlers: list[ToolHandler] = [
        McpToolHandler(
            name=tool.qualified,
            server=tool.server,
            tool=tool.tool,
            definition=tool.definition,
            client=manager,
            approval_mode=manager.approval_mode(tool.server),
            supports_images=supports_images,
        )
        for tool in manager.tools()
    ]
    handlers.extend(resource_tools(manager))
    return handlers
