"""`fuzzyFileSearch`: files of `roots` matching `query`, best first (see :mod:`..file_search`),
once or as a session that follows a changing query.

The search runs in a worker thread and answers when done (deferred), so the connection
keeps reading: a later request with the same `cancellationToken` cancels the earlier one,
which then answers with no files, as Codex's does.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from pycodex.frontends.app_server import file_search
from pycodex.frontends.app_server.deferred import Deferred
from pycodex.frontends.app_server.dispatcher import Peer, RequestContext
from pycodex.frontends.app_server.errors import invalid_request
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.frontends.app_server.search_params import (
    FuzzyFileSearchParams,
    FuzzyFileSearchSessionStartParams,
    FuzzyFileSearchSessionStopParams,
    FuzzyFileSearchSessionUpdateParams,
)


class FuzzyFileSearch:
    def __init__(self) -> None:
        # cancellationToken -> the flag of the search that holds it now.
        self._by_token: dict[str, threading.Event] = {}

    async def __call__(self, ctx: RequestContext, params: FuzzyFileSearchParams) -> Deferred:
        cancel = threading.Event()
        token = params.cancellation_token
        if token is not None:
            earlier = self._by_token.get(token)
            if earlier is not None:
                earlier.set()
            self._by_token[token] = cancel
        return Deferred(self._run(params, cancel))

    async def _run(self, params: FuzzyFileSearchParams, cancel: threading.Event) -> JsonValue:
        try:
            matches = await asyncio.to_thread(file_search.search, params.query, params.roots, cancel=cancel)
        finally:
            cancel.set()  # stops the worker if this request was abandoned (connection gone)
            token = params.cancellation_token
            if token is not None and self._by_token.get(token) is cancel:
                del self._by_token[token]
        return {"files": [m.to_json() for m in matches]}


class _Session:
    """One search session: fixed roots, the latest query, the search running for it."""

    def __init__(self, session_id: str, roots: list[str], peer: Peer) -> None:
        self.session_id = session_id
        self.roots = roots
        self.peer = peer
        self.query: str | None = None
        self.cancel = threading.Event()  # the running search's (a new query replaces it)
        self.stopped = False
        self.task: asyncio.Task[None] | None = None

    def search(self, query: str) -> None:
        self.cancel.set()
        self.query, self.cancel = query, threading.Event()
        self.task = asyncio.get_running_loop().create_task(self._run(query, self.cancel))

    async def _run(self, query: str, cancel: threading.Event) -> None:
        if query:
            matches = await asyncio.to_thread(file_search.search, query, self.roots, cancel=cancel)
        else:
            matches = []  # an empty query matches nothing (as Codex: no files listed)
        if cancel.is_set() or self.stopped or query != self.query:
            return  # a newer query (or a stop) won: only the latest query is reported
        with contextlib.suppress(Exception):  # the client left meanwhile
            files: list[JsonValue] = [m.to_json() for m in matches]
            await self.peer.notify("fuzzyFileSearch/sessionUpdated",
                                   {"sessionId": self.session_id, "query": query, "files": files})
            await self.peer.notify("fuzzyFileSearch/sessionCompleted", {"sessionId": self.session_id})

    def stop(self) -> None:
        self.stopped = True
        self.cancel.set()


class FuzzyFileSearchSessions:
    """`fuzzyFileSearch/sessionStart|sessionUpdate|sessionStop` (experimental): a search that
    follows what the user types. Each update searches the session's roots for the new query
    (cancelling the search of the previous one) and reports `fuzzyFileSearch/sessionUpdated`
    with the files, then `fuzzyFileSearch/sessionCompleted`, to the connection that started
    the session; results of a query already replaced are never sent."""

    def __init__(self) -> None:
        self._sessions: dict[str, _Session] = {}

    async def start(self, ctx: RequestContext, params: FuzzyFileSearchSessionStartParams) -> JsonValue:
        earlier = self._sessions.pop(params.session_id, None)
        if earlier is not None:
            earlier.stop()  # the same id again: a fresh session over the new roots
        self._sessions[params.session_id] = _Session(params.session_id, list(params.roots), ctx.peer)
        return {}

    async def update(self, ctx: RequestContext, params: FuzzyFileSearchSessionUpdateParams) -> JsonValue:
        self._session(params.session_id).search(params.query)
        return {}

    async def stop(self, ctx: RequestContext, params: FuzzyFileSearchSessionStopParams) -> JsonValue:
        self._session(params.session_id).stop()
        del self._sessions[params.session_id]
        return {}

    def _session(self, session_id: str) -> _Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise invalid_request(f"unknown fuzzyFileSearch session: {session_id!r}")
        return session
