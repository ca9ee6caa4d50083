"""One loaded thread as the app-server serves it: its events become v2 notifications for
every connection subscribed to it, and its approval requests become server→client
requests whose answers go back to the engine.

The watch reads the thread through one engine subscription (`CodexThread.subscribe`), so
a connection that subscribes late or leaves early never disturbs another. Sending to a
connection is queueing on its outbound side (the connection applies its own backpressure
rules), so one slow client does not hold the thread's other clients back.

Approvals go to every subscribed connection at once; the first answer decides. With no
connection to ask, or when none answers (error, timeout, disconnect), the request is
declined: a turn never hangs on a question nobody can answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from pycodex.core import CodexThread, SubscriptionClosed
from pycodex.frontends.app_server.asking import first_answer
from pycodex.frontends.app_server.dispatcher import Peer
from pycodex.frontends.app_server.elicitation import (
    ELICITATION_REQUEST,
    elicitation_params,
    elicitation_response,
)
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.mcp.elicitation import ElicitationRequest, ElicitationResponse
from pycodex.protocol.event_payloads import (
    ApplyPatchApprovalRequestEvent,
    ExecApprovalRequestEvent,
)
from pycodex.protocol.events import (
    EventMsg,
    ShutdownCompleteEvent,
    TaskCompleteEvent,
    TurnAbortedEvent,
)
from pycodex.protocol.policies import ExecReviewAnswer, ReviewDecision
from pycodex.protocol.v2.approvals import (
    COMMAND_APPROVAL,
    FILE_CHANGE_APPROVAL,
    command_approval_params,
    decision_from,
    file_change_approval_params,
)
from pycodex.protocol.v2.notifications import ThreadNotifier

log = logging.getLogger(__name__)

# How long a connection has to answer an approval before it counts as declined.
APPROVAL_TIMEOUT_S = 3600.0


class ThreadWatch:
    """Serves one thread's events to the connections subscribed to it."""

    def __init__(
        self,
        thread: CodexThread,
        *,
        approval_timeout_s: float = APPROVAL_TIMEOUT_S,
        on_end: Callable[[ThreadWatch], None] | None = None,
        on_rate_limits: Callable[[JsonValue], None] | None = None,
    ) -> None:
        self.thread = thread
        self.notifier = ThreadNotifier(thread.thread_id)
        self._peers: list[Peer] = []
        self._approval_timeout_s = approval_timeout_s
        self._on_end = on_end
        self._on_rate_limits = on_rate_limits
        self._asking: set[asyncio.Task[None]] = set()
        # Approval requests waiting for their item/started to be announced first.
        self._deferred_asks: list[ExecApprovalRequestEvent | ApplyPatchApprovalRequestEvent] = []
        self._subscription = thread.subscribe()
        thread.set_elicitor(self.elicit)
        self._task = asyncio.create_task(self._run(), name=f"app-server-watch-{thread.thread_id}")

    @property
    def thread_id(self) -> str:
        return self.thread.thread_id

    @property
    def peers(self) -> tuple[Peer, ...]:
        return tuple(self._peers)

    def add(self, peer: Peer) -> None:
        if peer not in self._peers:
            self._peers.append(peer)

    def remove(self, peer: Peer) -> bool:
        """Unsubscribe a connection; whether it was subscribed."""
        if peer in self._peers:
            self._peers.remove(peer)
            return True
        return False

    async def close(self) -> None:
        """Stop watching (the thread itself is shut down by its owner)."""
        self._subscription.close()
        self._task.cancel()
        for task in list(self._asking):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    # --- the event loop -----------------------------------------------------------------

    async def _run(self) -> None:
        try:
            async for event in self._subscription:
                await self._deliver(event.msg)
                if isinstance(event.msg, ShutdownCompleteEvent):
                    break
        except SubscriptionClosed:
            pass
        finally:
            if self._on_end is not None:
                self._on_end(self)

    async def _deliver(self, msg: EventMsg) -> None:
        if isinstance(msg, TaskCompleteEvent | TurnAbortedEvent):
            # The turn is over: an approval still pending can no longer matter. Its requests
            # are resolved (each client told so) before the turn's end is announced.
            await self._withdraw_pending_approvals()
        if isinstance(msg, ExecApprovalRequestEvent | ApplyPatchApprovalRequestEvent):
            # Codex's order: the status first; then, for a command, its item/started (the
            # engine emits it right after this event) and only then the request itself.
            await self._status(["waitingOnApproval"])
            self._deferred_asks.append(msg)
            if isinstance(msg, ExecApprovalRequestEvent) and self._subscription.pending():
                return
        for method, params in self.notifier.notifications(msg):
            if method == "account/rateLimits/updated" and self._on_rate_limits is not None:
                self._on_rate_limits(params["rateLimits"])
            await self._broadcast(method, params)
        for request in self._deferred_asks:
            task = asyncio.create_task(self._ask(request), name=f"approval-{request.call_id}")
            self._asking.add(task)
            task.add_done_callback(self._asking.discard)
        self._deferred_asks.clear()

    async def notify_all(self, method: str, params: JsonValue) -> None:
        """A notification about this thread to every connection subscribed to it."""
        await self._broadcast(method, params)

    async def _broadcast(self, method: str, params: JsonValue) -> None:
        for peer in list(self._peers):
            try:
                await peer.notify(method, params)
            except Exception as exc:  # a closed connection: it leaves, the others go on
                log.info("dropping a subscriber of %s: %s", self.thread_id, exc)
                self.remove(peer)

    # --- approvals -----------------------------------------------------------------------

    async def _ask(self, request: ExecApprovalRequestEvent | ApplyPatchApprovalRequestEvent) -> None:
        at_ms = time.time_ns() // 1_000_000
        thread_id, turn_id = self.thread_id, self.notifier.turn_id
        if isinstance(request, ExecApprovalRequestEvent):
            method = COMMAND_APPROVAL
            params = command_approval_params(request, thread_id=thread_id, turn_id=turn_id, started_at_ms=at_ms)
        else:
            method = FILE_CHANGE_APPROVAL
            params = file_change_approval_params(
                request, thread_id=thread_id, turn_id=turn_id, started_at_ms=at_ms
            )
        decision = await self._first_answer(method, params)
        await self._status([])
        if isinstance(request, ExecApprovalRequestEvent):
            await self.thread.submit(request.answer(decision))
        else:
            patch = decision if isinstance(decision, ReviewDecision) else ReviewDecision.APPROVED
            await self.thread.submit(request.answer(patch))

    async def _status(self, flags: list[str]) -> None:
        """`thread/status/changed`: the thread waits on a person (or no longer does)."""
        status = {"type": "active", "activeFlags": flags}
        await self._broadcast("thread/status/changed", {"threadId": self.thread_id, "status": status})

    async def _withdraw_pending_approvals(self) -> None:
        pending = list(self._asking)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _first_answer(self, method: str, params: JsonValue) -> ExecReviewAnswer:
        answer = await first_answer(
            self._peers, method, params, decision_from,
            thread_id=self.thread_id, answer_within=self._approval_timeout_s,
        )
        return ReviewDecision.DENIED if answer is None else answer

    # --- MCP elicitations -----------------------------------------------------------------

    async def elicit(self, request: ElicitationRequest) -> ElicitationResponse:
        """An MCP server's question (or an MCP tool's approval) as
        `mcpServer/elicitation/request`; declined when nobody answers."""
        params = elicitation_params(request, thread_id=self.thread_id, turn_id=self.thread.active_turn_id)
        # Asked from a task of its own: the turn ending withdraws it (as an approval) without
        # cancelling the engine's task that is waiting here.
        ask = asyncio.create_task(first_answer(
            self._peers, ELICITATION_REQUEST, params, elicitation_response,
            thread_id=self.thread_id, answer_within=self._approval_timeout_s,
        ))
        self._asking.add(ask)  # type: ignore[arg-type]
        ask.add_done_callback(self._asking.discard)
        try:
            await asyncio.wait({ask})
        finally:
            ask.cancel()
        answer = None if ask.cancelled() else ask.result()
        return answer or ElicitationResponse(action="decline")
