"""Requests the server sends to the client (approvals, token refresh, …) and the table of
those still waiting for an answer.

Ids are integers from 0, per connection, as Codex numbers them. Every pending request ends
exactly one way: the client's result, the client's error (:class:`ServerRequestRejected`),
its timeout (:class:`ServerRequestTimedOut`), or the connection closing
(:class:`ServerRequestAbandoned`) — never left waiting forever. An answer with an id that is
not pending (unknown, or already timed out) is reported to the caller and dropped.
"""

from __future__ import annotations

import asyncio
import itertools

from pycodex.frontends.app_server.jsonrpc import ErrorObject, JsonValue, RequestId


class ServerRequestFailed(Exception):
    """Base: a server→client request did not get a result."""


class ServerRequestRejected(ServerRequestFailed):
    """The client answered with a JSON-RPC error."""

    def __init__(self, method: str, error: ErrorObject) -> None:
        super().__init__(f"{method}: client answered error {error.code}: {error.message}")
        self.error = error


class ServerRequestTimedOut(ServerRequestFailed):
    def __init__(self, method: str, request_id: int, timeout: float) -> None:
        super().__init__(f"{method} (id {request_id}): no answer from the client in {timeout:g}s")
        self.request_id = request_id


class ServerRequestAbandoned(ServerRequestFailed):
    """The connection closed before the client answered."""


class PendingServerRequests:
    def __init__(self) -> None:
        self._ids = itertools.count()
        self._pending: dict[int, tuple[str, asyncio.Future[JsonValue]]] = {}
        self._closed_reason: str | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def open(self, method: str) -> tuple[int, asyncio.Future[JsonValue]]:
        """A fresh id and the future its answer will complete."""
        if self._closed_reason is not None:
            raise ServerRequestAbandoned(f"{method}: {self._closed_reason}")
        request_id = next(self._ids)
        future: asyncio.Future[JsonValue] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (method, future)
        return request_id, future

    async def wait(
        self, request_id: int, future: asyncio.Future[JsonValue], answer_within: float | None
    ) -> JsonValue:
        """The client's result for `request_id`; raises a :class:`ServerRequestFailed`."""
        method = self._pending[request_id][0] if request_id in self._pending else "request"
        try:
            return await asyncio.wait_for(asyncio.shield(future), answer_within)
        except TimeoutError:
            raise ServerRequestTimedOut(method, request_id, answer_within or 0.0) from None
        finally:
            # Timed out, cancelled or answered: either way it is no longer pending, and a
            # late answer is dropped as unknown.
            self._pending.pop(request_id, None)

    def resolve(self, request_id: RequestId, result: JsonValue) -> bool:
        """Route a client's result; False when nothing waits for `request_id`."""
        entry = self._take(request_id)
        if entry is None:
            return False
        entry[1].set_result(result)
        return True

    def reject(self, request_id: RequestId, error: ErrorObject) -> bool:
        entry = self._take(request_id)
        if entry is None:
            return False
        entry[1].set_exception(ServerRequestRejected(entry[0], error))
        return True

    def discard(self, request_id: int) -> None:
        """Forget a request that was never sent (its write failed)."""
        entry = self._pending.pop(request_id, None)
        if entry is not None:
            entry[1].cancel()

    def abandon_all(self, reason: str) -> None:
        """The connection is closing: fail everything pending, refuse new requests."""
        self._closed_reason = reason
        pending, self._pending = self._pending, {}
        for method, future in pending.values():
            if not future.done():
                future.set_exception(ServerRequestAbandoned(f"{method}: {reason}"))

    def _take(self, request_id: RequestId) -> tuple[str, asyncio.Future[JsonValue]] | None:
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            return None
        entry = self._pending.pop(request_id, None)
        if entry is None or entry[1].done():
            return None
        return entry
