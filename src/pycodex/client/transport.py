"""`ThreadedTransport`: httpx2's synchronous transport, driven from worker threads.

Why not httpx2's own asyncio transport? Its connection pool runs on anyio (locks, events,
cancel scopes, TCP/TLS streams), and loading anyio's asyncio backend, socket and stream
modules costs ~80 M instructions (~15-20 ms) in front of the first model request of every
`pycodex exec`: a tenth of the whole run. httpx2's synchronous transport is the same
code (connection pool, keep-alive, TLS, HTTP/1.1 through h11, timeouts) on plain sockets.
Blocking calls belong off the event loop, so each request runs on a daemon thread of its
own; the thread sends the request, hands the response head to the loop, then reads the
body and hands each chunk over as it arrives. Socket reads release the GIL: the loop
keeps running meanwhile.

Semantics kept from the asyncio transport:

* closing the response early (a consumer that stops reading, an interrupted turn, an idle
  timeout) closes the connection at once: the socket is shut down, which also wakes the
  thread blocked reading it; a response read to its end returns its connection to the
  pool for the next request;
* a request cancelled before its response head arrives is abandoned: the thread closes
  whatever response comes later (the request's own timeouts bound how long that takes);
* errors are httpx2's (`ReadTimeout`, `RemoteProtocolError`, ...), raised on the loop.

Threads are daemons, never joined: an exit (or Ctrl-C) never waits for a socket. Proxied
requests (HTTP(S)_PROXY in the environment) are not routed here: httpx2.AsyncClient mounts
its own transports for them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from pycodex.http import httpx2

__all__ = ["ThreadedTransport"]


class ThreadedTransport(httpx2.AsyncBaseTransport):
    """An async transport over `httpx2.HTTPTransport` (same keyword arguments)."""

    def __init__(self, **kwargs: Any) -> None:
        self._sync = httpx2.HTTPTransport(**kwargs)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if not isinstance(request.stream, httpx2.SyncByteStream):
            # An async body (a generator): read it here; the thread needs bytes.
            await request.aread()
        loop = asyncio.get_running_loop()
        exchange = _Exchange(loop)
        head: asyncio.Future[httpx2.Response] = loop.create_future()
        exchange.head = head
        threading.Thread(
            target=exchange.run, args=(self._sync, request), name="pycodex-http", daemon=True
        ).start()
        try:
            response = await head
        except asyncio.CancelledError:
            exchange.abandon()
            raise
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_BodyStream(exchange),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        self._sync.close()


class _Exchange:
    """One request and its response body, shared by the loop and the request's thread.

    The thread only touches httpx2/httpcore2 objects; the loop only reads what the thread
    handed over. `_lock` orders "the body is finished" against "close it early", so an
    early close never shuts down a connection already back in the pool.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self.head: asyncio.Future[httpx2.Response] | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._error: BaseException | None = None
        self._ended = False  # loop side: no more chunks will come
        self._waiter: asyncio.Future[None] | None = None
        # Thread side, under _lock:
        self._closed = False  # the loop closed the body (or abandoned the request)
        self._finished = False  # the thread is done with the connection
        self._sock: socket.socket | None = None

    # --- the request's thread -----------------------------------------------------------

    def run(self, transport: httpx2.HTTPTransport, request: httpx2.Request) -> None:
        try:
            response = transport.handle_request(request)
        except BaseException as exc:  # handed to the loop, raised there
            self._call(self._fail_head, exc)
            return
        stream = response.stream
        assert isinstance(stream, httpx2.SyncByteStream)
        try:
            with self._lock:
                if self._closed:
                    return  # abandoned while waiting for the head
                self._sock = _socket_of(response)
            self._call(self._set_head, response)
            for chunk in stream:
                if self._closed:
                    return
                self._call(self._push, chunk)
            with self._lock:
                # Before the loop hears of the end: a close from now on leaves the
                # connection alone.
                self._finished = True
            # Back to the pool before the loop hears of the end too: the next request,
            # which may follow at once, then finds it there rather than opening another.
            with contextlib.suppress(Exception):
                stream.close()
            self._call(self._end, None)
        except BaseException as exc:
            self._call(self._end, exc)
        finally:
            with self._lock:
                self._finished = True
            with contextlib.suppress(Exception):
                stream.close()

    def _call(self, fn: Callable[[Any], None], arg: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            self._loop.call_soon_threadsafe(fn, arg)

    # --- the loop -------------------------------------------------------------------------

    def _set_head(self, response: httpx2.Response) -> None:
        if self.head is not None and not self.head.done():
            self.head.set_result(response)

    def _fail_head(self, exc: BaseException) -> None:
        if self.head is not None and not self.head.done():
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

    async def chunks(self) -> AsyncIterator[bytes]:
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


class _BodyStream(httpx2.AsyncByteStream):
    def __init__(self, exchange: _Exchange) -> None:
        self._exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._exchange.chunks():
            yield chunk

    async def aclose(self) -> None:
        self._exchange.abandon()


def _socket_of(response: httpx2.Response) -> socket.socket | None:
    stream = response.extensions.get("network_stream")
    get = getattr(stream, "get_extra_info", None)
    sock = get("socket") if get is not None else None
    return sock if isinstance(sock, socket.socket) else None
