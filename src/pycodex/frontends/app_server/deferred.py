"""A request whose answer comes later, while the connection goes on reading requests.

Requests of one connection are handled one at a time, so a handler that waited for a
long-running thing (a `command/exec` process, a fuzzy search a later request may cancel)
would block the very requests that control it (`command/exec/write`, `…/terminate`). Such
a handler returns a :class:`Deferred` instead: the connection answers with its outcome once
it is done. Notifications the work sends before finishing reach the client before the
answer (one outbound queue). When the connection closes, unfinished work is cancelled —
a process started for a client never outlives it.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from pycodex.frontends.app_server.jsonrpc import JsonValue


class Deferred:
    """The result (or `RpcError`) of `work`, sent as the answer when it finishes."""

    __slots__ = ("work",)

    def __init__(self, work: Coroutine[Any, Any, JsonValue]) -> None:
        self.work = work
