"""Running the app-server: one connection on stdio, or a listener (websocket, unix socket)
with a connection per client, until end of input (stdio) or SIGTERM / SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sys
from collections.abc import Coroutine, Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from pycodex.frontends.app_server.connection import Connection
from pycodex.frontends.app_server.dispatcher import Dispatcher, Log
from pycodex.frontends.app_server.limits import Limits
from pycodex.frontends.app_server.listen import ListenTarget, Stdio, UnixSocket, WebSocket
from pycodex.frontends.app_server.streams import MAX_MESSAGE_BYTES, MessageStream, stdio_stream
from pycodex.frontends.app_server.ws_auth import WebsocketAuth, bearer_of

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection
    from websockets.http11 import Request, Response

    from pycodex.frontends.app_server.loaded_threads import LoadedThreads


class ListenError(Exception):
    """The server cannot listen where it was asked to; the message is the one-line answer."""


def log_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Server:
    def __init__(
        self,
        dispatcher: Dispatcher,
        limits: Limits,
        log: Log,
        threads: LoadedThreads | None = None,
        ws_auth: WebsocketAuth | None = None,
    ) -> None:
        self._dispatcher = dispatcher
        self._ws_auth = ws_auth
        self._limits = limits
        self._log = log
        # The threads the connections share (None: a server without the engine, in tests).
        self._threads = threads
        self._connections: set[Connection] = set()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def serve_stream(self, stream: MessageStream) -> None:
        connection = Connection(stream, self._dispatcher, self._limits, log=self._log)
        self._connections.add(connection)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)
            if self._threads is not None:
                self._threads.forget_peer(connection)

    async def run(self, target: ListenTarget, env: Mapping[str, str]) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop)
        try:
            if isinstance(target, Stdio):
                await self._until_stopped(self.serve_stream(await stdio_stream()))
            elif isinstance(target, WebSocket):
                await self._run_websocket(target)
            else:
                await self._run_unix(target, env)
        finally:
            if self._threads is not None:
                # Every thread shuts down with the server: its commands stop, rollouts close.
                await self._threads.close_all()

    async def _until_stopped(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        stopper = asyncio.create_task(self._stop.wait())
        await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
        for pending in (task, stopper):
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending

    async def _close_all(self) -> None:
        for connection in list(self._connections):
            await connection.close("server shutting down")

    async def _run_websocket(self, target: WebSocket) -> None:
        from websockets.asyncio.server import serve

        from pycodex.frontends.app_server.websocket import WebSocketStream

        if not target.is_loopback and self._ws_auth is None:
            raise ListenError(
                f"refusing to listen on {target.host}: not a loopback address; require a token "
                "with --ws-auth (or use SSH port-forwarding)"
            )
        counter = 0

        async def handler(connection: ServerConnection) -> None:
            nonlocal counter
            counter += 1
            await self.serve_stream(WebSocketStream(connection, name=f"ws#{counter}"))

        try:
            server = await serve(
                handler, target.host, target.port, process_request=functools.partial(_http_gate, self._ws_auth),
                max_size=MAX_MESSAGE_BYTES, compression=None,
            )
        except OSError as exc:
            raise ListenError(f"cannot listen on ws://{target.host}:{target.port}: {exc}") from exc
        host, port = server.sockets[0].getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self._log(
            "pycodex app-server (WebSockets)\n"
            f"  listening on: ws://{shown}:{port}\n"
            f"  readyz: http://{shown}:{port}/readyz\n"
            f"  healthz: http://{shown}:{port}/healthz\n"
            + ("  note: binds localhost only (use SSH port-forwarding for remote access)"
               if self._ws_auth is None else "  note: clients must present a bearer token (--ws-auth)")
        )
        await self._stop.wait()
        server.close(close_connections=False)
        await self._close_all()
        await server.wait_closed()

    async def _run_unix(self, target: UnixSocket, env: Mapping[str, str]) -> None:
        from pycodex.frontends.app_server import unix_socket

        path = target.path or unix_socket.default_socket_path(env)
        try:
            unix_socket.prepare_socket_path(path, private_parent=target.path is None)
            server = await unix_socket.start_unix_listener(path, self.serve_stream)
        except OSError as exc:
            raise ListenError(f"cannot listen on unix://{path}: {exc}") from exc
        try:
            self._log(f"pycodex app-server (unix socket)\n  listening on: unix://{path}")
            await self._stop.wait()
            server.close()
            await self._close_all()
            await server.wait_closed()
        finally:
            unix_socket.remove_socket(path)


async def _http_gate(
    auth: WebsocketAuth | None, connection: ServerConnection, request: Request
) -> Response | None:
    """Health checks answer 200; a browser (any `Origin` header) is refused, so a web page
    cannot drive the agent through ws://127.0.0.1; with --ws-auth, so is a client without
    a valid bearer token."""
    if request.path in ("/readyz", "/healthz"):
        return connection.respond(HTTPStatus.OK, "")
    if request.headers.get("Origin") is not None:
        return connection.respond(HTTPStatus.FORBIDDEN, "browser-originated connections are refused\n")
    if auth is not None:
        bearer = bearer_of(request.headers.get("Authorization"))
        if bearer is None or not auth.accepts(bearer):
            return connection.respond(HTTPStatus.UNAUTHORIZED, "a valid bearer token is required\n")
    return None


def run(
    target: ListenTarget,
    env: Mapping[str, str],
    *,
    limits: Limits | None = None,
    config_overrides: Sequence[str] = (),
    ws_auth: WebsocketAuth | None = None,
) -> int:
    """Serve until done; the process's exit code."""
    from pycodex.frontends.app_server.app import build_dispatcher
    from pycodex.frontends.app_server.loaded_threads import LoadedThreads

    log = log_to_stderr
    threads = LoadedThreads(env, config_overrides)
    server = Server(
        build_dispatcher(env, log, threads), limits or Limits.from_env(env), log, threads, ws_auth
    )
    try:
        asyncio.run(server.run(target, env))
    except ListenError as exc:
        log(f"Error: {exc}")
        return 1
    return 0
