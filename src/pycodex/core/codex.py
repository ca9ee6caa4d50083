"""`Codex`: the queue pair every front end talks to.

Front ends `submit(op)` and read events; a submission loop owns the `Session` and
handles ops one at a time. Turns run as separate tasks so an `Interrupt` or more user
input can be handled while a turn is in flight.

Events: the session puts them on its one queue; a pump task hands each to an `EventHub`
(:mod:`.subscribers`), so several readers (an app-server connection, a TUI) can each
`subscribe()` to the same thread. `next_event()` reads a default subscription opened
with the thread, so its first event is `SessionConfigured`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pycodex.context.compaction import CompactionSettings
from pycodex.protocol.events import (
    ErrorEvent,
    Event,
    ShutdownCompleteEvent,
    TaskCompleteEvent,
    TurnAbortedEvent,
    TurnAbortReason,
)
from pycodex.protocol.ops import (
    AddToHistoryOp,
    CompactOp,
    ExecApprovalOp,
    GetHistoryEntryRequestOp,
    InterruptOp,
    ListCustomPromptsOp,
    Op,
    OverrideTurnContextOp,
    PatchApprovalOp,
    ReviewOp,
    RunUserShellCommandOp,
    ShutdownOp,
    Submission,
    ThreadRollbackOp,
    UndoOp,
    UserInputOp,
    UserTurnOp,
)
from pycodex.protocol.policies import ReasoningEffort, ReasoningSummary, ReviewDecision
from pycodex.protocol.user_input import UserInput
from pycodex.rollout.history_file import PromptHistory

from . import thread_ops
from .session import ActiveTurn, Session
from .subscribers import DEFAULT_CAPACITY, EventHub, InternalAgentDied, Subscription
from .turn import describe_failure, run_task, user_input_to_item
from .turn_context import SessionSettings, TurnContext

SUBMISSION_QUEUE_CAPACITY = 64

__all__ = ["Codex", "InternalAgentDied"]


class Codex:
    def __init__(
        self,
        session: Session,
        *,
        prompt_history: PromptHistory | None = None,
        compaction: CompactionSettings | None = None,
        review_model: str | None = None,
    ) -> None:
        self.session = session
        self.prompt_history = prompt_history
        self.compaction = compaction or CompactionSettings()
        # config.toml `review_model`: the reviewer's model (None: the thread's own).
        self.review_model = review_model
        # A running `Op::Compact` (also in `_side_tasks`, so Interrupt stops it); user
        # input that arrives meanwhile waits for it in `_deferred`.
        self._compacting: asyncio.Task[None] | None = None
        self._deferred: set[asyncio.Task[None]] = set()
        self._ids = itertools.count()
        # `start_turn` callers waiting to learn which turn their input went into.
        self._landing: dict[str, asyncio.Future[str]] = {}
        # `steer` callers: the turn id they expect ("" = whichever is running).
        self._steering: dict[str, str] = {}
        self._submissions: asyncio.Queue[Submission] = asyncio.Queue(SUBMISSION_QUEUE_CAPACITY)
        # Running `!cmd`s: never the active turn, so user input meanwhile still starts
        # (or joins) a model turn; Interrupt stops them too.
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._hub = EventHub()
        # Opened before the pump first runs, so it sees `SessionConfigured` (already queued).
        self._default = self._hub.subscribe()
        self._loop = asyncio.create_task(self._submission_loop(), name="codex-submission-loop")
        self._pump_task = asyncio.create_task(self._pump(), name="codex-event-pump")
        # The loop's end is the stream's end: the pump then hands out what is left.
        self._loop.add_done_callback(lambda _: self._pump_task.cancel())
        self._closed = False

    @property
    def thread_id(self) -> str:
        return self.session.thread_id

    async def submit(self, op: Op) -> str:
        if self._loop.done():
            raise InternalAgentDied("the agent loop has stopped")
        sub_id = str(next(self._ids))
        await self._submissions.put(Submission(id=sub_id, op=op))
        return sub_id

    async def start_turn(self, op: UserInputOp | UserTurnOp) -> str:
        """Submit user input and return the id of the turn it went into: a new turn, or
        the running one it joined (its next model request carries it)."""
        return await self._land(op, steer=None)

    async def steer(self, op: UserInputOp, expected_turn_id: str | None = None) -> str:
        """Add input to the running turn (`expected_turn_id`, when given, must be it); its
        id. Raises `NoActiveTurn` / `ActiveTurnMismatch`, decided when the op is handled."""
        return await self._land(op, steer=expected_turn_id or "")

    async def start_review(self, op: ReviewOp) -> str:
        """Start a review; the id of its turn. Raises `ThreadBusy` while a turn runs."""
        return await self._land(op, steer=None)

    async def _land(self, op: UserInputOp | UserTurnOp | ReviewOp, *, steer: str | None) -> str:
        if self._loop.done():
            raise InternalAgentDied("the agent loop has stopped")
        sub_id = str(next(self._ids))
        landed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._landing[sub_id] = landed  # before the op is queued: the loop may take it at once
        if steer is not None:
            self._steering[sub_id] = steer
        try:
            await self._submissions.put(Submission(id=sub_id, op=op))
            waiters: set[asyncio.Future[Any]] = {landed, self._loop}
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            if landed not in done:
                raise InternalAgentDied("the agent loop has stopped")
            return landed.result()
        finally:
            self._landing.pop(sub_id, None)
            self._steering.pop(sub_id, None)

    async def next_event(self) -> Event:
        """The next event of the default subscription. Raises `InternalAgentDied` when
        the thread has stopped and every event was read."""
        return await self._default.next()

    def subscribe(self, capacity: int = DEFAULT_CAPACITY) -> Subscription:
        """A new reader of this thread's events, from this moment on (see `.subscribers`)."""
        # Events emitted before this call but not yet pumped go to the earlier
        # subscribers only: the new one starts exactly here.
        self._publish_queued()
        return self._hub.subscribe(capacity)

    @property
    def subscriber_count(self) -> int:
        return self._hub.subscriber_count

    @property
    def running(self) -> bool:
        return not self._loop.done()

    @property
    def active_turn_id(self) -> str | None:
        """The id of the turn running now, if any."""
        active = self.session.active
        return active.turn_id if active is not None and not active.task.done() else None

    async def shutdown(self) -> None:
        """Submit Shutdown and wait for the loop to finish (idempotent)."""
        if not self._loop.done():
            await self.submit(ShutdownOp())
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        # Every event is with the subscribers once shutdown() returns.
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump_task

    # --- the event pump -----------------------------------------------------------------

    async def _pump(self) -> None:
        events = self.session.events
        try:
            while True:
                # Taking an event and publishing it happen in one step: `subscribe()`
                # can publish queued events itself without reordering them.
                self._hub.publish(await events.get())
        except asyncio.CancelledError:
            if not self._loop.done():
                raise  # cancelled from outside, not by the loop's end
        finally:
            self._publish_queued()
            self._hub.end()

    def _publish_queued(self) -> None:
        events = self.session.events
        while not events.empty():
            self._hub.publish(events.get_nowait())

    # --- the loop ---------------------------------------------------------------------

    async def _submission_loop(self) -> None:
        sess = self.session
        try:
            while True:
                sub = await self._submissions.get()
                op = sub.op
                if isinstance(op, ShutdownOp):
                    self._cancel_deferred()
                    await self._abort_active(TurnAbortReason.INTERRUPTED)
                    await self._cancel_side_tasks()
                    await self._close_services()
                    sess.emit(sub.id, ShutdownCompleteEvent())
                    return
                if isinstance(op, InterruptOp):
                    await self._abort_active(TurnAbortReason.INTERRUPTED)
                    await self._cancel_side_tasks()
                elif isinstance(op, RunUserShellCommandOp):
                    self._user_shell(sub.id, op)
                elif isinstance(op, UserInputOp | UserTurnOp):
                    self._user_input(sub.id, op)
                elif isinstance(op, OverrideTurnContextOp):
                    sess.settings = _apply_override(sess.settings, op)
                elif isinstance(op, ExecApprovalOp | PatchApprovalOp):
                    await self._on_approval(op)
                elif isinstance(op, ThreadRollbackOp):
                    await thread_ops.rollback(sess, sub.id, op)
                elif isinstance(op, AddToHistoryOp):
                    await thread_ops.add_to_history(self.prompt_history, sess, sub.id, op)
                elif isinstance(op, GetHistoryEntryRequestOp):
                    await thread_ops.get_history_entry(self.prompt_history, sess, sub.id, op)
                elif isinstance(op, CompactOp):
                    self._compact(sub.id)
                elif isinstance(op, ReviewOp):
                    self._review(sub.id, op)
                elif isinstance(op, UndoOp):
                    self._undo(sub.id)
                elif isinstance(op, ListCustomPromptsOp):
                    await self._list_custom_prompts(sub.id)
                else:
                    sess.emit(
                        sub.id,
                        ErrorEvent(message=f"operation `{op.type}` is not supported by this version of pycodex"),
                    )
        finally:
            self._cancel_deferred()
            await self._abort_active(TurnAbortReason.INTERRUPTED)
            await self._cancel_side_tasks()
            await self._close_services()

    def _user_input(self, sub_id: str, op: UserInputOp | UserTurnOp) -> None:
        sess = self.session
        compacting = self._compacting
        if compacting is not None and not compacting.done():
            # The next turn must start from the compacted history, not race it.
            self._after(compacting, lambda: self._user_input(sub_id, op))
            return
        if isinstance(op, UserTurnOp):
            sess.settings = SessionSettings(
                cwd=sess.settings.cwd if not op.cwd else _abs(op.cwd),
                model=op.model,
                approval_policy=op.approval_policy,
                sandbox_policy=op.sandbox_policy,
                reasoning_effort=op.effort.value if op.effort is not None else None,
                reasoning_summary=op.summary.value,
                verbosity=sess.settings.verbosity,
            )
        active = sess.active
        landing = self._landing.pop(sub_id, None)
        running = active is not None and not active.task.done()
        steer = self._steering.pop(sub_id, None)
        if steer is not None and landing is not None:
            refusal = _steer_refusal(steer, active.turn_id if running and active else None)
            if refusal is not None:
                landing.set_exception(refusal)
                return
        if active is not None and not active.task.done():
            # Mid-turn input goes out with the turn's next model request.
            active.pending_input.append(user_input_to_item(op.items))
            if landing is not None and not landing.done():
                landing.set_result(active.turn_id)
            return
        turn = TurnContext(
            sub_id=sub_id,
            turn_id=sess.new_turn_id(),
            settings=sess.settings,
            output_schema=op.final_output_json_schema,
            context_window=sess.context_window,
            compaction=self.compaction,
        )
        work = run_task if sess.mcp is None else _run_after_mcp_startup
        task = asyncio.create_task(work(sess, turn, list(op.items)), name=f"turn-{sub_id}")
        sess.active = ActiveTurn(sub_id=sub_id, task=task, turn_id=turn.turn_id)
        task.add_done_callback(self._turn_finished)
        if landing is not None and not landing.done():
            landing.set_result(turn.turn_id)

    def _compact(self, sub_id: str) -> None:
        """`Op::Compact`: a compaction task, run once the running turn (or compaction) ends."""
        from .compact import run_compact_task

        sess = self.session
        busy = [t for t in (self._compacting, sess.active.task if sess.active else None) if t and not t.done()]

        async def run() -> None:
            if busy:
                await asyncio.wait(busy)
            turn = TurnContext(
                sub_id=sub_id,
                turn_id=sess.new_turn_id(),
                settings=sess.settings,
                output_schema=None,
                context_window=sess.context_window,
                compaction=self.compaction,
            )
            await run_compact_task(sess, turn, release)

        def release() -> None:
            if self._compacting is task:
                self._compacting = None

        task = asyncio.create_task(run(), name=f"turn-{sub_id}")
        self._compacting = task
        self._side_tasks.add(task)
        task.add_done_callback(self._side_task_finished)

    def _busy(self) -> bool:
        active = self.session.active
        compacting = self._compacting
        return (active is not None and not active.task.done()) or (
            compacting is not None and not compacting.done()
        )

    def _review(self, sub_id: str, op: ReviewOp) -> None:
        """`Op::Review`: an isolated review turn (:mod:`.review`), the thread's active turn
        while it runs (Interrupt stops it; input meanwhile goes to the reviewer)."""
        from .review import run_review_task

        sess = self.session
        landing = self._landing.pop(sub_id, None)
        if self._busy():
            message = "a turn is running: wait for it or interrupt it before starting a review"
            if landing is not None and not landing.done():
                landing.set_exception(ThreadBusy(message))
            else:
                sess.emit(sub_id, ErrorEvent(message=message))
            return
        turn = TurnContext(
            sub_id=sub_id,
            turn_id=sess.new_turn_id(),
            settings=sess.settings,
            output_schema=None,
            context_window=sess.context_window,
        )
        task = asyncio.create_task(
            run_review_task(sess, turn, op.review_request, self.review_model), name=f"turn-{sub_id}"
        )
        sess.active = ActiveTurn(sub_id=sub_id, task=task, turn_id=turn.turn_id)
        task.add_done_callback(self._turn_finished)
        if landing is not None and not landing.done():
            landing.set_result(turn.turn_id)

    def _undo(self, sub_id: str) -> None:
        """`Op::Undo`: restore what the last turn that changed files changed (:mod:`.undo`)."""
        from .undo import run_undo_task

        if self._busy():
            self.session.emit(sub_id, ErrorEvent(message="a turn is running: interrupt it before undoing"))
            return
        task = asyncio.create_task(run_undo_task(self.session, sub_id), name=f"turn-{sub_id}")
        self._side_tasks.add(task)
        task.add_done_callback(self._side_task_finished)

    async def _list_custom_prompts(self, sub_id: str) -> None:
        from pycodex.config.home import pycodex_home
        from pycodex.context.prompts_custom import discover_prompts
        from pycodex.protocol.events import CustomPrompt, ListCustomPromptsResponseEvent

        home = pycodex_home(self.session.services.base_env)
        found = await asyncio.to_thread(discover_prompts, home / "prompts")
        prompts = [
            CustomPrompt(name=p.name, path=str(p.path), content=p.content,
                         description=p.description, argument_hint=p.argument_hint)
            for p in found
        ]
        self.session.emit(sub_id, ListCustomPromptsResponseEvent(custom_prompts=prompts))

    def _after(self, task: asyncio.Task[None], then: Callable[[], None]) -> None:
        """Call `then` once `task` ended, however it ended."""

        async def wait() -> None:
            await asyncio.wait([task])
            then()

        waiter = asyncio.create_task(wait())
        self._deferred.add(waiter)
        waiter.add_done_callback(self._deferred.discard)

    def _cancel_deferred(self) -> None:
        # Shutting down: input waiting for a compaction must not start a turn now.
        for waiter in list(self._deferred):
            waiter.cancel()

    def _user_shell(self, sub_id: str, op: RunUserShellCommandOp) -> None:
        """`!cmd`: reported as a task of its own when no turn runs; alongside the running
        turn otherwise (its record then joins that turn's next request)."""
        from .user_shell import run_user_shell_command

        sess = self.session
        turn = TurnContext(
            sub_id=sub_id,
            turn_id=sess.new_turn_id(),
            settings=sess.settings,
            output_schema=None,
            context_window=sess.context_window,
        )
        active = sess.active
        standalone = active is None or active.task.done()
        task = asyncio.create_task(
            run_user_shell_command(sess, turn, op.command, standalone=standalone),
            name=f"turn-{sub_id}",
        )
        self._side_tasks.add(task)
        task.add_done_callback(self._side_task_finished)

    def _side_task_finished(self, task: asyncio.Task[None]) -> None:
        self._side_tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.session.emit(task.get_name().removeprefix("turn-"), ErrorEvent(message=f"internal error: {exc!r}"))

    async def _cancel_side_tasks(self) -> None:
        tasks = list(self._side_tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _on_approval(self, op: ExecApprovalOp | PatchApprovalOp) -> None:
        found = self.session.approvals.answer(op.id, op.decision)
        if found and op.decision is ReviewDecision.ABORT:
            # `abort` ends the whole turn (SAFE-02), like an interrupt.
            await self._abort_active(TurnAbortReason.INTERRUPTED)

    def _turn_finished(self, task: asyncio.Task[None]) -> None:
        sess = self.session
        if sess.active is not None and sess.active.task is task:
            sess.active = None
        if not task.cancelled() and (exc := task.exception()) is not None:
            # The turn failed even to report its own failure: say so, and end it.
            sub_id = task.get_name().removeprefix("turn-")
            sess.emit(sub_id, ErrorEvent(message=f"internal error: {describe_failure(exc)}"))
            sess.emit(sub_id, TaskCompleteEvent(last_agent_message=None))

    async def _abort_active(self, reason: TurnAbortReason) -> None:
        active = self.session.active
        if active is None or active.task.done():
            return
        active.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await active.task
        if reason is not TurnAbortReason.INTERRUPTED:
            self.session.emit(active.sub_id, TurnAbortedEvent(reason=reason))

    async def _close_services(self) -> None:
        if self._closed:
            return
        self._closed = True
        shell = self.session.shell_if_started
        if shell is not None:
            await shell.close()  # every process session dies with the thread
        if self.session.mcp is not None:
            await self.session.mcp.close()  # and every MCP server
        self.session.notifier.close()  # reap finished notifiers; running ones finish alone
        services = self.session.services
        await services.client.aclose()
        if services.recorder is not None:
            try:
                await asyncio.to_thread(services.recorder.close)
            except OSError as exc:
                self.session.emit("", ErrorEvent(message=f"Failed to shutdown rollout recorder: {exc}"))


async def _run_after_mcp_startup(sess: Session, turn: TurnContext, items: list[UserInput]) -> None:
    """A turn whose tools include the MCP servers' once they are up (or have failed):
    each server gives up after its `startup_timeout_sec`, so this wait is bounded."""
    assert sess.mcp is not None
    try:
        await sess.mcp.wait_startup()
    except asyncio.CancelledError:
        # Interrupted before the turn began: still a turn that ended, for the client.
        sess.emit(turn.sub_id, TurnAbortedEvent(turn_id=turn.turn_id, reason=TurnAbortReason.INTERRUPTED))
        raise
    await run_task(sess, turn, items)


class ThreadBusy(Exception):
    """The thread is running a turn and cannot start this now."""


class NoActiveTurn(Exception):
    """Steering input arrived with no turn running."""


class ActiveTurnMismatch(Exception):
    """Steering input named a turn other than the running one."""


def _steer_refusal(expected: str, running: str | None) -> Exception | None:
    if running is None:
        return NoActiveTurn("no active turn to steer")
    if expected and expected != running:
        return ActiveTurnMismatch(f"expected active turn id `{expected}` but found `{running}`")
    return None


def _abs(path: str) -> Path:
    return Path(path).resolve()


def _apply_override(settings: SessionSettings, op: OverrideTurnContextOp) -> SessionSettings:
    effort: str | None = settings.reasoning_effort
    if op.sets("effort"):
        effort = op.effort.value if isinstance(op.effort, ReasoningEffort) else None
    return SessionSettings(
        cwd=_abs(op.cwd) if op.cwd else settings.cwd,
        model=op.model or settings.model,
        approval_policy=op.approval_policy or settings.approval_policy,
        sandbox_policy=op.sandbox_policy or settings.sandbox_policy,
        reasoning_effort=effort,
        # Absent (UNSET) or null: keep the current summary setting.
        reasoning_summary=(
            op.summary.value if isinstance(op.summary, ReasoningSummary) else settings.reasoning_summary
        ),
        verbosity=settings.verbosity,
    )
