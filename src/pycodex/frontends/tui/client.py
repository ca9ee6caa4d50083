"""The TUI's side of the app-server protocol: one `AppServerClient` whatever the transport.

The TUI is a client of the same JSON-RPC an IDE speaks. By default the server runs in this
process (`InProcessTransport`: the app-server's own `Server.serve_stream` over a pair of
queues, its log lines in `$PYCODEX_HOME/log/tui.log`, never on the terminal); with
`--remote ws://…` it attaches to a running `pycodex app-server` (`WebSocketTransport`).
Notifications go to `on_notification`; server requests (approvals, MCP questions) to
`on_request`, whose return value is the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

Json = dict[str, Any]
NotificationHandler = Callable[[str, Json], None]
RequestHandler = Callable[[str, Json], Awaitable[Any]]
CLIENT_NAME = "pycodex_tui"


class RpcError(Exception):
    """The server answered a request with a JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class ConnectionLost(Exception):
    """The server went away (the remote closed, or the in-process server ended)."""


class Transport(Protocol):
    async def send(self, message: bytes) -> None: ...
    async def receive(self) -> bytes | str | None: ...
    async def close(self) -> None: ...


class _QueueStream:
    """The server's end of an in-process connection (app_server.streams.MessageStream)."""

    disconnectable = False
    name = "tui"

    def __init__(self, inbound: asyncio.Queue[bytes | None], outbound: asyncio.Queue[bytes | None]) -> None:
        self._inbound, self._outbound = inbound, outbound

    async def receive(self) -> bytes | None:
        return await self._inbound.get()

    async def send(self, message: bytes) -> None:
        await self._outbound.put(message)

    async def close(self) -> None:
        await self._outbound.put(None)


class InProcessTransport:
    """The app-server in this process, on queues: no sockets, no serialisation surprises
    (the bytes are exactly what a remote client would get)."""

    def __init__(self, env: Mapping[str, str], config_overrides: Sequence[str] = ()) -> None:
        from pycodex.frontends.app_server.app import build_dispatcher
        from pycodex.frontends.app_server.limits import Limits
        from pycodex.frontends.app_server.loaded_threads import LoadedThreads
        from pycodex.frontends.app_server.server import Server

        self._to_server: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._from_server: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._log = _log_file(env)
        self.threads = LoadedThreads(env, config_overrides)
        dispatcher = build_dispatcher(env, self._write_log, self.threads)
        self._server = Server(dispatcher, Limits.from_env(env), self._write_log, self.threads)
        stream = _QueueStream(self._to_server, self._from_server)
        self._task = asyncio.create_task(self._server.serve_stream(stream), name="tui-app-server")

    def _write_log(self, line: str) -> None:
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.write(line + "\n")
                self._log.flush()

    async def send(self, message: bytes) -> None:
        await self._to_server.put(message)

    async def receive(self) -> bytes | None:
        return await self._from_server.get()

    async def close(self) -> None:
        await self._to_server.put(None)  # end of input: the connection closes
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, 5)
        await self.threads.close_all()
        if self._log is not None:
            self._log.close()


def log_path(env: Mapping[str, str]) -> Path:
    from pycodex.config.home import pycodex_home

    return pycodex_home(env) / "log" / "tui.log"


def _log_file(env: Mapping[str, str]) -> Any:
    path = log_path(env)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a", encoding="utf-8")
    except OSError:
        return None


class WebSocketTransport:
    """`pycodex --remote ws://HOST:PORT`: a running app-server."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    @classmethod
    async def connect(cls, url: str, token: str | None = None) -> WebSocketTransport:
        from websockets.asyncio.client import connect

        headers = {"Authorization": f"Bearer {token}"} if token else None
        return cls(await connect(url, additional_headers=headers, max_size=None))

    async def send(self, message: bytes) -> None:
        await self._connection.send(message.decode())

    async def receive(self) -> bytes | str | None:
        from websockets.exceptions import ConnectionClosed

        try:
            message: bytes | str = await self._connection.recv()
        except ConnectionClosed:
            return None
        return message

    async def close(self) -> None:
        await self._connection.close()


class AppServerClient:
    def __init__(
        self,
        transport: Transport,
        on_notification: NotificationHandler,
        on_request: RequestHandler,
    ) -> None:
        self._transport = transport
        self._on_notification = on_notification
        self._on_request = on_request
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._answering: set[asyncio.Task[None]] = set()  # server requests being answered
        self._reader = asyncio.create_task(self._read(), name="tui-client-reader")
        self.closed = asyncio.Event()

    async def initialize(self, version: str) -> Json:
        result: Json = await self.request("initialize", {
            "clientInfo": {"name": CLIENT_NAME, "title": "pycodex", "version": version},
            "capabilities": {"experimentalApi": True},
        })
        await self.notify("initialized", None)
        return result

    async def request(self, method: str, params: Any) -> Any:
        if self.closed.is_set():
            raise ConnectionLost("the app-server connection is closed")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        message: Json = {"id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        await self._transport.send(json.dumps(message).encode())
        try:
            return await future
        finally:
            self._pending.pop(request_id, None)

    async def notify(self, method: str, params: Any) -> None:
        message: Json = {"method": method}
        if params is not None:
            message["params"] = params
        await self._transport.send(json.dumps(message).encode())

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._transport.close()

    async def _read(self) -> None:
        try:
            while (raw := await self._transport.receive()) is not None:
                self._dispatch(json.loads(raw))
        finally:
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionLost("the app-server connection closed"))

    def _dispatch(self, message: Json) -> None:
        method = message.get("method")
        if isinstance(method, str) and "id" in message:
            task = asyncio.create_task(self._answer(message["id"], method, message.get("params") or {}))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        elif isinstance(method, str):
            self._on_notification(method, message.get("params") or {})
        else:
            future = self._pending.get(message.get("id"))  # type: ignore[arg-type]
            if future is None or future.done():
                return
            if "error" in message:
                error = message["error"] or {}
                future.set_exception(RpcError(error.get("code", 0), str(error.get("message")), error.get("data")))
            else:
                future.set_result(message.get("result"))

    async def _answer(self, request_id: Any, method: str, params: Json) -> None:
        try:
            result = await self._on_request(method, params)
            answer: Json = {"id": request_id, "result": result}
        except Exception as exc:  # the prompt failed: tell the server instead of hanging it
            answer = {"id": request_id, "error": {"code": -32603, "message": str(exc)}}
        with contextlib.suppress(Exception):
            await self._transport.send(json.dumps(answer).encode())
