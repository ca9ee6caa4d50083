"""What each MCP server of a session is doing and offers: state, tools, resources.

For status listings (the app-server's `mcpServerStatus/list`, the TUI's `/mcp`, `doctor`):
either a running session's servers as they are, or — with no session — the configured
servers started just to look, then stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from .errors import McpError
from .manager import McpConnectionManager
from .servers import HttpTransport, McpServerSettings, enabled_servers

Json = dict[str, Any]
McpServerStateName = Literal["starting", "connected", "failed"]


class McpServerState(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    state: McpServerStateName
    error: str | None = None
    http_url: str | None = None  # None for stdio servers
    bearer_token: bool = False
    tools: list[Json] = msgspec.field(default_factory=list)  # the allowed ones, as the server defines them
    resources: list[Json] = msgspec.field(default_factory=list)
    resource_templates: list[Json] = msgspec.field(default_factory=list)
    server_info: Json | None = None
    capabilities: Json | None = None


async def server_states(manager: McpConnectionManager, *, with_resources: bool) -> list[McpServerState]:
    """Every configured server of `manager`, in config order."""
    return [await _state_of(manager, settings, with_resources) for settings in manager.settings()]


async def probe_servers(
    servers: Mapping[str, Any], env: Mapping[str, str], cwd: Path, *, with_resources: bool
) -> list[McpServerState]:
    """Start the configured (enabled) servers, report them once each has settled, stop them."""
    manager = McpConnectionManager(enabled_servers(servers, env, cwd), lambda msg: None)
    manager.start()
    try:
        await manager.wait_startup()
        return await server_states(manager, with_resources=with_resources)
    finally:
        await manager.close()


async def _state_of(manager: McpConnectionManager, settings: McpServerSettings, with_resources: bool) -> McpServerState:
    transport = settings.transport
    http = transport if isinstance(transport, HttpTransport) else None
    base: Json = {
        "name": settings.name,
        "http_url": http.url if http is not None else None,
        "bearer_token": http is not None and any(k.lower() == "authorization" for k in http.headers),
    }
    failure = manager.failure(settings.name)
    if failure is not None:
        return McpServerState(state="failed", error=failure, **base)
    try:
        connection = manager.connection(settings.name)
    except McpError:
        return McpServerState(state="starting", **base)
    tools = [t for t in connection.tools if isinstance(t.get("name"), str) and settings.allows(t["name"])]
    resources: list[Json] = []
    templates: list[Json] = []
    if with_resources:
        resources, templates = await asyncio.gather(
            _all_pages(manager, settings.name, "resources"), _all_pages(manager, settings.name, "resourceTemplates")
        )
    return McpServerState(
        state="connected", tools=tools, resources=resources, resource_templates=templates,
        server_info=connection.server_info, capabilities=connection.capabilities, **base,
    )


async def _all_pages(manager: McpConnectionManager, server: str, key: str) -> list[Json]:
    """Every page of a resources listing; empty when the server has none (or no support)."""
    found: list[Json] = []
    cursor: str | None = None
    for _ in range(100):  # a server that never stops paging is cut off
        try:
            if key == "resources":
                page = await manager.list_resources(server, cursor)
            else:
                page = await manager.list_resource_templates(server, cursor)
        except McpError:
            return found
        found.extend(page.get(key, []))
        cursor = page.get("nextCursor")
        if not cursor:
            break
    return found
