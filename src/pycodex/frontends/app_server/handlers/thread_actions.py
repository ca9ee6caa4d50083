"""`thread/shellCommand` (the user's own `!cmd`) and `thread/compact/start` on a loaded
thread: each submits one op and answers `{}` at once, as Codex does; what happens comes
as the thread's notifications (a `commandExecution` item with `source: userShell` and its
output deltas, in a turn of its own when none runs; a `contextCompaction` item).
`thread/revert` drops a turn and every later one from the thread's history (files on disk
are untouched), answers once the engine did it, then announces `thread/reverted`.

The asking connection is subscribed to the thread first, so it sees what it started.
"""

from __future__ import annotations

import asyncio

from pycodex.core import CodexThread
from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.errors import invalid_request
from pycodex.frontends.app_server.handlers.recorded_threads import after_answer
from pycodex.frontends.app_server.handlers.threads import thread_not_found
from pycodex.frontends.app_server.loaded_threads import LoadedThread, LoadedThreads
from pycodex.frontends.app_server.recorded_view import read_turns
from pycodex.frontends.app_server.thread_action_params import (
    ThreadCompactStartParams,
    ThreadRevertParams,
    ThreadShellCommandParams,
)
from pycodex.protocol.events import ErrorEvent, ThreadRolledBackEvent
from pycodex.protocol.ops import CompactOp, RunUserShellCommandOp, ThreadRollbackOp

REVERT_TIMEOUT_S = 30.0


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


class ThreadRevert(_ThreadAction):
    async def __call__(self, ctx: RequestContext, params: ThreadRevertParams) -> dict[str, object]:
        loaded = self.watched(ctx, params.thread_id)
        if loaded.thread.active_turn_id is not None:
            raise invalid_request("Cannot revert while a turn is in progress; interrupt it first.")
        path = loaded.configured.rollout_path
        if path is None:
            raise invalid_request(f"thread {params.thread_id} is ephemeral: it has no recorded turns")
        turn_ids = [turn.id for turn in await asyncio.to_thread(read_turns, str(path))]
        if params.before_turn_id not in turn_ids:
            raise invalid_request(f"turn not found in thread {params.thread_id}: {params.before_turn_id}")
        await _roll_back(loaded.thread, len(turn_ids) - turn_ids.index(params.before_turn_id))
        after_answer(list(loaded.watch.peers), "thread/reverted", {"threadId": params.thread_id})
        thread = self.threads.thread_json(loaded)
        return {"thread": thread, "turnsBackwardsCursor": None, "itemsBackwardsCursor": None}


async def _roll_back(thread: CodexThread, num_turns: int) -> None:
    """Submit the rollback and wait for the engine to say it is done (or why not)."""
    events = thread.subscribe()
    try:
        await thread.submit(ThreadRollbackOp(num_turns=num_turns))
        async with asyncio.timeout(REVERT_TIMEOUT_S):
            while True:
                msg = (await events.next()).msg
                if isinstance(msg, ThreadRolledBackEvent):
                    return
                if isinstance(msg, ErrorEvent):
                    raise invalid_request(msg.message)
    finally:
        events.close()
