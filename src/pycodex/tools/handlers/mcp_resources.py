"""`list_mcp_resources`, `list_mcp_resource_templates`, `read_mcp_resource`: the
resources of the session's MCP servers, as tools (Codex's names, arguments and output
shapes: compact JSON, each entry tagged with its `server`).

Each call is shown as an MCP tool call (server: the one asked, or `codex` for "all").
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pycodex.mcp.errors import McpError
from pycodex.mcp.results import compact_json
from pycodex.protocol.event_payloads import (
    McpInvocation,
    McpToolCallBeginEvent,
    McpToolCallEndEvent,
)
from pycodex.protocol.events import RustDuration
from pycodex.tools.base import RespondToModel, ToolCall, ToolContext, ToolOutput, json_arguments

Json = dict[str, Any]
ALL_SERVERS = "codex"


class McpResourceClient(Protocol):
    def ready_servers(self) -> list[str]: ...

    async def list_resources(self, server: str, cursor: str | None) -> Json: ...

    async def list_resource_templates(self, server: str, cursor: str | None) -> Json: ...

    async def read_resource(self, server: str, uri: str) -> Json: ...


def _string_param(description: str) -> Json:
    return {"type": "string", "description": description}


def _spec(name: str, description: str, properties: Json, required: list[str]) -> Json:
    return {
        "type": "function",
        "name": name,
        "description": description,
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }


_LIST_PROPERTIES = {
    "server": _string_param("Only this MCP server's entries (default: every server's)."),
    "cursor": _string_param("The `nextCursor` of a previous page (needs `server`)."),
}
LIST_RESOURCES_SPEC = _spec(
    "list_mcp_resources",
    "List the resources (files, records, documents...) the configured MCP servers offer. "
    "Read one with `read_mcp_resource`; prefer resources over web search when they fit.",
    _LIST_PROPERTIES,
    [],
)
LIST_TEMPLATES_SPEC = _spec(
    "list_mcp_resource_templates",
    "List the resource templates (parameterised resource URIs) the configured MCP servers "
    "offer. Fill one in and read it with `read_mcp_resource`.",
    _LIST_PROPERTIES,
    [],
)
READ_RESOURCE_SPEC = _spec(
    "read_mcp_resource",
    "Read one resource of an MCP server by its URI.",
    {
        "server": _string_param("The MCP server, as named by `list_mcp_resources`."),
        "uri": _string_param("The resource URI to read."),
    },
    ["server", "uri"],
)


class _ResourceTool:
    spec_value: Json

    def __init__(self, client: McpResourceClient) -> None:
        self._client = client

    @property
    def name(self) -> str:
        return str(self.spec_value["name"])

    def spec(self) -> Json:
        return self.spec_value

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        args = json_arguments(call)
        server = _optional(args, "server")
        invocation = McpInvocation(server=server or ALL_SERVERS, tool=self.name, arguments=args)
        ctx.emit(McpToolCallBeginEvent(call_id=call.call_id, invocation=invocation))
        started = time.monotonic()
        try:
            payload = await self.run(args, server)
        except (McpError, RespondToModel) as exc:
            self._end(ctx, call, invocation, started, {"Err": str(exc)})
            return ToolOutput(text=str(exc), success=False)
        text = compact_json(payload)
        result = {"content": [{"type": "text", "text": text}], "isError": False}
        self._end(ctx, call, invocation, started, {"Ok": result})
        return ToolOutput(text=text)

    async def run(self, args: Json, server: str | None) -> Json:
        raise NotImplementedError

    def _end(
        self, ctx: ToolContext, call: ToolCall, inv: McpInvocation, started: float, result: Json
    ) -> None:
        duration = RustDuration.from_seconds(time.monotonic() - started)
        ctx.emit(McpToolCallEndEvent(call_id=call.call_id, invocation=inv, duration=duration, result=result))


class ListResourcesTool(_ResourceTool):
    spec_value = LIST_RESOURCES_SPEC

    async def run(self, args: Json, server: str | None) -> Json:
        return await _listing(
            self._client, args, server, "resources", "resources/list", self._client.list_resources
        )


class ListResourceTemplatesTool(_ResourceTool):
    spec_value = LIST_TEMPLATES_SPEC

    async def run(self, args: Json, server: str | None) -> Json:
        return await _listing(
            self._client, args, server, "resourceTemplates", "resources/templates/list",
            self._client.list_resource_templates,
        )


class ReadResourceTool(_ResourceTool):
    spec_value = READ_RESOURCE_SPEC

    async def run(self, args: Json, server: str | None) -> Json:
        uri = _optional(args, "uri")
        if server is None or uri is None:
            raise RespondToModel("failed to parse function arguments: `server` and `uri` are required")
        try:
            result = await self._client.read_resource(server, uri)
        except McpError as exc:
            raise McpError(f"resources/read failed: {exc}") from None
        return {"server": server, "uri": uri, **result}


Lister = Callable[[str, str | None], Awaitable[Json]]


async def _listing(
    client: McpResourceClient, args: Json, server: str | None, key: str, method: str, lister: Lister
) -> Json:
    cursor = _optional(args, "cursor")
    if server is not None:
        try:
            page = await lister(server, cursor)
        except McpError as exc:
            raise McpError(f"{method} failed: {exc}") from None
        out: Json = {"server": server, key: [{"server": server, **e} for e in page.get(key, [])]}
        if page.get("nextCursor"):
            out["nextCursor"] = page["nextCursor"]
        return out
    if cursor is not None:
        raise RespondToModel("cursor can only be used when a server is specified")
    entries: list[Json] = []
    for name in client.ready_servers():
        try:
            entries.extend({"server": name, **e} for e in await _all_pages(lister, name, key))
        except McpError:
            continue  # as Codex: one server's failure does not hide the others' entries
    return {key: entries}


async def _all_pages(lister: Lister, server: str, key: str) -> list[Json]:
    entries: list[Json] = []
    cursor: str | None = None
    while True:
        page = await lister(server, cursor)
        entries.extend(page.get(key, []))
        following = page.get("nextCursor")
        if not following or following == cursor:
            return entries
        cursor = following


def _optional(args: Json, key: str) -> str | None:
    value = args.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RespondToModel(f"failed to parse function arguments: `{key}` must be a string")
    return value.strip() or None


def resource_tools(client: McpResourceClient) -> list[_ResourceTool]:
    return [ListResourcesTool(client), ListResourceTemplatesTool(client), ReadResourceTool(client)]


