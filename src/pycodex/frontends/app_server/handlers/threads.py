"""Live threads: `thread/start`, `thread/resume`, `thread/fork`, `thread/unsubscribe`,
`thread/loaded/list` — open a thread (or find it open) and serve it to the connection."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import msgspec

from pycodex.config import Config
from pycodex.core import ThreadNotFoundError
from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.errors import invalid_request
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.frontends.app_server.loaded_threads import LoadedThread, LoadedThreads
from pycodex.frontends.app_server.params import (
    ThreadForkParams,
    ThreadLoadedListParams,
    ThreadResumeParams,
    ThreadStartParams,
    ThreadUnsubscribeParams,
)
from pycodex.frontends.app_server.thread_config import load_thread_config
from pycodex.protocol.v2.threads import ThreadStartedNotification

ThreadSettings = ThreadStartParams | ThreadResumeParams | ThreadForkParams


def thread_not_found(thread_id: str) -> Exception:
    return invalid_request(f"thread not found: {thread_id}")


class _ThreadHandler:
    def __init__(self, threads: LoadedThreads, env: Mapping[str, str]) -> None:
        self.threads = threads
        self.env = env

    def _announce(self, ctx: RequestContext, loaded: LoadedThread) -> None:
        """`thread/started` follows the answer (as Codex sends it): queued after it."""
        params = msgspec.to_builtins(ThreadStartedNotification(thread=self.threads.thread_struct(loaded)))

        async def announce() -> None:
            await ctx.peer.notify("thread/started", params)

        asyncio.get_running_loop().call_soon(asyncio.ensure_future, announce())

    async def _config(self, params: ThreadSettings, *, ephemeral: bool | None = None) -> Config:
        """The thread's effective config: the server's -c, then the request's settings."""
        return await load_thread_config(
            self.env, cwd=params.cwd, model=params.model, model_provider=params.model_provider,
            approval=params.approval_policy, sandbox=params.sandbox, config=params.config,
            base_instructions=params.base_instructions,
            developer_instructions=params.developer_instructions, ephemeral=ephemeral,
            base_overrides=self.threads.config_overrides,
        )


class ThreadStart(_ThreadHandler):
    async def __call__(self, ctx: RequestContext, params: ThreadStartParams) -> JsonValue:
        config = await self._config(params, ephemeral=params.ephemeral)
        originator = ctx.session.originator
        thread = await self.threads.manager(originator).start_thread(config)
        loaded = await self.threads.serve(thread, ctx.peer, originator)
        self._announce(ctx, loaded)
        return self.threads.thread_response(loaded)


class ThreadResume(_ThreadHandler):
    async def __call__(self, ctx: RequestContext, params: ThreadResumeParams) -> JsonValue:
        loaded = self.threads.get(params.thread_id)
        if loaded is None:
            config = await self._config(params)
            originator = ctx.session.originator
            try:
                thread = await self.threads.manager(originator).resume_thread(config, params.thread_id)
            except ThreadNotFoundError:
                raise thread_not_found(params.thread_id) from None
            loaded = await self.threads.serve(thread, ctx.peer, originator)
        else:
            loaded.watch.add(ctx.peer)  # already open: this connection joins it
        return self.threads.thread_response(loaded)


class ThreadFork(_ThreadHandler):
    async def __call__(self, ctx: RequestContext, params: ThreadForkParams) -> JsonValue:
        config = await self._config(params, ephemeral=params.ephemeral)
        originator = ctx.session.originator
        try:
            thread = await self.threads.manager(originator).fork_thread(config, params.thread_id)
        except ThreadNotFoundError:
            raise thread_not_found(params.thread_id) from None
        loaded = await self.threads.serve(thread, ctx.peer, originator)
        self._announce(ctx, loaded)
        return self.threads.thread_response(loaded)


class ThreadUnsubscribe(_ThreadHandler):
    async def __call__(self, ctx: RequestContext, params: ThreadUnsubscribeParams) -> JsonValue:
        if self.threads.get(params.thread_id) is None:
            return {"status": "notLoaded"}
        left = self.threads.unsubscribe(params.thread_id, ctx.peer)
        return {"status": "unsubscribed" if left else "notSubscribed"}


class ThreadLoadedList(_ThreadHandler):
    async def __call__(self, ctx: RequestContext, params: ThreadLoadedListParams) -> JsonValue:
        ids = [i for i in self.threads.ids() if params.cursor is None or i > params.cursor]
        if params.limit is not None and len(ids) > params.limit:
            page = ids[: params.limit]
            return {"data": page, "nextCursor": page[-1]}
        return {"data": ids, "nextCursor": None}
