"""`ThreadedWire`: httpcore2's connection pool, driven from worker threads, seen from asyncio.

Why not an asyncio HTTP client? httpx2's asyncio transport runs its connection pool on
anyio (locks, events, cancel scopes, TCP/TLS streams): ~15-20 ms of imports in front of
the first model request of every `pycodex exec`, and httpx2 itself imports
`http.cookiejar`, `urllib.request` and `email` for its models: another ~20 ms. httpcore2's
synchronous pool is the same connection handling (keep-alive, TLS, HTTP/1.1 through h11,
timeouts) on plain sockets. Blocking calls belong off the event loop, so each request
runs on a daemon thread of its own; the thread sends the request, hands the response
head to the loop, then reads the body and hands each chunk over as it arrives. Socket
reads release the GIL: the loop keeps running meanwhile.

Semantics:

* closing the response early (a consumer that stops reading, an interrupted turn, an idle
  timeout) closes the connection at once: the socket is shut down, which also wakes the
  thread blocked reading it; a response read to its end returns its connection to the
  pool for the next request;
* a request cancelled before its response head arrives is abandoned: the thread closes
  whatever response comes later (the request's own timeouts bound how long that takes);
* httpcore2's errors become the wire's (`pycodex.client.wire`), raised on the loop.

No Accept-Encoding is sent (Codex sends none either), so bodies arrive as sent. Threads
are daemons, never joined: an exit (or Ctrl-C) never waits for a socket. Proxies are not
handled here: with a proxy in the environment the client uses `HttpxWire`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import ssl
import threading
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from typing import Any

from pycodex.client.wire import Headers, Timeouts, WireConnectError, WireError, WireTimeout
from pycodex.http_core import httpcore2

__all__ = ["ThreadedWire"]

# httpcore2's errors have no common root: these are all of them a request can raise.
_FAILURES: tuple[type[Exception], ...] = (
    httpcore2.TimeoutException,
    httpcore2.NetworkError,
    httpcore2.ProtocolError,
    httpcore2.ProxyError,
    httpcore2.UnsupportedProtocol,
)


def _wire_error(exc: Exception) -> WireError:
    kind: type[WireError] = WireError
    if isinstance(exc, (httpcore2.ConnectError, httpcore2.ConnectTimeout)):
        kind = WireConnectError
    elif isinstance(exc, httpcore2.TimeoutException):
        kind = WireTimeout
    error = kind(str(exc) or type(exc).__name__)
    error.__cause__ = exc  # the OS error (a resolver failure, a refusal) stays in the chain
    return error


class ThreadedWire:
    """POSTs over one httpcore2 connection pool; `ssl_context` verifies TLS peers."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._pool = httpcore2.ConnectionPool(ssl_context=ssl_context)

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes, *, timeouts: Timeouts
    ) -> _ThreadedResponse:
        target = httpcore2.URL(url)
        request = httpcore2.Request(
            "POST",
            target,
            headers=_request_headers(target, headers, body),
            content=body,
            extensions={
                "timeout": {
                    "connect": timeouts.connect,
                    "read": timeouts.read,
                    "write": timeouts.read,
                    "pool": timeouts.read,
                }
            },
        )
        loop = asyncio.get_running_loop()
        exchange = _Exchange(loop)
        threading.Thread(
            target=exchange.run, args=(self._pool, request), name="pycodex-http", daemon=True
        ).start()
        try:
            status, reason, head_pairs = await exchange.head
        except asyncio.CancelledError:
            exchange.abandon()
            raise
        return _ThreadedResponse(url, status, reason, Headers(head_pairs), exchange)

    async def aclose(self) -> None:
        self._pool.close()


class _ThreadedResponse:
    def __init__(
        self, url: str, status: int, reason: str, headers: Headers, exchange: _Exchange
    ) -> None:
        self.url = url
        self.status_code = status
        self.reason_phrase = reason
        self.headers = headers
        self._exchange = exchange

    def aiter_bytes(self) -> AsyncGenerator[bytes, None]:
        return self._exchange.chunks()

    async def aread(self) -> bytes:
        return b"".join([chunk async for chunk in self._exchange.chunks()])

    async def aclose(self) -> None:
        self._exchange.abandon()


_Head = tuple[int, str, list[tuple[str, str]]]


class _Exchange:
    """One request and its response body, shared by the loop and the request's thread.

    The thread only touches httpcore2 objects; the loop only reads what the thread handed
    over. `_lock` orders "the body is finished" against "close it early", so an early close
    never shuts down a connection already back in the pool.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self.head: asyncio.Future[_Head] = loop.create_future()
        self._chunks: collections.deque[bytes] = collections.deque()
        self._error: BaseException | None = None
        self._ended = False  # loop side: no more chunks will come
        self._waiter: asyncio.Future[None] | None = None
        # Thread side, under _lock:
        self._closed = False  # the loop closed the body (or abandoned the request)
        self._finished = False  # the thread is done with the connection
        self._sock: socket.socket | None = None

    # --- the request's thread -----------------------------------------------------------

    def run(self, pool: Any, request: Any) -> None:
        try:
            response = pool.handle_request(request)
        except _FAILURES as exc:
            self._call(self._fail_head, _wire_error(exc))
            return
        except BaseException as exc:  # handed to the loop, raised there
            self._call(self._fail_head, exc)
            return
        try:
            with self._lock:
                if self._closed:
                    return  # abandoned while waiting for the head
                self._sock = _socket_of(response)
            self._call(self._set_head, _head_of(response))
            self._stream(response.iter_stream())
            with self._lock:
                # Before the loop hears of the end: a close from now on leaves the
                # connection alone.
                self._finished = True
            # Back to the pool before the loop hears of the end too: the next request,
            # which may follow at once, then finds it there rather than opening another.
            with contextlib.suppress(Exception):
                response.close()
            self._call(self._end, None)
        except _FAILURES as exc:
            self._call(self._end, _wire_error(exc))
        except BaseException as exc:
            self._call(self._end, exc)
        finally:
            with self._lock:
                self._finished = True
            with contextlib.suppress(Exception):
                response.close()

    def _stream(self, chunks: Iterator[bytes]) -> None:
        for chunk in chunks:
            if self._closed:
                return
            self._call(self._push, chunk)

    def _call(self, fn: Callable[[Any], None], arg: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            self._loop.call_soon_threadsafe(fn, arg)

    # --- the loop -------------------------------------------------------------------------

    def _set_head(self, head: _Head) -> None:
        if not self.head.done():
            self.head.set_result(head)

    def _fail_head(self, exc: BaseException) -> None:
        if not self.head.done():
            self.head.set_exception(exc)

    def _push(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._wake()

    def _end(self, exc: BaseException | None) -> None:
        self._ended = True
        self._error = exc
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        while True:
            if self._chunks:
                yield self._chunks.popleft()
                continue
            if self._ended:
                if self._error is not None:
                    raise self._error
                return
            self._waiter = self._loop.create_future()
            await self._waiter

    def abandon(self) -> None:
        """Stop the exchange now: the connection is shut down unless the thread already
        finished with it (then it is back in the pool, healthy)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            sock = None if self._finished else self._sock
        if sock is not None:
            # The plain socket's shutdown (not SSLSocket's, which drops its TLS object
            # under the reading thread): the peer sees the connection end at once and the
            # thread's blocked read returns.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


_DEFAULT_PORTS = {b"http": 80, b"https": 443}


def _request_headers(
    url: Any, headers: Mapping[str, str], body: bytes
) -> list[tuple[bytes, bytes]]:
    """`headers` with the Host and Content-Length that HTTP/1.1 needs, unless given."""
    names = {name.lower() for name in headers}
    pairs = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if "host" not in names:
        host = url.host
        if url.port is not None and url.port != _DEFAULT_PORTS.get(url.scheme):
            host = b"%b:%d" % (host, url.port)
        pairs.insert(0, (b"Host", host))
    if "content-length" not in names:
        pairs.append((b"Content-Length", str(len(body)).encode("ascii")))
    return pairs


def _head_of(response: Any) -> _Head:
    reason = response.extensions.get("reason_phrase", b"")
    pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers]
    return response.status, reason.decode("latin-1", errors="replace"), pairs


def _socket_of(response: Any) -> socket.socket | None:
    stream = response.extensions.get("network_stream")
    get = getattr(stream, "get_extra_info", None)
    sock = get("socket") if get is not None else None
    return sock if isinstance(sock, socket.socket) else None
