"""`ThreadWatch`: a real engine thread served to several (in-memory) connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from pycodex.core import CodexThread
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.frontends.app_server.thread_watch import ThreadWatch
from pycodex.protocol.ops import UserInputOp
from pycodex.protocol.user_input import TextInput
from tests.support.engine import shell, start_thread
from tests.support.mock_model import MockModelServer, message, response


class FakePeer:
    """A connection: records notifications, answers server requests with `answer`."""

    def __init__(self, answer: Any = None, *, broken: bool = False, first_id: int = 0) -> None:
        self.notes: list[tuple[str, Any]] = []
        self.asked: list[tuple[str, Any]] = []
        self.answer = answer
        self.broken = broken
        self.turn_done = asyncio.Event()
        self.was_asked = asyncio.Event()
        self._next_id = first_id

    async def notify(self, method: str, params: JsonValue | None) -> None:
        if self.broken:
            raise ConnectionResetError("client went away")
        self.notes.append((method, params))
        if method == "turn/completed":
            self.turn_done.set()

    async def request(
        self,
        method: str,
        params: JsonValue | None,
        *,
        answer_within: float | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> JsonValue:
        self.asked.append((method, params))
        if on_sent is not None:
            on_sent(self._next_id)
        self._next_id += 1
        self.was_asked.set()
        if isinstance(self.answer, Exception):
            raise self.answer
        if isinstance(self.answer, asyncio.Event):  # a person who never answers
            await self.answer.wait()
        return self.answer


@pytest.fixture
async def thread(mock_model: MockModelServer, tmp_path: Path) -> AsyncIterator[CodexThread]:
    t = await start_thread(mock_model, tmp_path, approval_policy="untrusted")
    yield t
    await t.shutdown()


async def _turn(thread: CodexThread, watch: ThreadWatch, text: str, waiter: FakePeer) -> None:
    await thread.start_turn(UserInputOp(items=[TextInput(text=text)]))
    async with asyncio.timeout(20):
        await waiter.turn_done.wait()


def _methods(peer: FakePeer) -> list[str]:
    return [m for m, _ in peer.notes]


async def test_every_subscribed_connection_gets_the_same_notifications(
    thread: CodexThread, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(response(message("hi")))
    first, second, broken = FakePeer(), FakePeer(), FakePeer(broken=True)
    watch = ThreadWatch(thread)
    for peer in (first, broken, second):
        watch.add(peer)
    await _turn(thread, watch, "hello", second)

    assert first.notes == second.notes
    assert _methods(first)[:2] == ["thread/status/changed", "turn/started"]
    assert _methods(first)[-1] == "turn/completed"
    assert broken not in watch.peers  # a connection that fails is dropped, the rest go on
    await watch.close()


async def test_a_connection_that_left_hears_nothing_more(
    thread: CodexThread, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(response(message("one")), response(message("two")))
    staying, leaving = FakePeer(), FakePeer()
    watch = ThreadWatch(thread)
    watch.add(staying)
    watch.add(leaving)
    await _turn(thread, watch, "first", staying)
    heard = len(leaving.notes)
    assert watch.remove(leaving) and not watch.remove(leaving)
    staying.turn_done.clear()
    await _turn(thread, watch, "second", staying)
    assert len(leaving.notes) == heard
    assert _methods(staying).count("turn/completed") == 2
    await watch.close()


@pytest.mark.parametrize(
    ("answers", "status"),
    [
        ([{"decision": "accept"}], "completed"),
        ([{"decision": "decline"}], "declined"),
        ([TimeoutError("no answer"), {"decision": "accept"}], "completed"),  # first answer wins
        ([{"decision": "maybe"}], "declined"),  # not an answer: declined, never hangs
    ],
)
async def test_approvals_go_to_the_connections_and_back(
    thread: CodexThread, mock_model: MockModelServer, answers: list[Any], status: str
) -> None:
    mock_model.enqueue(response(shell("touch approved.txt", "call_q")), response(message("ok")))
    peers = [FakePeer(answer) for answer in answers]
    watch = ThreadWatch(thread)
    for peer in peers:
        watch.add(peer)
    await _turn(thread, watch, "run it", peers[-1])

    notes = peers[-1].notes
    completed = [p["item"] for m, p in notes if m == "item/completed" and p["item"]["type"] == "commandExecution"]
    assert [(c["id"], c["status"]) for c in completed] == [("call_q", status)]
    for peer in peers:
        assert [m for m, _ in peer.asked] == ["item/commandExecution/requestApproval"]
        assert peer.asked[0][1]["itemId"] == "call_q"
    flags = [p["status"]["activeFlags"] for m, p in notes if m == "thread/status/changed" and "activeFlags" in p["status"]]
    assert ["waitingOnApproval"] in flags and flags[-1] == []  # waiting, then no longer
    for peer in peers:  # every connection asked is told the request is settled, by its own id
        resolved = [p for m, p in peer.notes if m == "serverRequest/resolved"]
        assert resolved == [{"threadId": thread.thread_id, "requestId": peer._next_id - 1}]
    await watch.close()


async def test_an_approval_pending_at_interrupt_is_resolved_before_the_turn_ends(
    thread: CodexThread, mock_model: MockModelServer
) -> None:
    from pycodex.protocol.ops import InterruptOp

    mock_model.enqueue(response(shell("touch approved.txt", "call_q")), response(message("ok")))
    silent = FakePeer(asyncio.Event(), first_id=7)
    watch = ThreadWatch(thread)
    watch.add(silent)
    await thread.start_turn(UserInputOp(items=[TextInput(text="run it")]))
    async with asyncio.timeout(20):
        await silent.was_asked.wait()
        await thread.submit(InterruptOp())
        await silent.turn_done.wait()

    methods = _methods(silent)
    assert methods.index("serverRequest/resolved") < methods.index("turn/completed")
    assert dict(silent.notes)["serverRequest/resolved"] == {"threadId": thread.thread_id, "requestId": 7}
    assert dict(silent.notes)["turn/completed"]["turn"]["status"] == "interrupted"
    assert not watch._asking  # nothing left waiting on the person
    await watch.close()


async def test_with_nobody_to_ask_the_command_is_declined(
    thread: CodexThread, mock_model: MockModelServer
) -> None:
    from pycodex.protocol.events import ItemCompletedEvent, TaskCompleteEvent
    from pycodex.protocol.items import CommandExecutionTurnItem

    mock_model.enqueue(response(shell("touch approved.txt", "call_q")), response(message("ok")))
    watch = ThreadWatch(thread)  # no connection subscribed
    events = thread.subscribe()
    await thread.start_turn(UserInputOp(items=[TextInput(text="run it")]))
    statuses = []
    async with asyncio.timeout(20):
        async for event in events:
            msg = event.msg
            if isinstance(msg, ItemCompletedEvent) and isinstance(msg.item, CommandExecutionTurnItem):
                statuses.append(msg.item.status)
            if isinstance(msg, TaskCompleteEvent):
                break
    assert statuses == ["declined"]
    events.close()
    await watch.close()
