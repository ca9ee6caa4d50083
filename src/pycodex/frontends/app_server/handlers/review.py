"""`review/start`: a review of the thread's changes as a turn of that thread (inline
delivery); its `enteredReviewMode` / `exitedReviewMode` items and the reviewer's answer
come by notification. Detached delivery (a new thread) is refused: Codex deprecates it."""

from __future__ import annotations

from pycodex.core import ThreadBusy
from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.errors import invalid_request
from pycodex.frontends.app_server.handlers.threads import thread_not_found
from pycodex.frontends.app_server.handlers.turns import new_turn_json
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.frontends.app_server.loaded_threads import LoadedThreads
from pycodex.frontends.app_server.params import ReviewStartParams
from pycodex.protocol.ops import ReviewOp
from pycodex.protocol.review import ReviewRequest

TARGETS = {"uncommittedChanges": (), "baseBranch": ("branch",), "commit": ("sha",), "custom": ("instructions",)}


class ReviewStart:
    def __init__(self, threads: LoadedThreads) -> None:
        self.threads = threads

    async def __call__(self, ctx: RequestContext, params: ReviewStartParams) -> JsonValue:
        loaded = self.threads.get(params.thread_id)
        if loaded is None:
            raise thread_not_found(params.thread_id)
        if params.delivery not in (None, "inline"):
            raise invalid_request("Invalid request: only inline review delivery is supported")
        target = params.target
        needed = TARGETS.get(str(target.get("type")))
        if needed is None or any(not isinstance(target.get(key), str) for key in needed):
            raise invalid_request(f"Invalid request: unsupported review target: {target}")
        loaded.watch.add(ctx.peer)
        try:
            turn_id = await loaded.thread.start_review(ReviewOp(review_request=ReviewRequest(target=target)))
        except ThreadBusy as exc:
            raise invalid_request(str(exc)) from None
        return {"turn": new_turn_json(turn_id), "reviewThreadId": params.thread_id}
