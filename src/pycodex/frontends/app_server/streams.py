"""A transport as the connection sees it: whole messages in, whole messages out.

:class:`MessageStream` is the seam. :class:`LineStream` frames messages as lines (stdio:
one JSON object per ``\\n``-terminated line, as Codex's stdio transport); the websocket and
unix-socket transports frame them as websocket text frames (:mod:`.websocket`).
"""

from __future__ import annotations

import asyncio
import os
from typing import BinaryIO, Protocol

# A line longer than this is refused (and skipped) rather than buffered without bound.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# Tasks that must outlive the call that started them (asyncio keeps only weak references).
_background: set[asyncio.Task[None]] = set()


class StreamClosed(Exception):
    """The peer is gone: writing failed or the stream was closed."""


class MessageTooLarge(Exception):
    """One incoming message exceeded :data:`MAX_MESSAGE_BYTES`; it was skipped."""


class MessageStream(Protocol):
    # Whether the server may drop this connection when it falls behind (a socket client
    # can reconnect; stdio is the process's only connection).
    disconnectable: bool
    name: str

    async def receive(self) -> bytes | str | None:
        """The next message, None at end of input; may raise :class:`MessageTooLarge`."""
        ...

    async def send(self, message: bytes) -> None:
        """Write one message (raises :class:`StreamClosed` when the peer is gone)."""
        ...

    async def close(self) -> None: ...


class Writer(Protocol):
    """The part of :class:`asyncio.StreamWriter` a :class:`LineStream` uses."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


class LineStream:
    """Newline-delimited messages over an asyncio reader / writer pair."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: Writer,
        *,
        name: str,
        disconnectable: bool,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self.name = name
        self.disconnectable = disconnectable

    async def receive(self) -> bytes | None:
        while True:
            try:
                line = await self._reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                # The last line may lack its newline; then end of input.
                return exc.partial if exc.partial.strip() else None
            except asyncio.LimitOverrunError as exc:
                await self._skip_line(exc.consumed)
                raise MessageTooLarge from None
            if line.strip():
                return line
            # Blank lines are keep-alives at most: nothing to answer.

    async def _skip_line(self, consumed: int) -> None:
        # Discard the over-long line, chunk by chunk, up to and including its newline.
        await self._reader.readexactly(consumed)
        while True:
            try:
                await self._reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as exc:
                await self._reader.readexactly(exc.consumed)
            except asyncio.IncompleteReadError:
                return

    async def send(self, message: bytes) -> None:
        try:
            self._writer.write(message + b"\n")
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise StreamClosed(str(exc)) from exc

    async def close(self) -> None:
        try:
            self._writer.close()
            await self._writer.wait_closed()
        except (ConnectionError, RuntimeError):
            pass


async def stdio_stream() -> LineStream:
    """This process's stdin / stdout as a :class:`LineStream`."""
    loop = asyncio.get_running_loop()
    # Duplicates: the pipe transports close what they are given, and the interpreter's own
    # sys.stdin / sys.stdout must stay usable (and closable) after the connection ends.
    stdin = os.fdopen(os.dup(0), "rb", buffering=0)
    stdout = os.fdopen(os.dup(1), "wb", buffering=0)
    reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    except ValueError:  # a regular file: not pollable, read it from a thread
        _background.add(loop.create_task(_feed_from_file(reader, stdin)))
    writer: Writer
    try:
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, stdout
        )
        writer = asyncio.StreamWriter(transport, protocol, None, loop)
    except ValueError:
        writer = _FileWriter(stdout)
    return LineStream(reader, writer, name="stdio", disconnectable=False)


async def _feed_from_file(reader: asyncio.StreamReader, file: BinaryIO) -> None:
    while chunk := await asyncio.to_thread(file.read, 65536):
        reader.feed_data(chunk)
    reader.feed_eof()


class _FileWriter:
    """stdout redirected to a regular file: plain blocking writes (a file never stalls)."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def write(self, data: bytes) -> None:
        self._file.write(data)

    async def drain(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    async def wait_closed(self) -> None:
        return None
