"""`McpConnectionManager`: a session's MCP servers, started together, stopped together.

`start()` launches every enabled server concurrently and returns at once; each reports
`McpStartupUpdate` (starting, then ready or failed) and, when all have settled,
`McpStartupComplete`. A server that fails is shown as a warning with Codex's message;
only a `required` one stops the session (`wait_required`). A turn waits for start-up
(`wait_startup`) at most as long as the slowest server's `startup_timeout_sec`, since
each server gives up on its own after its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import msgspec

from pycodex.protocol.event_payloads import (
    McpStartupCompleteEvent,
    McpStartupFailure,
    McpStartupUpdateEvent,
)
from pycodex.protocol.events import EventMsg, WarningEvent

from .connection import ServerConnection
from .elicitation import DecliningElicitor, ElicitationRequest, ElicitationResponse, Elicitor
from .errors import McpError, McpStartupError
from .naming import qualify_tools, valid_server_name
from .servers import HttpTransport, McpServerSettings

log = logging.getLogger(__name__)

Json = dict[str, Any]
GITHUB_COPILOT_MCP_URL = "https://api.githubcopilot.com/mcp/"


class McpTool(msgspec.Struct, frozen=True):
    """One tool as offered to the model: its offered name and the server's definition."""

    qualified: str
    server: str
    tool: str
    definition: Json


class McpConnectionManager:
    def __init__(self, servers: list[McpServerSettings], emit: Callable[[EventMsg], None]) -> None:
        self._settings = {s.name: s for s in servers}
        self._emit = emit
        self._connections: dict[str, ServerConnection] = {}
        self._starting: dict[str, asyncio.Task[None]] = {}
        self._failures: dict[str, str] = {}
        self._complete: asyncio.Task[None] | None = None
        self._tools: list[McpTool] | None = None
        self._elicitor: Elicitor = DecliningElicitor(self._warn)
        self._closed = False

    # --- who answers elicitations ---------------------------------------------------------

    def set_elicitor(self, elicitor: Elicitor) -> None:
        """The seam for front ends that can ask the user (app-server, TUI)."""
        self._elicitor = elicitor

    async def elicit(self, request: ElicitationRequest) -> ElicitationResponse:
        return await self._elicitor(request)

    # --- start-up -------------------------------------------------------------------------

    def start(self) -> None:
        for name in self._settings:
            self._emit(McpStartupUpdateEvent(server=name, status={"state": "starting"}))
            self._starting[name] = asyncio.create_task(self._start_one(name), name=f"mcp-start-{name}")
        self._complete = asyncio.create_task(self._report_complete(), name="mcp-start-complete")

    async def _start_one(self, name: str) -> None:
        settings = self._settings[name]
        connection = ServerConnection(settings, lambda: self._elicitor)
        try:
            if not valid_server_name(name):
                raise McpError(
                    f"Invalid MCP server name '{name}': must match pattern ^[a-zA-Z0-9_-]+$"
                )
            self._connections[name] = connection
            await connection.start()
        except McpError as exc:
            message = startup_error_display(settings, str(exc))
            self._failures[name] = message
            self._emit(McpStartupUpdateEvent(server=name, status={"state": "failed", "error": message}))
            self._warn(message)
            await connection.close()
            return
        self._emit(McpStartupUpdateEvent(server=name, status={"state": "ready"}))

    async def _report_complete(self) -> None:
        await asyncio.gather(*self._starting.values(), return_exceptions=True)
        failed = [McpStartupFailure(server=n, error=e) for n, e in self._failures.items()]
        ready = [n for n in self._settings if n not in self._failures]
        self._emit(McpStartupCompleteEvent(ready=ready, failed=failed))

    async def wait_startup(self) -> None:
        """Until every server is ready or has failed (each within its own timeout)."""
        if self._complete is not None:
            await asyncio.shield(self._complete)

    async def wait_required(self) -> None:
        """Raises `McpStartupError` naming each `required` server that did not start."""
        required = [n for n, s in self._settings.items() if s.required]
        await asyncio.gather(*(asyncio.shield(self._starting[n]) for n in required))
        failed = [f"{n}: {self._failures[n]}" for n in required if n in self._failures]
        if failed:
            raise McpStartupError(
                "required MCP servers failed to initialize: " + "; ".join(failed)
            )

    # --- what the model is offered ----------------------------------------------------------

    def tools(self) -> list[McpTool]:
        """The tools of the servers that are ready, filtered and named (cached once
        start-up is complete)."""
        if self._tools is not None:
            return self._tools
        pairs: list[tuple[str, str]] = []
        definitions: dict[tuple[str, str], Json] = {}
        for name, connection in self._ready_connections().items():
            for tool in connection.tools:
                tool_name = tool.get("name")
                if isinstance(tool_name, str) and self._settings[name].allows(tool_name):
                    pairs.append((name, tool_name))
                    definitions.setdefault((name, tool_name), tool)
        qualified, dropped = qualify_tools(pairs)
        for reason in dropped:
            log.warning("%s", reason)
        tools = [McpTool(q.qualified, q.server, q.tool, definitions[(q.server, q.tool)]) for q in qualified]
        if self._complete is not None and self._complete.done():
            self._tools = tools
        return tools

    def has_servers(self) -> bool:
        return bool(self._settings)

    def settings(self) -> list[McpServerSettings]:
        return list(self._settings.values())

    def failure(self, server: str) -> str | None:
        """Why `server` failed to start (None: it did not, or not yet)."""
        return self._failures.get(server)

    def approval_mode(self, server: str) -> str:
        settings = self._settings.get(server)
        return settings.approval_mode if settings is not None else "auto"

    def _ready_connections(self) -> dict[str, ServerConnection]:
        return {
            name: conn
            for name, conn in self._connections.items()
            if name not in self._failures and self._starting[name].done()
        }

    # --- requests -------------------------------------------------------------------------

    def connection(self, server: str) -> ServerConnection:
        conn = self._ready_connections().get(server)
        if conn is None:
            if server in self._failures:
                raise McpError(f"MCP server `{server}` failed to start: {self._failures[server]}")
            raise McpError(f"unknown MCP server '{server}'")
        return conn

    async def call_tool(self, server: str, tool: str, arguments: Json | None, meta: Json | None) -> Json:
        settings = self._settings.get(server)
        if settings is not None and not settings.allows(tool):
            raise McpError(f"tool '{tool}' is disabled for MCP server '{server}'")
        return await self.connection(server).call_tool(tool, arguments, meta)

    async def list_resources(self, server: str, cursor: str | None) -> Json:
        return await self.connection(server).list_resources(cursor)

    async def list_resource_templates(self, server: str, cursor: str | None) -> Json:
        return await self.connection(server).list_resource_templates(cursor)

    async def read_resource(self, server: str, uri: str) -> Json:
        return await self.connection(server).read_resource(uri)

    def ready_servers(self) -> list[str]:
        return sorted(self._ready_connections())

    # --- shutdown -------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop every server (their process groups reaped); idempotent."""
        if self._closed:
            return
        self._closed = True
        await asyncio.gather(*(c.close() for c in self._connections.values()), return_exceptions=True)
        for task in [*self._starting.values(), *([self._complete] if self._complete else [])]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _warn(self, message: str) -> None:
        self._emit(WarningEvent(message=message))


def startup_error_display(settings: McpServerSettings, error: str) -> str:
    """Codex's start-up failure messages, so users find the same advice; then the
    server's last stderr lines, which usually say what went wrong."""
    detail, _, tail = error.partition("\nstderr: ")
    message = _startup_advice(settings, detail)
    return f"{message}\nstderr: {tail}" if tail else message


def _startup_advice(settings: McpServerSettings, error: str) -> str:
    name = settings.name
    transport = settings.transport
    if (
        isinstance(transport, HttpTransport)
        and transport.url == GITHUB_COPILOT_MCP_URL
        and not transport.headers
    ):
        return (
            "GitHub MCP does not support OAuth. Log in by adding a personal access token "
            "(https://github.com/settings/personal-access-tokens) to your environment and "
            f"config.toml:\n[mcp_servers.{name}]\n"
            "bearer_token_env_var = CODEX_GITHUB_PERSONAL_ACCESS_TOKEN"
        )
    if "Auth required" in error:
        return f"The {name} MCP server is not logged in. Run `pycodex mcp login {name}`."
    if "request timed out" in error or "timed out handshaking with MCP server" in error:
        return (
            f"MCP client for `{name}` timed out after {settings.startup_timeout_sec:g} seconds. "
            "Add or adjust `startup_timeout_sec` in your config.toml:\n"
            f"[mcp_servers.{name}]\nstartup_timeout_sec = XX"
        )
    return f"MCP client for `{name}` failed to start: {error}"
