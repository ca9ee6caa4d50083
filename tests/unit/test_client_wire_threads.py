"""`ThreadedWire`: httpcore2's connection pool driven from threads, seen from asyncio.

A tiny raw-socket server on loopback lets each test see exactly what reached the wire:
how many connections were opened, and when the client ended one.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from pycodex.client.wire import Timeouts, WireConnectError, WireError, WireTimeout
from pycodex.client.wire_threads import ThreadedWire
from tests.support.raw_server import RawServer

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _read_request(conn: socket.socket) -> bytes:
    """One request (head and a content-length body) from the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            return data
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    return body


def _note_when_the_client_ends(conn: socket.socket, events: list[str], ended: threading.Event) -> None:
    conn.settimeout(10)
    try:
        while conn.recv(4096):
            pass
        events.append("eof")
    except OSError as exc:
        events.append(f"error {exc}")
    ended.set()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket, list[str]], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(serve: Callable[[socket.socket, list[str]], None]) -> RawServer:
        servers.append(RawServer(serve))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


# Reads never time out within these tests unless a test says otherwise.
PATIENT = Timeouts(connect=60, read=60)


async def test_closing_a_response_early_ends_the_connection_at_once(raw_server) -> None:  # type: ignore[no-untyped-def]
    ended = threading.Event()

    def serve(conn: socket.socket, events: list[str]) -> None:
        _read_request(conn)
        conn.sendall(HEAD + _chunk(b"data: first\n\n"))
        # Never finishes the body: only the client ending the connection stops this.
        _note_when_the_client_ends(conn, events, ended)

    server = raw_server(serve)
    wire = ThreadedWire()
    response = await wire.post(server.url, {}, b"{}", timeouts=PATIENT)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "text/event-stream")
    chunks = response.aiter_bytes()
    assert await anext(chunks) == b"data: first\n\n"
    await response.aclose()
    assert await asyncio.to_thread(ended.wait, 10)
    await wire.aclose()
    assert server.events == ["eof"]


async def test_a_response_read_to_its_end_leaves_its_connection_for_the_next(raw_server) -> None:  # type: ignore[no-untyped-def]
    def serve(conn: socket.socket, events: list[str]) -> None:
        while (body := _read_request(conn)):
            events.append(body.decode())
            conn.sendall(HEAD + _chunk(b"data: " + body + b"\n\n") + b"0\r\n\r\n")

    server = raw_server(serve)
    wire = ThreadedWire()
    for body in (b"one", b"two"):
        response = await wire.post(server.url, {}, body, timeouts=PATIENT)
        assert [c async for c in response.aiter_bytes()] == [b"data: " + body + b"\n\n"]
        await response.aclose()
    await wire.aclose()
    assert server.events == ["one", "two"]
    assert server.connections == 1


async def test_the_request_carries_its_headers_host_and_length(raw_server) -> None:  # type: ignore[no-untyped-def]
    def serve(conn: socket.socket, events: list[str]) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        events.extend(line.decode() for line in data.split(b"\r\n\r\n")[0].split(b"\r\n"))
        conn.sendall(HEAD + b"0\r\n\r\n")

    server = raw_server(serve)
    wire = ThreadedWire()
    response = await wire.post(server.url, {"x-thing": "1", "accept": "text/event-stream"},
                               b"abcdef", timeouts=PATIENT)
    assert await response.aread() == b""
    await wire.aclose()
    port = server.url.split(":")[2].split("/")[0]
    assert server.events == [
        "POST /v1/responses HTTP/1.1", f"Host: 127.0.0.1:{port}", "x-thing: 1",
        "accept: text/event-stream", "Content-Length: 6",
    ]


async def test_a_body_cut_short_raises_a_wire_error_on_the_loop(raw_server) -> None:  # type: ignore[no-untyped-def]
    def serve(conn: socket.socket, events: list[str]) -> None:
        _read_request(conn)
        conn.sendall(HEAD + _chunk(b"data: partial"))  # then the connection ends mid-body

    server = raw_server(serve)
    wire = ThreadedWire()
    response = await wire.post(server.url, {}, b"{}", timeouts=PATIENT)
    with pytest.raises(WireError) as caught:
        async for _ in response.aiter_bytes():
            pass
    await wire.aclose()
    assert type(caught.value.__cause__).__name__ == "RemoteProtocolError"


async def test_a_refused_connection_raises_connect_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    wire = ThreadedWire()
    with pytest.raises(WireConnectError) as caught:
        await wire.post(f"http://127.0.0.1:{port}/", {}, b"{}", timeouts=PATIENT)
    library_error = caught.value.__cause__
    assert isinstance(library_error and library_error.__context__, ConnectionRefusedError)


async def test_a_server_that_never_answers_times_out(raw_server) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()

    def serve(conn: socket.socket, events: list[str]) -> None:
        _read_request(conn)
        release.wait(10)

    server = raw_server(serve)
    wire = ThreadedWire()
    with pytest.raises(WireTimeout):
        await wire.post(server.url, {}, b"{}", timeouts=Timeouts(connect=5, read=0.2))
    release.set()
    await wire.aclose()


async def test_a_request_cancelled_before_its_head_does_not_leak_the_connection(raw_server) -> None:  # type: ignore[no-untyped-def]
    answered = threading.Event()
    ended = threading.Event()

    def serve(conn: socket.socket, events: list[str]) -> None:
        _read_request(conn)
        events.append("request")
        answered.wait(10)
        conn.sendall(HEAD + _chunk(b"data: late\n\n"))
        _note_when_the_client_ends(conn, events, ended)

    server = raw_server(serve)
    wire = ThreadedWire()
    task = asyncio.create_task(wire.post(server.url, {}, b"{}", timeouts=PATIENT))
    while not server.events:
        await asyncio.sleep(0.005)  # polling the server's progress, not timing anything
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    answered.set()  # the head arrives after the request was abandoned: closed unread
    assert await asyncio.to_thread(ended.wait, 10)
    await wire.aclose()
    assert server.events == ["request", "eof"]
