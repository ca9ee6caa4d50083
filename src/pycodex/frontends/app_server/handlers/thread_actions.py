"""`thread/shellCommand` (the user's own `!cmd`) and `thread/compact/start` on a loaded
thread: each submits one op and answers `{}` at once, as Codex does; what happens comes
as the thread's notifications (a `commandExecution` item with `source: userShell` and its
output deltas, in a turn of its own when none runs; a `contextCompaction` item).

The asking connection is subscribed to the thread first, so it sees what it started.
"""

from __future__ import annotations

from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.errors import invalid_request
from pycodex.frontends.app_server.handlers.threads import thread_not_found
from pycodex.frontends.app_server.loaded_threads import LoadedThread, LoadedThreads
from pycodex.frontends.app_server.thread_action_params import (
    ThreadCompactStartParams,
    ThreadShellCommandParams,
)
from pycodex.protocol.ops import CompactOp, RunUserShellCommandOp


class _ThreadAction:
    def __init__(self, threads: LoadedThreads) -> None:
        self.threads = threads

    def watched(self, ctx: RequestContext, thread_id: str) -> LoadedThread:
        loaded = self.threads.get(thread_id)
        if loaded is None:
            raise thread_not_found(thread_id)
        loaded.watch.add(ctx.peer)
        return loaded


class ThreadShellCommand(_ThreadAction):
    async def __call__(self, ctx: RequestContext, params: ThreadShellCommandParams) -> dict[str, object]:
        if not params.command.strip():
            raise invalid_request("command must not be empty")
        if params.timeout_ms is not None and params.timeout_ms < 0:
            raise invalid_request(f"timeoutMs must be non-negative, got {params.timeout_ms}")
        # timeoutMs is accepted but not applied yet: the engine's op has no timeout field
        # (an Interrupt, `turn/interrupt`, stops the command meanwhile).
        loaded = self.watched(ctx, params.thread_id)
        await loaded.thread.submit(RunUserShellCommandOp(command=params.command))
        return {}


class ThreadCompactStart(_ThreadAction):
    async def __call__(self, ctx: RequestContext, params: ThreadCompactStartParams) -> dict[str, object]:
        loaded = self.watched(ctx, params.thread_id)
        await loaded.thread.submit(CompactOp())
        return {}
