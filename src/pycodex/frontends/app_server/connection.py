"""One client connection: a reader, a processor and a writer task around bounded queues.

* The **reader** decodes each incoming message. Answers to server→client requests go
  straight to the pending table (never queued behind requests, so an approval answer can
  always get through). Requests and notifications go to the bounded inbound queue; when
  it is full a request is answered at once with -32001 "Server overloaded; retry later."
  (Codex's backpressure error), which a client retries.
* The **processor** handles requests in arrival order and queues each answer (waiting for
  room: that is the client's own pace).
* The **writer** drains the bounded outbound queue into the transport.

Messages the server originates (notifications, server requests) never wait on a slow
socket client: if its outbound queue is full it is disconnected (as Codex does), so one
client that stops reading stalls nobody else. stdio, the process's only client, is waited
for instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from pycodex.frontends.app_server import errors, jsonrpc
from pycodex.frontends.app_server.deferred import Deferred
from pycodex.frontends.app_server.dispatcher import Dispatcher
from pycodex.frontends.app_server.jsonrpc import (
    ErrorResponse,
    JsonValue,
    MalformedMessage,
    Notification,
    Request,
    Response,
)
from pycodex.frontends.app_server.limits import Limits
from pycodex.frontends.app_server.methods import EXPERIMENTAL_NOTIFICATIONS
from pycodex.frontends.app_server.outbound import OutboundClosed, OutboundQueue
from pycodex.frontends.app_server.outbound_types import (
    NOTIFICATIONS,
    SERVER_REQUESTS,
    OutboundTypeError,
    typed_params,
)
from pycodex.frontends.app_server.server_requests import PendingServerRequests
from pycodex.frontends.app_server.session import Session
from pycodex.frontends.app_server.streams import MessageStream, MessageTooLarge, StreamClosed

Log = Callable[[str], None]
_Inbound = Request | Notification


class ConnectionClosed(Exception):
    """The connection is gone; nothing more can be sent on it."""


class Connection:
    def __init__(
        self, stream: MessageStream, dispatcher: Dispatcher, limits: Limits, *, log: Log
    ) -> None:
        self.stream = stream
        self.session = Session()
        self._dispatcher = dispatcher
        self._limits = limits
        self._log = log
        self._inbound: asyncio.Queue[_Inbound | None] = asyncio.Queue(limits.inbound)
        self._outbound = OutboundQueue(limits.outbound, limits.urgent)
        self._pending = PendingServerRequests()
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        self._closer: asyncio.Task[None] | None = None
        # Answers still being worked on (`Deferred`): cancelled when the connection ends.
        self._deferred: set[asyncio.Task[None]] = set()

    @property
    def pending_server_requests(self) -> int:
        return len(self._pending)

    async def run(self) -> None:
        """Serve until the client goes away (end of input, or the writer failing)."""
        writer = asyncio.create_task(self._write_loop(), name=f"{self.stream.name}-writer")
        processor = asyncio.create_task(self._process_loop(), name=f"{self.stream.name}-processor")
        reader = asyncio.create_task(self._read_loop(), name=f"{self.stream.name}-reader")
        self._tasks = [reader, processor, writer]
        try:
            # The reader ends at end of input: the processor then finishes what was
            # queued and the writer flushes it (a client may close its side and still
            # read the answers). A writer that fails ends everything at once.
            await asyncio.wait([writer], return_when=asyncio.FIRST_COMPLETED)
        finally:
            await self.close("connection closed")

    async def close(self, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        self._pending.abandon_all(reason)
        await self._cancel_deferred()
        self._outbound.close()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        for task in self._tasks:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.stream.close()

    # --- what handlers and the engine side use --------------------------------------------

    def _typed(self, method: str, params: JsonValue | None, table: dict[str, Any]) -> JsonValue | None:
        """The params as their declared type (`outbound_types`); one that does not fit is a
        server bug: logged, and sent as built rather than not at all."""
        try:
            typed: JsonValue | None = typed_params(method, params, table)
        except OutboundTypeError as exc:
            self._log(f"error: outbound message does not fit its type: {exc}")
            return params
        return typed

    async def notify(self, method: str, params: JsonValue | None) -> None:
        if method in self.session.opted_out_notifications:
            return
        if method in EXPERIMENTAL_NOTIFICATIONS and not self.session.experimental_api:
            return
        params = self._typed(method, params, NOTIFICATIONS)
        now_ms = int(time.time() * 1000)
        await self._send_unsolicited(jsonrpc.encode_notification(method, params, now_ms))

    async def request(
        self,
        method: str,
        params: JsonValue | None,
        *,
        answer_within: float | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> JsonValue:
        """Ask the client; raises a ``ServerRequestFailed`` subclass unless it answers."""
        params = self._typed(method, params, SERVER_REQUESTS)
        request_id, future = self._pending.open(method)
        try:
            await self._send_unsolicited(jsonrpc.encode_request(request_id, method, params))
        except BaseException:
            self._pending.discard(request_id)
            raise
        if on_sent is not None:
            on_sent(request_id)
        wait = answer_within if answer_within is not None else self._limits.server_request_timeout
        return await self._pending.wait(request_id, future, wait)

    async def _send_unsolicited(self, message: bytes) -> None:
        if self._closing:
            raise ConnectionClosed(self.stream.name)
        if not self.stream.disconnectable:
            try:
                await self._outbound.put(message)
            except OutboundClosed:
                raise ConnectionClosed(self.stream.name) from None
            return
        if not self._outbound.try_put(message):
            self._log(f"disconnecting slow connection {self.stream.name}: outbound queue is full")
            # Closing awaits the tasks; the caller may be one of them, so close aside.
            self._closer = asyncio.get_running_loop().create_task(self.close("outbound queue full"))
            raise ConnectionClosed(self.stream.name)

    # --- the three tasks -------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                try:
                    data = await self.stream.receive()
                except MessageTooLarge:
                    self._log("Failed to deserialize JSONRPCMessage: message too large, skipped")
                    continue
                except StreamClosed:
                    data = None
                if data is None:
                    break
                await self._accept(data)
        finally:
            # Nobody can answer server requests any more; the processor may still finish.
            self._pending.abandon_all("the client closed the connection")
            try:
                self._inbound.put_nowait(None)
            except asyncio.QueueFull:
                await self._inbound.put(None)

    async def _accept(self, data: bytes | str) -> None:
        try:
            message = jsonrpc.decode_message(data)
        except MalformedMessage as exc:
            # Codex logs these and answers nothing: without a readable id there is
            # nothing a reply could be matched to.
            self._log(f"Failed to deserialize JSONRPCMessage: {exc}")
            return
        if isinstance(message, Response):
            if not self._pending.resolve(message.id, message.result):
                self._log(f"dropping response to unknown server request id {message.id!r}")
            return
        if isinstance(message, ErrorResponse):
            if message.id is None or not self._pending.reject(message.id, message.error):
                self._log(f"dropping error for unknown server request id {message.id!r}")
            return
        try:
            self._inbound.put_nowait(message)
        except asyncio.QueueFull:
            if isinstance(message, Request):
                self._overloaded(message)
            else:
                await self._inbound.put(message)

    def _overloaded(self, request: Request) -> None:
        answer = jsonrpc.encode_error(request.id, errors.overloaded())
        if not self._outbound.try_put_urgent(answer):
            self._log(f"dropping overload answer to request {request.id!r}: outbound queue is full")

    async def _process_loop(self) -> None:
        while (message := await self._inbound.get()) is not None:
            if isinstance(message, Notification):
                self._dispatcher.handle_notification(message, self.session)
                continue
            answer = await self._answer(message)
            if answer is None:
                continue  # deferred: answered when its work is done
            try:
                await self._outbound.put(answer)
            except OutboundClosed:
                return
        # The client is gone: what it started (a command/exec process) stops with it.
        await self._cancel_deferred()
        self._outbound.close()

    async def _answer(self, request: Request) -> bytes | None:
        try:
            result = await self._dispatcher.handle_request(request, self.session, self)
        except errors.RpcError as exc:
            return jsonrpc.encode_error(request.id, exc.to_error())
        if isinstance(result, Deferred):
            task = asyncio.create_task(self._answer_later(request, result))
            self._deferred.add(task)
            task.add_done_callback(self._deferred.discard)
            return None
        return jsonrpc.encode_response(request.id, result)

    async def _answer_later(self, request: Request, deferred: Deferred) -> None:
        try:
            answer = jsonrpc.encode_response(request.id, await deferred.work)
        except errors.RpcError as exc:
            answer = jsonrpc.encode_error(request.id, exc.to_error())
        finally:
            deferred.work.close()  # cancelled before it ran: never left un-awaited
        with contextlib.suppress(OutboundClosed):
            await self._outbound.put(answer)

    async def _cancel_deferred(self) -> None:
        tasks = [task for task in self._deferred if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _write_loop(self) -> None:
        while True:
            try:
                message = await self._outbound.get()
            except OutboundClosed:
                return
            try:
                await self.stream.send(message)
            except StreamClosed:
                return
