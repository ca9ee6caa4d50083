"""Incremental Server-Sent Events decoder (the WHATWG `text/event-stream` format).

Bytes arrive in arbitrary chunks — a line, a field name or a UTF-8 character may be split
anywhere — so the decoder buffers until it has whole lines. Lines end in LF, CRLF or a lone
CR; a CR at the very end of a chunk is held back because its LF may be in the next chunk.
"""

from __future__ import annotations

import msgspec


class SseEvent(msgspec.Struct, frozen=True):
    event: str
    data: str
    id: str | None = None
    retry_ms: int | None = None


class SseDecoder:
    def __init__(self) -> None:
        self._buffer = b""
        self._first_line = True
        self._event_type = ""
        self._data: list[str] = []
        self._last_id: str | None = None
        self._retry_ms: int | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Decode ``chunk``; return every event it completed (possibly none)."""
        self._buffer += chunk
        events: list[SseEvent] = []
        while True:
            line, found = self._next_line()
            if not found:
                return events
            event = self._process_line(line)
            if event is not None:
                events.append(event)

    def close(self) -> list[SseEvent]:
        """End of stream. An incomplete last line is discarded; an event whose lines are all
        complete but lacks the final blank line is still delivered — some providers omit it
        before closing, and dropping e.g. their last `data: [DONE]` would help nobody."""
        events: list[SseEvent] = []
        if self._buffer.endswith(b"\r"):
            # A trailing CR is a complete line ending once we know no LF follows.
            self._buffer = self._buffer[:-1]
            event = self._process_line(self._buffer)
            if event is not None:
                events.append(event)
        self._buffer = b""
        event = self._dispatch()
        if event is not None:
            events.append(event)
        return events

    def _next_line(self) -> tuple[bytes, bool]:
        buf = self._buffer
        lf = buf.find(b"\n")
        cr = buf.find(b"\r")
        if cr == -1 and lf == -1:
            return b"", False
        if cr != -1 and (lf == -1 or cr < lf):
            if cr == len(buf) - 1:
                return b"", False  # maybe CRLF split across chunks: wait for the next byte
            end = cr + 2 if buf[cr + 1 : cr + 2] == b"\n" else cr + 1
            self._buffer = buf[end:]
            return buf[:cr], True
        self._buffer = buf[lf + 1 :]
        return buf[:lf], True

    def _process_line(self, raw: bytes) -> SseEvent | None:
        line = raw.decode("utf-8", errors="replace")
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # comment (keepalive)
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event_type = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry_ms = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        data, event_type = self._data, self._event_type
        self._data, self._event_type = [], ""
        if not data:
            return None
        return SseEvent(
            event=event_type or "message",
            data="\n".join(data),
            id=self._last_id,
            retry_ms=self._retry_ms,
        )
