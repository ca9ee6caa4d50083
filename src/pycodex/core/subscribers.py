"""One thread's event stream, fanned out to any number of subscribers.

A thread's session puts every `Event` on one queue; `Codex` pumps that queue into an
`EventHub`, which appends each event to every open `Subscription` in the same step. So
every subscriber sees the identical stream, in the same order, from the moment it
subscribed (events emitted before `subscribe()` returned are not replayed to it) until
the thread ends or the subscription is closed.

Slow consumers. Each subscription buffers at most `capacity` events. When an event
arrives and the buffer is full:

* a *delta* event (its type ends in ``_delta``: ``agent_message_delta``,
  ``*_content_delta``, ``exec_command_output_delta``...) is dropped for this subscriber;
* any other event (``item_completed``, ``task_complete``, ``turn_aborted``, ``error``,
  approval requests, ``shutdown_complete``...) makes room by dropping the *oldest
  buffered delta*; it is never dropped itself.

Either way the subscription is marked `lagged` and `dropped_deltas` counts what it lost:
the text of a delta it missed is in the completed item or message that follows. If the
buffer is full of non-delta events (the subscriber has stopped reading altogether), it is
*disconnected*: it keeps the events it already has, and once it has read them its next
read raises `SubscriberLagged` (a `SubscriptionClosed`) with the reason. Memory per
subscriber is therefore bounded, and a completion event is never lost silently: a
subscriber either receives it or is told that it was cut off, before that point.

Other subscribers are never slowed down by a slow one: publishing never waits.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import Final

from pycodex.protocol.events import Event

DEFAULT_CAPACITY: Final = 2048


class InternalAgentDied(Exception):
    """The engine stopped; no more events will come."""


class SubscriptionClosed(Exception):
    """No more events will come to this subscription."""


class ThreadEnded(SubscriptionClosed, InternalAgentDied):
    """The thread stopped (shut down, or its loop died); every event was delivered."""


class SubscriberLagged(SubscriptionClosed):
    """The subscriber fell so far behind that it was disconnected (see the module doc)."""


def is_delta(event: Event) -> bool:
    """Whether losing `event` loses only part of something a later event carries whole."""
    return event.msg.type.endswith("_delta")


class Subscription:
    """One reader's view of a thread's events: `async for event in sub`, or `await
    sub.next()`. `close()` unsubscribes (idempotent); it is also an async context manager.

    Iteration stops cleanly when the thread ends or after `close()`; it raises
    `SubscriberLagged` if the subscriber was disconnected for falling behind.
    """

    def __init__(self, capacity: int, on_close: Callable[[Subscription], None]) -> None:
        if capacity < 1:
            raise ValueError(f"subscription capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._buffer: collections.deque[Event] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._on_close = on_close
        self._end: SubscriptionClosed | None = None
        self.dropped_deltas = 0

    @property
    def lagged(self) -> bool:
        """Whether this subscriber missed any delta event (its buffer was full)."""
        return self.dropped_deltas > 0

    @property
    def closed(self) -> bool:
        """No event will be added any more (what is buffered can still be read)."""
        return self._end is not None

    @property
    def close_reason(self) -> SubscriptionClosed | None:
        return self._end

    def pending(self) -> int:
        """Events buffered and not read yet."""
        return len(self._buffer)

    async def next(self) -> Event:
        """The next event. Raises `ThreadEnded`, `SubscriberLagged` or (after `close()`)
        `SubscriptionClosed` once the buffer is empty and no event can come."""
        while not self._buffer:
            if self._end is not None:
                # A fresh exception each time: re-raising one instance grows its traceback.
                raise type(self._end)(*self._end.args)
            if self._waiter is None or self._waiter.done():
                self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._buffer.popleft()

    def close(self) -> None:
        """Unsubscribe: nothing more is buffered, and what is buffered is discarded."""
        self._buffer.clear()
        self._finish(SubscriptionClosed("unsubscribed"))

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self.next()
        except SubscriberLagged:
            raise
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    # --- the hub's side ----------------------------------------------------------------

    def _offer(self, event: Event) -> None:
        if self._end is not None:
            return
        buffer = self._buffer
        if len(buffer) >= self.capacity:
            if is_delta(event):
                self.dropped_deltas += 1
                return
            if not self._evict_one_delta():
                self._finish(SubscriberLagged(
                    f"subscriber disconnected: {len(buffer)} events unread "
                    f"(capacity {self.capacity}), none of them droppable"
                ))
                return
        buffer.append(event)
        self._wake()

    def _evict_one_delta(self) -> bool:
        buffer = self._buffer
        for index, queued in enumerate(buffer):
            if is_delta(queued):
                del buffer[index]
                self.dropped_deltas += 1
                return True
        return False

    def _finish(self, reason: SubscriptionClosed) -> None:
        if self._end is None:
            self._end = reason
            self._on_close(self)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class EventHub:
    """The subscribers of one thread. Not thread-safe: one event loop."""

    def __init__(self) -> None:
        self._subscribers: list[Subscription] = []
        self._ended = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def ended(self) -> bool:
        return self._ended

    def subscribe(self, capacity: int = DEFAULT_CAPACITY) -> Subscription:
        sub = Subscription(capacity, self._remove)
        if self._ended:
            sub._finish(ThreadEnded("the thread has ended"))
        else:
            self._subscribers.append(sub)
        return sub

    def publish(self, event: Event) -> None:
        # A copy: a subscriber disconnected by this very event leaves the list meanwhile.
        for sub in tuple(self._subscribers):
            sub._offer(event)

    def end(self) -> None:
        """The thread stopped: each subscriber reads what it has, then `ThreadEnded`."""
        self._ended = True
        for sub in tuple(self._subscribers):
            sub._finish(ThreadEnded("the thread has ended"))

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)
