"""One MCP server connection, driven by the official `mcp` SDK (imported here only).

The SDK's transports and session are anyio context managers that must be entered and
left by one task; each connection therefore has an owner task that opens the transport,
initializes, lists the tools, then holds the connection open until `close()`. Calls from
any task go through the session. Results are handed on as the JSON objects the server
sent (`by_alias`, only the fields it set), so nothing downstream depends on the SDK.

A stdio server runs in its own session and process group (the SDK's choice); closing
ends it as the MCP spec says (stdin closed, then SIGTERM, then SIGKILL to the group).
Its stderr goes to a temporary file, whose tail explains a server that failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import os
import signal
import tempfile
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, TextIO, cast

from pycodex import __version__

from .elicitation import ElicitationRequest, ElicitationResponse, Elicitor
from .errors import McpError
from .servers import HttpTransport, McpServerSettings, StdioTransport

if TYPE_CHECKING:
    import anyio
    import mcp_types
    from mcp.client.session import ClientRequestContext, ClientSession

Json = dict[str, Any]
STDERR_TAIL_BYTES = 2000
# Codex's client name: servers that adapt to Codex recognise it.
CLIENT_NAME = "codex-mcp-client"


class ServerConnection:
    def __init__(self, settings: McpServerSettings, elicitor: Callable[[], Elicitor]) -> None:
        self.settings = settings
        self._elicitor = elicitor
        self.tools: list[Json] = []
        self.instructions: str | None = None
        # What the server said about itself in `initialize` (for status listings).
        self.server_info: Json | None = None
        self.capabilities: Json | None = None
        self._session: ClientSession | None = None
        self._ready: asyncio.Future[None] | None = None
        self._stop = asyncio.Event()
        self._owner: asyncio.Task[None] | None = None
        self._stderr_path: str | None = None
        self._scope: anyio.CancelScope | None = None
        self._pgid: int | None = None

    @property
    def name(self) -> str:
        return self.settings.name

    async def start(self) -> None:
        """Connect, initialize and list tools within `startup_timeout_sec`; raises
        `McpError` (with the server's last stderr lines) when that fails."""
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._owner = asyncio.create_task(self._own(), name=f"mcp-{self.name}")
        try:
            await self._ready
        except McpError as exc:
            tail = self.stderr_tail()
            raise McpError(f"{exc}\nstderr: {tail}" if tail else str(exc)) from None

    async def close(self) -> None:
        """End the connection (and the server process); idempotent."""
        self._stop.set()
        if self._scope is not None:
            self._scope.cancel()
        owner = self._owner
        if owner is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await owner
        if self._pgid is not None:
            # The SDK kills the group only when the server itself is slow to exit; what
            # the server started (and left running) must die with the session too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._pgid, signal.SIGKILL)
            self._pgid = None
        if self._stderr_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._stderr_path)
            self._stderr_path = None

    def stderr_tail(self) -> str:
        path = self._stderr_path
        return _read_tail(path) if path is not None else ""

    # --- requests -----------------------------------------------------------------------

    async def call_tool(self, tool: str, arguments: Json | None, meta: Json | None) -> Json:
        session = self._require()
        timeout = self.settings.tool_timeout_sec
        result = await self._request(
            f"tool call `{self.name}/{tool}`",
            session.call_tool(
                tool, arguments, read_timeout_seconds=timeout, meta=cast(Any, meta)
            ),
        )
        return _dump(result)

    async def list_resources(self, cursor: str | None) -> Json:
        import mcp_types as types

        session = self._require()
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        return _dump(await self._request("resources/list", session.list_resources(params=params)))

    async def list_resource_templates(self, cursor: str | None) -> Json:
        import mcp_types as types

        session = self._require()
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        request = session.list_resource_templates(params=params)
        return _dump(await self._request("resources/templates/list", request))

    async def read_resource(self, uri: str) -> Json:
        session = self._require()
        return _dump(await self._request(f"resources/read ({uri})", session.read_resource(uri)))

    def _require(self) -> ClientSession:
        if self._session is None or self._stop.is_set():
            raise McpError(f"MCP server `{self.name}` is not running")
        return self._session

    async def _request(self, what: str, request: Any) -> Any:
        from mcp.shared.exceptions import MCPError

        try:
            return await asyncio.wait_for(request, self.settings.tool_timeout_sec + 1)
        except TimeoutError:
            raise McpError(
                f"{what} timed out after {self.settings.tool_timeout_sec:g} seconds"
            ) from None
        except MCPError as exc:
            raise McpError(self._describe(what, str(exc))) from None
        except (OSError, RuntimeError, ValueError) as exc:
            # Broken pipes, results the SDK refuses (schema mismatch), closed streams.
            raise McpError(self._describe(what, f"{type(exc).__name__}: {exc}")) from None

    def _describe(self, what: str, error: str) -> str:
        if "timed out" in error.lower():
            return f"{what} timed out after {self.settings.tool_timeout_sec:g} seconds"
        text = f"{what} failed: {error}"
        if "closed" in error.lower() and (tail := self.stderr_tail()):
            text += f"\nstderr: {tail}"
        return text

    # --- the owner task -----------------------------------------------------------------

    async def _own(self) -> None:
        import anyio

        ready = self._ready
        assert ready is not None
        try:
            # One scope around everything the SDK opens (its task groups must nest inside
            # it): its deadline is the start-up timeout until the server is up, and
            # `close()` cancels it. The SDK's teardown is shielded, so it still runs.
            with anyio.CancelScope() as self._scope:
                self._scope.deadline = anyio.current_time() + self.settings.startup_timeout_sec
                async with AsyncExitStack() as stack:
                    try:
                        session = await self._open(stack)
                        await self._handshake(session)
                    except BaseException as exc:
                        # Reported now: tearing a stuck server down takes seconds more.
                        if not ready.done():
                            ready.set_exception(_startup_error(exc, self._stop.is_set()))
                        raise
                    self._scope.deadline = math.inf
                    self._session = session
                    ready.set_result(None)
                    await self._stop.wait()
        except Exception as exc:
            if not ready.done():
                ready.set_exception(_startup_error(exc, self._stop.is_set()))
        finally:
            self._session = None
            if not ready.done():
                timed_out = self._scope is not None and self._scope.cancelled_caught
                error = "request timed out" if timed_out and not self._stop.is_set() else "startup cancelled"
                ready.set_exception(McpError(error))

    async def _open(self, stack: AsyncExitStack) -> ClientSession:
        import mcp_types as types
        from mcp.client.session import ClientSession

        transport = self.settings.transport
        if isinstance(transport, StdioTransport):
            streams = await stack.enter_async_context(self._stdio(transport, stack))
        else:
            streams = await stack.enter_async_context(await self._http(transport, stack))
        read, write = streams[0], streams[1]
        info = types.Implementation(name=CLIENT_NAME, title="pycodex", version=__version__)
        session = ClientSession(
            read, write, client_info=info, elicitation_callback=self._on_elicitation
        )
        return await stack.enter_async_context(session)

    def _stdio(self, transport: StdioTransport, stack: AsyncExitStack) -> Any:
        from mcp.client.stdio import StdioServerParameters, stdio_client

        fd, self._stderr_path = tempfile.mkstemp(prefix=f"pycodex-mcp-{self.name}-", suffix=".log")
        os.close(fd)
        # Append mode: the server's writes land at the end whatever we read meanwhile.
        errlog: TextIO = open(self._stderr_path, "a", encoding="utf-8")  # noqa: SIM115
        stack.callback(errlog.close)
        _watch_spawns()
        _SPAWNED.set(self._spawned)
        params = StdioServerParameters(
            command=transport.command,
            args=list(transport.args),
            env=dict(transport.env),
            cwd=transport.cwd,
        )
        return stdio_client(params, errlog=errlog)

    def _spawned(self, pid: int) -> None:
        self._pgid = pid  # the server leads its own process group (start_new_session)

    async def _http(self, transport: HttpTransport, stack: AsyncExitStack) -> Any:
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        if transport.problem is not None:
            raise McpError(transport.problem)
        auth = None
        if transport.oauth_home is not None:  # tokens of `pycodex mcp login`, if any
            from pycodex.mcp.oauth import connection_auth

            auth = connection_auth(transport.oauth_home, self.name, transport.url)
        client = await stack.enter_async_context(
            create_mcp_http_client(headers=transport.headers, auth=auth)
        )
        return streamable_http_client(transport.url, http_client=client)

    async def _handshake(self, session: ClientSession) -> None:
        import mcp_types as types

        result = await session.initialize()
        self.instructions = result.instructions
        self.server_info = _dump(result.server_info) if result.server_info else None
        self.capabilities = _dump(result.capabilities) if result.capabilities else None
        tools: list[Json] = []
        cursor: str | None = None
        while True:
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=params)
            tools.extend(_dump(tool) for tool in page.tools)
            if not page.next_cursor or page.next_cursor == cursor:
                break
            cursor = page.next_cursor
        self.tools = tools

    async def _on_elicitation(
        self, context: ClientRequestContext, params: mcp_types.ElicitRequestParams
    ) -> mcp_types.ElicitResult:
        import mcp_types as types

        if isinstance(params, types.ElicitRequestFormParams):
            raw: Any = params.requested_schema
            schema, url = (raw if isinstance(raw, dict) else _dump(raw)), None
        else:
            schema, url = None, params.url
        request = ElicitationRequest(
            server=self.name, kind="server", message=params.message, requested_schema=schema, url=url
        )
        answer: ElicitationResponse = await self._elicitor()(request)
        return types.ElicitResult(action=answer.action, content=answer.content)


# Who to tell the pid of a stdio server the SDK spawns in this task (the SDK does not
# expose its process): set by the connection's owner task before the spawn.
_SPAWNED: contextvars.ContextVar[Callable[[int], None]] = contextvars.ContextVar("mcp_spawned")


def _watch_spawns() -> None:
    """Wrap the SDK's spawn function once to learn each server's pid. Without it (an
    SDK that renamed it) servers are still stopped, only their leftovers are not."""
    import mcp.client.stdio as sdk

    spawn = getattr(sdk, "_create_platform_compatible_process", None)
    if spawn is None or getattr(spawn, "_pycodex_watched", False):
        return

    async def watched(*args: Any, **kwargs: Any) -> Any:
        process = await spawn(*args, **kwargs)
        if (tell := _SPAWNED.get(None)) is not None:
            tell(process.pid)
        return process

    watched._pycodex_watched = True  # type: ignore[attr-defined]
    sdk._create_platform_compatible_process = watched


def _dump(model: Any) -> Json:
    return cast(Json, model.model_dump(by_alias=True, mode="json", exclude_unset=True))


def _startup_error(exc: BaseException, closing: bool) -> McpError:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, McpError):
        return exc
    if isinstance(exc, TimeoutError | asyncio.CancelledError):
        # A cancellation not asked for by `close()` is the start-up deadline; Codex's
        # wording, which the start-up message recognises.
        return McpError("startup cancelled" if closing else "request timed out")
    text = str(exc) or type(exc).__name__
    return McpError(f"{type(exc).__name__}: {text}" if not isinstance(exc, OSError) else text)


def _read_tail(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - STDERR_TAIL_BYTES))
            data = fh.read()
    except OSError:
        return ""
    return data.decode("utf-8", "replace").strip()
