"""Recorded threads: `thread/list`, `thread/read`, `thread/turns/list`, `thread/archive`,
`thread/unarchive`, `thread/delete`, `thread/name/set`.

They work on the home's rollouts and index through the engine's `ThreadManager`; a thread
that is also loaded shows its live status, and one that is archived or deleted is closed
first (its subscribers are told it is `notLoaded`, as Codex tells them). Results and
notifications follow `reference/app-server/session*.transcript.jsonl`: the change is
answered first, then announced (`thread/archived`, `thread/name/updated`…).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pycodex.core import (
    ThreadListQuery,
    ThreadManager,
    ThreadNotFoundError,
    ThreadQueryError,
    ThreadStoreError,
    ThreadSummary,
)
from pycodex.frontends.app_server.dispatcher import Peer, RequestContext
from pycodex.frontends.app_server.errors import invalid_request
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.frontends.app_server.loaded_threads import LoadedThreads
from pycodex.frontends.app_server.recorded_params import (
    ThreadIdParams,
    ThreadListParams,
    ThreadReadParams,
    ThreadSetNameParams,
    ThreadTurnsListParams,
)
from pycodex.frontends.app_server.recorded_view import read_turns, recorded_thread_json

JsonObj = dict[str, Any]
DEFAULT_PAGE = 25
INCLUDE_TURNS_NOTICE = (
    "Full-history hydration is deprecated for paginated threads; omit `includeTurns` or set it "
    "to `false`, then page with `thread/turns/list` and `thread/items/list`."
)


def no_rollout(thread_id: str) -> Exception:
    return invalid_request(f"no rollout found for thread id {thread_id}")


def after_answer(peers: list[Peer], method: str, params: JsonObj) -> None:
    """Send a notification once the answer is queued (Codex announces a change after it)."""
    after_answer_in_order(peers, [(method, params)])


def after_answer_in_order(peers: list[Peer], notes: list[tuple[str, JsonObj]]) -> None:
    """Send notifications, in this order, once the answer is queued."""

    async def send() -> None:
        for method, params in notes:
            for peer in peers:
                # A connection that went away meanwhile misses it.
                with contextlib.suppress(Exception):
                    await peer.notify(method, params)

    asyncio.get_running_loop().call_soon(asyncio.ensure_future, send())


class _Recorded:
    def __init__(self, threads: LoadedThreads) -> None:
        self.threads = threads

    def manager(self, ctx: RequestContext, thread_id: str | None = None) -> ThreadManager:
        """The engine manager that holds `thread_id` when it is loaded, else the caller's."""
        loaded = self.threads.get(thread_id) if thread_id else None
        return self.threads.manager(loaded.originator if loaded else ctx.session.originator)

    async def row(self, ctx: RequestContext, thread_id: str) -> ThreadSummary:
        try:
            return await self.manager(ctx, thread_id).read_thread(thread_id)
        except ThreadNotFoundError:
            raise no_rollout(thread_id) from None

    def status_of(self, thread_id: str) -> JsonObj | None:
        loaded = self.threads.get(thread_id)
        if loaded is None:
            return None
        return dict(self.threads.thread_json(loaded)["status"])

    async def thread_of(self, row: ThreadSummary) -> JsonObj:
        return await asyncio.to_thread(recorded_thread_json, row, status=self.status_of(row.id))


class ThreadList(_Recorded):
    async def __call__(self, ctx: RequestContext, params: ThreadListParams) -> JsonValue:
        query = _query(params)
        try:
            page = await self.manager(ctx).list_threads(query)
        except ThreadQueryError as exc:
            raise invalid_request(str(exc)) from None
        except ThreadStoreError as exc:
            raise invalid_request(f"failed to list threads: {exc}") from None
        data = [await self.thread_of(row) for row in page.items]
        return {"data": data, "readStates": {}, "nextCursor": page.next_cursor, "backwardsCursor": None}


def _query(params: ThreadListParams) -> ThreadListQuery:
    if params.originators:
        raise invalid_request("originators filter is not supported by the local thread store")
    if params.sort_direction == "asc":
        raise invalid_request("sortDirection `asc` is not supported by pycodex yet")
    # recency_at is the last activity, which is what updated_at records here.
    sort_key: Literal["created_at", "updated_at"] = (
        "created_at" if params.sort_key in (None, "created_at", "section_position") else "updated_at"
    )
    return ThreadListQuery(
        cursor=params.cursor,
        limit=params.limit if params.limit is not None else DEFAULT_PAGE,
        sort_key=sort_key,
        archived=bool(params.archived),
        cwd=params.cwd or None,
        model_providers=params.model_providers or None,
        source_kinds=params.source_kinds or None,
        search_term=params.search_term or None,
        excluded_thread_ids=params.excluded_thread_ids or (),
    )


class ThreadRead(_Recorded):
    async def __call__(self, ctx: RequestContext, params: ThreadReadParams) -> JsonValue:
        loaded = self.threads.get(params.thread_id)
        if loaded is not None and loaded.configured.rollout_path is None:
            return {"thread": self.threads.thread_json(loaded), "readState": None}  # ephemeral
        row = await self.row(ctx, params.thread_id)
        thread = await self.thread_of(row)
        thread["canAcceptDirectInput"] = True if loaded is not None else None
        if params.include_turns:
            await ctx.peer.notify("deprecationNotice", {"summary": INCLUDE_TURNS_NOTICE, "details": None})
            turns = await asyncio.to_thread(read_turns, row.rollout_path)
            thread["turns"] = [turn.to_json("full") for turn in turns]
        return {"thread": thread, "readState": None}


class ThreadTurnsList(_Recorded):
    async def __call__(self, ctx: RequestContext, params: ThreadTurnsListParams) -> JsonValue:
        row = await self.row(ctx, params.thread_id)
        turns = await asyncio.to_thread(read_turns, row.rollout_path)
        descending = params.sort_direction != "asc"
        order = list(range(len(turns)))[::-1] if descending else list(range(len(turns)))
        start = 0
        if params.cursor is not None:
            start = _cursor_start(params.cursor, params.thread_id, order, descending=descending)
        limit = params.limit if params.limit else len(order)
        page = order[start : start + limit]
        view = params.items_view or "summary"
        more = start + limit < len(order)
        return {
            "data": [turns[i].to_json(view) for i in page],
            "nextCursor": _turns_cursor(params.thread_id, page[-1], anchor=False) if page and more else None,
            "backwardsCursor": _turns_cursor(params.thread_id, page[0], anchor=True) if page else None,
        }


def _turns_cursor(thread_id: str, position: int, *, anchor: bool) -> str:
    """Codex's cursor shape: JSON naming the thread, a position and whether it is included."""
    cursor = {"requestedThreadId": thread_id, "rolloutOrdinal": position,
              "includeAnchor": anchor, "scope": {"kind": "turns"}}
    return json.dumps(cursor, separators=(",", ":"))


def _cursor_start(cursor: str, thread_id: str, order: list[int], *, descending: bool) -> int:
    """Where in `order` (turn positions, sorted) a page continuing from `cursor` starts."""
    try:
        parsed = json.loads(cursor)
        position = parsed["rolloutOrdinal"]
        anchor = bool(parsed.get("includeAnchor"))
        if parsed["requestedThreadId"] != thread_id or not isinstance(position, int):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise invalid_request(f"invalid cursor: {cursor}") from None
    for index, turn in enumerate(order):
        # The first turn at or past the cursor's position (the anchor itself if included);
        # a rolled-back anchor simply continues where it was.
        ahead = turn < position if descending else turn > position
        if ahead or (anchor and turn == position):
            return index
    return len(order)


class _Closing(_Recorded):
    """archive / delete: the thread is closed first; its watchers hear it is `notLoaded`."""

    async def close_then(
        self, ctx: RequestContext, thread_id: str,
        action: Callable[[ThreadManager, str], Awaitable[ThreadSummary]],
    ) -> ThreadSummary:
        await self.row(ctx, thread_id)  # unknown thread: Codex's error, nothing touched
        loaded = self.threads.get(thread_id)
        manager = self.manager(ctx, thread_id)
        try:
            row = await action(manager, thread_id)
        except ThreadNotFoundError:
            raise no_rollout(thread_id) from None
        except ThreadStoreError as exc:
            raise invalid_request(str(exc)) from None
        if loaded is not None:
            peers = list(loaded.watch.peers)
            await loaded.watch.close()
            status = {"threadId": row.id, "status": {"type": "notLoaded"}}
            for peer in {*peers, ctx.peer}:
                await peer.notify("thread/status/changed", status)
        return row


class ThreadArchive(_Closing):
    async def __call__(self, ctx: RequestContext, params: ThreadIdParams) -> JsonValue:
        row = await self.close_then(ctx, params.thread_id, ThreadManager.archive_thread)
        after_answer([ctx.peer], "thread/archived", {"threadId": row.id})
        return {}


class ThreadDelete(_Closing):
    async def __call__(self, ctx: RequestContext, params: ThreadIdParams) -> JsonValue:
        row = await self.close_then(ctx, params.thread_id, ThreadManager.delete_thread)
        after_answer([ctx.peer], "thread/deleted", {"threadId": row.id})
        return {}


class ThreadUnarchive(_Recorded):
    async def __call__(self, ctx: RequestContext, params: ThreadIdParams) -> JsonValue:
        await self.row(ctx, params.thread_id)
        try:
            row = await self.manager(ctx, params.thread_id).unarchive_thread(params.thread_id)
        except ThreadStoreError as exc:
            raise invalid_request(str(exc)) from None
        thread = await self.thread_of(row)
        after_answer([ctx.peer], "thread/unarchived", {"threadId": row.id})
        return {"thread": thread}


class ThreadSetName(_Recorded):
    async def __call__(self, ctx: RequestContext, params: ThreadSetNameParams) -> JsonValue:
        name = params.name.strip()
        if not name:
            raise invalid_request("thread name must not be empty")
        try:
            row = await self.manager(ctx, params.thread_id).set_thread_name(params.thread_id, name)
        except ThreadNotFoundError:
            raise invalid_request(f"thread not found: {params.thread_id}") from None
        loaded = self.threads.get(row.id)
        peers = list(loaded.watch.peers) if loaded is not None else []
        if ctx.peer not in peers:
            peers.append(ctx.peer)
        after_answer(peers, "thread/name/updated", {"threadId": row.id, "threadName": row.name})
        return {}
