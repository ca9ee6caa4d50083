"""Websocket framing: one JSON-RPC message per text frame, as Codex's websocket transport.

:class:`WebSocketStream` adapts a `websockets` server connection (``--listen ws://``).
:class:`RawFrameStream` speaks websocket frames over an already-connected byte stream with no
HTTP upgrade first: that is what Codex's unix control socket speaks (``--listen unix://``),
driven by `websockets`' sans-I/O protocol object.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from websockets.exceptions import ConnectionClosed, InvalidState
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, Side, State

from pycodex.frontends.app_server.streams import MAX_MESSAGE_BYTES, StreamClosed

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection


class WebSocketStream:
    disconnectable = True

    def __init__(self, connection: ServerConnection, *, name: str) -> None:
        self._connection = connection
        self.name = name

    async def receive(self) -> bytes | str | None:
        try:
            return await self._connection.recv()
        except ConnectionClosed:
            return None

    async def send(self, message: bytes) -> None:
        try:
            await self._connection.send(message, text=True)
        except ConnectionClosed as exc:
            raise StreamClosed(str(exc)) from exc

    async def close(self) -> None:
        await self._connection.close()


class RawFrameStream:
    """Websocket frames straight over a socket (no handshake), server side."""

    disconnectable = True

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, name: str
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._protocol = Protocol(Side.SERVER, state=State.OPEN, max_size=MAX_MESSAGE_BYTES)
        self._fragments: list[bytes] = []
        self._ready: list[bytes] = []
        self.name = name

    async def receive(self) -> bytes | None:
        while not self._ready:
            if self._protocol.state is State.CLOSED:
                return None
            data = await self._reader.read(65536)
            if data:
                self._protocol.receive_data(data)
            else:
                self._protocol.receive_eof()
            await self._flush()  # pongs and the closing handshake
            for event in self._protocol.events_received():
                if isinstance(event, Frame):
                    self._collect(event)
            if not data and not self._ready:
                return None
        return self._ready.pop(0)

    def _collect(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            self._fragments.append(bytes(frame.data))
            if frame.fin:
                self._ready.append(b"".join(self._fragments))
                self._fragments = []

    async def send(self, message: bytes) -> None:
        try:
            self._protocol.send_text(message)
        except InvalidState as exc:
            raise StreamClosed(str(exc)) from exc
        await self._flush()

    async def _flush(self) -> None:
        try:
            for chunk in self._protocol.data_to_send():
                if chunk:
                    self._writer.write(chunk)
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise StreamClosed(str(exc)) from exc

    async def close(self) -> None:
        try:
            if self._protocol.state is State.OPEN:
                self._protocol.send_close()
                await self._flush()
        except (StreamClosed, InvalidState):
            pass
        try:
            self._writer.close()
            await self._writer.wait_closed()
        except (ConnectionError, RuntimeError):
            pass
