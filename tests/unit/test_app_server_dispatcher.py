"""A connection's server→client requests (ids, answer routing, timeouts, abandonment), its
backpressure on unsolicited messages, and handler failures — over an in-memory stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from pycodex.frontends.app_server.connection import Connection, ConnectionClosed
from pycodex.frontends.app_server.dispatcher import Dispatcher, MethodSpec, RequestContext
from pycodex.frontends.app_server.limits import Limits
from pycodex.frontends.app_server.params import EmptyParams
from pycodex.frontends.app_server.server_requests import (
    ServerRequestAbandoned,
    ServerRequestRejected,
    ServerRequestTimedOut,
)


class MemoryStream:
    """Messages in through `feed`, out into `sent`; `writable` cleared = a client not reading."""

    name = "memory"

    def __init__(self, *, disconnectable: bool = True) -> None:
        self.disconnectable = disconnectable
        self.incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.writable = asyncio.Event()
        self.writable.set()
        self.closed = False

    def feed(self, message: dict[str, Any] | None) -> None:
        self.incoming.put_nowait(None if message is None else json.dumps(message).encode())

    async def receive(self) -> bytes | None:
        return await self.incoming.get()

    async def send(self, message: bytes) -> None:
        await self.writable.wait()
        self.sent.put_nowait(json.loads(message))

    async def close(self) -> None:
        self.closed = True


async def _boom(ctx: RequestContext, params: EmptyParams) -> Any:
    raise KeyError("no such thing")


async def _echo(ctx: RequestContext, params: EmptyParams) -> Any:
    return {"ok": True}


class Harness:
    def __init__(self, *, disconnectable: bool = True, outbound: int = 8) -> None:
        self.log: list[str] = []
        dispatcher = Dispatcher(
            [MethodSpec("boom", EmptyParams, _boom), MethodSpec("echo", EmptyParams, _echo)],
            log=self.log.append,
            known=("initialize", "boom", "echo"),
        )
        self.stream = MemoryStream(disconnectable=disconnectable)
        self.connection = Connection(
            self.stream, dispatcher, Limits(outbound=outbound), log=self.log.append
        )
        self.connection.session.initialized = True
        self.task = asyncio.create_task(self.connection.run())

    async def next_sent(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.stream.sent.get(), 10)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    h.stream.feed(None)
    await asyncio.wait_for(h.task, 10)


async def test_server_requests_are_numbered_from_zero_and_answers_routed_by_id(
    harness: Harness,
) -> None:
    first = asyncio.create_task(harness.connection.request("item/a", {"n": 1}))
    second = asyncio.create_task(harness.connection.request("item/b", None))
    sent = [await harness.next_sent(), await harness.next_sent()]
    assert sent == [{"method": "item/a", "id": 0, "params": {"n": 1}}, {"method": "item/b", "id": 1}]
    assert list(sent[0]) == ["method", "id", "params"]
    # Answered out of order: each waiter gets its own answer.
    harness.stream.feed({"id": 1, "result": "for b"})
    harness.stream.feed({"id": 0, "result": {"decision": "accept"}})
    assert await first == {"decision": "accept"}
    assert await second == "for b"
    assert harness.connection.pending_server_requests == 0


async def test_a_client_error_answer_raises_with_its_code(harness: Harness) -> None:
    waiting = asyncio.create_task(harness.connection.request("account/refresh", {}))
    await harness.next_sent()
    harness.stream.feed({"id": 0, "error": {"code": -32000, "message": "no tokens"}})
    with pytest.raises(ServerRequestRejected) as rejected:
        await waiting
    assert (rejected.value.error.code, rejected.value.error.message) == (-32000, "no tokens")


async def test_an_unanswered_request_times_out_and_a_late_answer_is_dropped(
    harness: Harness,
) -> None:
    with pytest.raises(ServerRequestTimedOut):
        await harness.connection.request("item/slow", {}, answer_within=0.01)
    assert harness.connection.pending_server_requests == 0
    harness.stream.feed({"id": 0, "result": "too late"})
    # The late answer is reported, and the connection still serves requests.
    harness.stream.feed({"id": "r1", "method": "echo"})
    sent = [await harness.next_sent(), await harness.next_sent()]
    assert sent[1] == {"id": "r1", "result": {"ok": True}}
    assert "dropping response to unknown server request id 0" in harness.log


async def test_pending_requests_are_abandoned_when_the_client_goes_away() -> None:
    h = Harness()
    waiting = asyncio.create_task(h.connection.request("item/approval", {}))
    await h.next_sent()
    h.stream.feed(None)  # end of input
    with pytest.raises(ServerRequestAbandoned):
        await waiting
    await asyncio.wait_for(h.task, 10)
    with pytest.raises(ServerRequestAbandoned):
        await h.connection.request("item/approval", {})


async def test_a_handler_crash_is_an_internal_error_and_the_connection_carries_on(
    harness: Harness,
) -> None:
    harness.stream.feed({"id": 1, "method": "boom"})
    harness.stream.feed({"id": 2, "method": "echo"})
    crashed = await harness.next_sent()
    assert crashed["id"] == 1 and crashed["error"]["code"] == -32603
    assert "KeyError" in harness.log[0]
    assert await harness.next_sent() == {"id": 2, "result": {"ok": True}}


async def test_a_socket_client_that_stops_reading_is_disconnected_not_waited_for() -> None:
    h = Harness(outbound=2)
    h.stream.writable.clear()
    await h.connection.notify("n/1", {})
    await h.connection.notify("n/2", {})  # the queue is full now
    with pytest.raises(ConnectionClosed):
        await h.connection.notify("n/3", {})
    await asyncio.wait_for(h.task, 10)
    assert h.stream.closed
    assert any("disconnecting slow connection" in line for line in h.log)


async def test_stdio_is_waited_for_not_disconnected() -> None:
    h = Harness(disconnectable=False, outbound=1)
    h.stream.writable.clear()
    await h.connection.notify("n/1", {})
    await h.connection.notify("n/2", {})
    third = asyncio.create_task(h.connection.notify("n/3", {}))
    h.stream.writable.set()
    await third
    methods = [(await h.next_sent())["method"] for _ in range(3)]
    assert methods == ["n/1", "n/2", "n/3"]
    assert not h.stream.closed
    h.stream.feed(None)
    await asyncio.wait_for(h.task, 10)


async def test_opted_out_notifications_are_not_sent(harness: Harness) -> None:
    harness.connection.session.opted_out_notifications = frozenset({"thread/started"})
    await harness.connection.notify("thread/started", {})
    await harness.connection.notify("turn/started", {"x": 1})
    sent = await harness.next_sent()
    assert sent["method"] == "turn/started" and isinstance(sent["emittedAtMs"], int)


class _EchoResult(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    ok: bool
    note: str | None = None


async def test_results_are_sent_as_their_declared_type() -> None:
    """A result is converted into its method's type: declared fields are all written, one the
    type does not declare is a handler bug, answered as an internal error."""

    async def sloppy(ctx: RequestContext, params: EmptyParams) -> Any:
        return {"ok": True, "surprise": 1}

    log: list[str] = []
    dispatcher = Dispatcher(
        [MethodSpec("echo", EmptyParams, _echo), MethodSpec("sloppy", EmptyParams, sloppy)],
        log=log.append, known=("initialize", "echo", "sloppy"),
        results={"echo": _EchoResult, "sloppy": _EchoResult},
    )
    stream = MemoryStream(disconnectable=True)
    connection = Connection(stream, dispatcher, Limits(outbound=8), log=log.append)
    connection.session.initialized = True
    task = asyncio.create_task(connection.run())
    stream.feed({"id": 1, "method": "echo"})
    stream.feed({"id": 2, "method": "sloppy"})
    assert await asyncio.wait_for(stream.sent.get(), 10) == {"id": 1, "result": {"ok": True, "note": None}}
    wrong = await asyncio.wait_for(stream.sent.get(), 10)
    assert wrong["id"] == 2 and wrong["error"]["code"] == -32603 and "surprise" in wrong["error"]["message"]
    stream.feed(None)
    await asyncio.wait_for(task, 10)


async def test_notifications_are_sent_as_their_declared_type(harness: Harness) -> None:
    """Params are converted into their method's type (`outbound_types`); a field the type
    does not declare is a server bug: logged, and the message still sent as built."""
    await harness.connection.notify("thread/name/updated", {"threadId": "t", "threadName": "n"})
    sent = await harness.next_sent()
    assert sent["method"] == "thread/name/updated" and sent["params"] == {"threadId": "t", "threadName": "n"}
    await harness.connection.notify("thread/archived", {"threadId": "t", "surprise": 1})
    assert (await harness.next_sent())["params"] == {"threadId": "t", "surprise": 1}
    assert any("does not fit its type" in line and "surprise" in line for line in harness.log)
    await harness.connection.notify("account/updated", {"authMode": None})  # planType missing
    assert any("account/updated" in line and "planType" in line for line in harness.log)
