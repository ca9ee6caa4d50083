"""Several readers of one thread: `CodexThread.subscribe()` and the slow-consumer rule
(`pycodex.core.subscribers`): deltas may be dropped for a lagging reader, nothing else;
a reader that stops reading altogether is disconnected, visibly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pycodex.core import (
    CodexThread,
    InternalAgentDied,
    SubscriberLagged,
    Subscription,
    ThreadEnded,
)
from pycodex.core.subscribers import EventHub, is_delta
from pycodex.protocol.events import (
    AgentMessageDeltaEvent,
    Event,
    EventMsg,
    SessionConfiguredEvent,
    ShutdownCompleteEvent,
    TaskCompleteEvent,
    WarningEvent,
)
from tests.support.engine import read_until, shell, submit_text
from tests.support.mock_model import MockModelServer, message, response, response_events, sse
from tests.unit.test_threads_engine import World


def delta(text: str) -> Event:
    return Event(id="1", msg=AgentMessageDeltaEvent(delta=text))


def warning(text: str) -> Event:
    return Event(id="1", msg=WarningEvent(message=text))


def drain(sub: Subscription) -> list[Event]:
    out = []
    while sub.pending():
        out.append(sub._buffer.popleft())
    return out


# --- the hub alone -------------------------------------------------------------------------

async def test_a_full_buffer_drops_deltas_not_other_events() -> None:
    hub = EventHub()
    slow, fast = hub.subscribe(capacity=3), hub.subscribe(capacity=100)
    stream = [delta("a"), warning("w1"), delta("b"), delta("c"), warning("w2"), warning("w3")]
    for event in stream:
        hub.publish(event)
    assert [e.msg for e in drain(fast)] == [e.msg for e in stream]
    # Full at "c": "c" is dropped; w2 evicts "a", w3 evicts "b". Every warning arrived.
    assert [e.msg for e in drain(slow)] == [stream[1].msg, stream[4].msg, stream[5].msg]
    assert slow.lagged and slow.dropped_deltas == 3 and not slow.closed
    assert not fast.lagged


async def test_a_reader_that_stopped_reading_is_disconnected_not_silently_cut() -> None:
    hub = EventHub()
    stuck, other = hub.subscribe(capacity=2), hub.subscribe()
    for n in range(4):
        hub.publish(warning(f"w{n}"))
    assert stuck.closed and hub.subscriber_count == 1
    # What it had is still readable; then it learns why the stream stopped for it.
    assert [(await stuck.next()).msg for _ in range(2)] == [warning("w0").msg, warning("w1").msg]
    with pytest.raises(SubscriberLagged, match="disconnected"):
        await stuck.next()
    with pytest.raises(SubscriberLagged):
        async for _ in stuck:
            pass
    assert other.pending() == 4  # the others never wait for the slow one


async def test_close_unsubscribes_and_ends_iteration() -> None:
    hub = EventHub()
    sub = hub.subscribe()
    hub.publish(warning("before"))
    got = [await sub.next()]

    async def read() -> None:
        async for event in sub:
            got.append(event)

    reader = asyncio.create_task(read())  # waits for an event (or the end)
    sub.close()
    await reader  # ended by close(), without an error
    hub.publish(warning("after"))
    assert [e.msg for e in got] == [warning("before").msg]
    assert hub.subscriber_count == 0 and sub.pending() == 0


async def test_the_end_of_the_thread_ends_every_subscription() -> None:
    hub = EventHub()
    sub = hub.subscribe()
    hub.publish(warning("last"))
    hub.end()
    assert [e async for e in sub] == [warning("last")]
    with pytest.raises(InternalAgentDied):  # what `next_event()` has always raised
        await sub.next()
    late = hub.subscribe()
    with pytest.raises(ThreadEnded):
        await late.next()


def test_what_counts_as_a_delta() -> None:
    assert is_delta(delta("x"))
    assert not is_delta(warning("x"))
    assert not is_delta(Event(id="1", msg=TaskCompleteEvent(last_agent_message=None)))


# --- through the engine ----------------------------------------------------------------------

async def collect(sub: Subscription) -> list[EventMsg]:
    return [event.msg async for event in sub]


async def test_two_subscribers_see_the_identical_stream(world: World) -> None:
    world.mock.enqueue(
        response(shell("echo from-the-tool", "call_1")), response(message("a final answer")),
        response(message("second turn")),
    )
    thread, _ = await world.start()
    first, second = thread.subscribe(), thread.subscribe()
    readers = [asyncio.create_task(collect(s)) for s in (first, second)]
    await submit_text(thread, "run it")
    await read_until(thread, TaskCompleteEvent)
    await submit_text(thread, "again")
    await read_until(thread, TaskCompleteEvent)
    await thread.shutdown()
    seen_first, seen_second = await asyncio.gather(*readers)
    assert seen_first == seen_second
    kinds = [m.type for m in seen_first]
    # From the moment they subscribed (no SessionConfigured), through the end.
    assert "session_configured" not in kinds and kinds[-1] == "shutdown_complete"
    assert kinds.count("task_complete") == 2 and "exec_command_end" in kinds, " ".join(kinds)
    assert "agent_message_delta" in kinds or "agent_message_content_delta" in kinds
    assert not first.lagged and not second.lagged


async def test_a_slow_subscriber_loses_only_deltas(world: World) -> None:
    pieces = [f"w{n} " for n in range(300)]
    events = response_events(message("".join(pieces)))
    # One text delta per piece: hundreds of deltas, more than the slow buffer holds.
    [done] = [i for i, e in enumerate(events) if e["type"] == "response.output_item.done"]
    base = next(e for e in events if e["type"] == "response.output_text.delta")
    deltas = [{**base, "delta": p} for p in pieces]
    events = [e for e in events if e["type"] != "response.output_text.delta"]
    events[done - 2:done - 2] = deltas
    world.mock.enqueue(sse(events))
    thread, _ = await world.start()
    slow = thread.subscribe(capacity=40)
    fast = thread.subscribe()
    fast_reader = asyncio.create_task(collect(fast))
    await submit_text(thread, "talk a lot")
    await read_until(thread, TaskCompleteEvent)  # the slow one has read nothing yet
    await thread.shutdown()
    everything = await fast_reader
    lagging = await collect(slow)
    assert slow.lagged and slow.dropped_deltas > 0 and not fast.lagged
    assert [m for m in lagging if not m.type.endswith("_delta")] == [
        m for m in everything if not m.type.endswith("_delta")
    ]
    assert isinstance(lagging[-1], ShutdownCompleteEvent)
    completed = [m for m in lagging if isinstance(m, TaskCompleteEvent)]
    assert completed[0].last_agent_message == "".join(pieces)


async def test_unsubscribing_leaves_the_thread_and_the_others_alone(world: World) -> None:
    world.mock.enqueue(response(message("one")), response(message("two")))
    thread, _ = await world.start()
    leaving = thread.subscribe()
    staying = thread.subscribe()
    assert thread.subscriber_count == 3  # with the default one (`next_event()`)
    await submit_text(thread, "first")
    await read_until(thread, TaskCompleteEvent)
    leaving.close()
    assert thread.subscriber_count == 2
    await submit_text(thread, "second")
    await read_until(thread, TaskCompleteEvent)
    await thread.shutdown()
    assert [m async for m in leaving] == []
    kept = await collect(staying)
    assert [m.type for m in kept].count("task_complete") == 2


async def test_next_event_still_starts_with_session_configured(world: World) -> None:
    thread: CodexThread = await world.manager.start_thread(world.config())
    late = thread.subscribe()
    first = await thread.next_event()
    assert isinstance(first.msg, SessionConfiguredEvent)
    await thread.shutdown()
    assert [m.type for m in await collect(late)] == ["shutdown_complete"]


@pytest.fixture
def world(tmp_path: Path, mock_model: MockModelServer) -> World:
    return World(tmp_path, mock_model)
