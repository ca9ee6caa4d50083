"""`fuzzyFileSearch`: files of `roots` matching `query`, best first (see :mod:`..file_search`).

The search runs in a worker thread and answers when done (deferred), so the connection
keeps reading: a later request with the same `cancellationToken` cancels the earlier one,
which then answers with no files, as Codex's does.
"""

from __future__ import annotations

import asyncio
import threading

from pycodex.frontends.app_server import file_search
from pycodex.frontends.app_server.deferred import Deferred
from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.frontends.app_server.search_params import FuzzyFileSearchParams


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
