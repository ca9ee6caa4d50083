"""`ThreadedTransport`: httpx2's synchronous transport driven from threads, seen from asyncio.

A tiny raw-socket server on loopback lets each test see exactly what reached the wire:
how many connections were opened, and when the client ended one.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from pycodex.client.transport import ThreadedTransport
from pycodex.http import httpx2

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


class RawServer:
    """Accepts connections and runs `serve(conn, events)` for each, on its own thread."""

    def __init__(self, serve: Callable[[socket.socket, list[str]], None]) -> None:
        self.events: list[str] = []
        self.connections = 0
        self._serve = serve
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1/responses"
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._loop, daemon=True)
        self._accept.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._one, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            self._serve(conn, self.events)

    def close(self) -> None:
        self._sock.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket, list[str]], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(serve: Callable[[socket.socket, list[str]], None]) -> RawServer:
        servers.append(RawServer(serve))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


async def test_closing_a_response_early_ends_the_connection_at_once(raw_server) -> None:  # type: ignore[no-untyped-def]
    ended = threading.Event()

    def serve(conn: socket.socket, events: list[str]) -> None:
        _read_request(conn)
        conn.sendall(HEAD + _chunk(b"data: first\n\n"))
        # Never finishes the body: only the client ending the connection stops this.
        conn.settimeout(10)
        try:
            while conn.recv(4096):
                pass
            events.append("eof")
        except OSError as exc:
            events.append(f"error {exc}")
        ended.set()

    server = raw_server(serve)
    # Reads never time out within the test: only the close can end the connection.
    async with httpx2.AsyncClient(transport=ThreadedTransport(), timeout=60) as client:
        response = await client.send(client.build_request("POST", server.url, content=b"{}"), stream=True)
        chunks = response.aiter_raw()
        assert await anext(chunks) == b"data: first\n\n"
        await response.aclose()
        assert await asyncio.to_thread(ended.wait, 10)
    assert server.events == ["eof"]


async def test_a_response_read_to_its_end_leaves_its_connection_for_the_next(raw_server) -> None:  # type: ignore[no-untyped-def]
    def serve(conn: socket.socket, events: list[str]) -> None:
        while (body := _read_request(conn)):
            events.append(body.decode())
            conn.sendall(HEAD + _chunk(b"data: " + body + b"\n\n") + b"0\r\n\r\n")

    server = raw_server(serve)
    async with httpx2.AsyncClient(transport=ThreadedTransport()) as client:
        for body in (b"one", b"two"):
            async with client.stream("POST", server.url, content=body) as response:
                assert [c async for c in response.aiter_raw()] == [b"data: " + body + b"\n\n"]
    assert server.events == ["one", "two"]
    assert server.connections == 1


async def test_an_async_body_is_sent_whole(raw_server) -> None:  # type: ignore[no-untyped-def]
    def serve(conn: socket.socket, events: list[str]) -> None:
        events.append(_read_request(conn).decode())
        conn.sendall(HEAD + b"0\r\n\r\n")

    async def parts() -> AsyncIterator[bytes]:
        for part in (b"ab", b"cd", b"ef"):
            yield part

    server = raw_server(serve)
    async with httpx2.AsyncClient(transport=ThreadedTransport()) as client:
        request = client.build_request("POST", server.url, content=parts(), headers={"content-length": "6"})
        response = await client.send(request)
    assert response.status_code == 200
    assert server.events == ["abcdef"]


async def test_a_body_cut_short_raises_httpx2s_error_on_the_loop(raw_server) -> None:  # type: ignore[no-untyped-def]
    def serve(conn: socket.socket, events: list[str]) -> None:
        _read_request(conn)
        conn.sendall(HEAD + _chunk(b"data: partial"))  # then the connection ends mid-body

    server = raw_server(serve)
    async with (
        httpx2.AsyncClient(transport=ThreadedTransport()) as client,
        client.stream("POST", server.url, content=b"{}") as response,
    ):
        with pytest.raises(httpx2.RemoteProtocolError):
            async for _ in response.aiter_raw():
                pass


async def test_a_refused_connection_raises_connect_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    async with httpx2.AsyncClient(transport=ThreadedTransport()) as client:
        with pytest.raises(httpx2.ConnectError):
            await client.post(f"http://127.0.0.1:{port}/", content=b"{}")


async def test_a_request_cancelled_before_its_head_does_not_leak_the_connection(raw_server) -> None:  # type: ignore[no-untyped-def]
    answered = threading.Event()
    ended = threading.Event()

    def serve(conn: socket.socket, events: list[str]) -> None:
        _read_request(conn)
        events.append("request")
        answered.wait(10)
        conn.sendall(HEAD + _chunk(b"data: late\n\n"))
        conn.settimeout(10)
        try:
            while conn.recv(4096):
                pass
            events.append("eof")
        except OSError as exc:
            events.append(f"error {exc}")
        ended.set()

    server = raw_server(serve)
    async with httpx2.AsyncClient(transport=ThreadedTransport(), timeout=60) as client:
        task = asyncio.create_task(client.post(server.url, content=b"{}"))
        while not server.events:
            await asyncio.sleep(0.005)  # polling the server's progress, not timing anything
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        answered.set()  # the head arrives after the request was abandoned: closed unread
        assert await asyncio.to_thread(ended.wait, 10)
    assert server.events == ["request", "eof"]
