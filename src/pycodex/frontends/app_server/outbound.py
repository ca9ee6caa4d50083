"""One connection's bounded queue of encoded messages waiting for its writer task.

Two lanes. The main lane carries responses, notifications and server requests in order; it
is bounded so a client that stops reading costs at most `capacity` messages of memory. The
urgent lane carries only the overload answers (-32001) the reader gives when the inbound
queue is full: those are produced exactly when the main lane is likely full too, and a
client must get them (rather than silence) to know to retry. It is bounded as well;
beyond it they are dropped, as Codex drops them.
"""

from __future__ import annotations

import asyncio
from collections import deque


class OutboundClosed(Exception):
    """The connection is gone: nothing more will be written."""


class OutboundQueue:
    def __init__(self, capacity: int, urgent_capacity: int) -> None:
        if capacity < 1 or urgent_capacity < 1:
            raise ValueError("queue capacities must be at least 1")
        self._capacity = capacity
        self._urgent_capacity = urgent_capacity
        self._main: deque[bytes] = deque()
        self._urgent: deque[bytes] = deque()
        self._getters: list[asyncio.Future[None]] = []
        self._putters: list[asyncio.Future[None]] = []
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def is_full(self) -> bool:
        return len(self._main) >= self._capacity

    def __len__(self) -> int:
        return len(self._main) + len(self._urgent)

    async def put(self, message: bytes) -> None:
        """Wait for room in the main lane (the connection's own pace: its responses)."""
        while not self._closed and self.is_full():
            await _wait(self._putters)
        if self._closed:
            raise OutboundClosed
        self._main.append(message)
        _wake(self._getters)

    def try_put(self, message: bytes) -> bool:
        """Queue without waiting; False when the main lane is full (or closed)."""
        if self._closed or self.is_full():
            return False
        self._main.append(message)
        _wake(self._getters)
        return True

    def try_put_urgent(self, message: bytes) -> bool:
        if self._closed or len(self._urgent) >= self._urgent_capacity:
            return False
        self._urgent.append(message)
        _wake(self._getters)
        return True

    async def get(self) -> bytes:
        """The next message to write, urgent first; :class:`OutboundClosed` once closed and
        drained."""
        while not (self._urgent or self._main):
            if self._closed:
                raise OutboundClosed
            await _wait(self._getters)
        message = self._urgent.popleft() if self._urgent else self._main.popleft()
        _wake(self._putters)
        return message

    def close(self) -> None:
        """No more puts; the writer drains what is queued, then gets OutboundClosed."""
        self._closed = True
        _wake(self._getters)
        _wake(self._putters)


async def _wait(waiters: list[asyncio.Future[None]]) -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiters.append(future)
    try:
        await future
    finally:
        if future in waiters:
            waiters.remove(future)


def _wake(waiters: list[asyncio.Future[None]]) -> None:
    # Everyone re-checks its condition in a loop, so waking all is always safe.
    for future in waiters:
        if not future.done():
            future.set_result(None)
    waiters.clear()
