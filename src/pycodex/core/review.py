"""`Op::Review`: a code review run as an isolated child turn of the thread.

The reviewer is a child session (:class:`ReviewSession`) sharing the parent's model
client, shell, approvals and sandbox, but with a history of its own: its base
instructions are pycodex's review instructions (no AGENTS.md), its first message is the
target with its diff (:mod:`pycodex.context.review_target`), its model is
`review_model` (the thread's model when unset) at low reasoning effort, without web
search or image viewing. Nothing it sees or says enters the parent's history.

The parent turn reads: TaskStarted, `EnteredReviewMode` (event and item), the reviewer's
tool activity (its messages are hidden: they are the raw JSON answer), then
`ExitedReviewMode` with the parsed findings, an agent message with the rendered review,
TaskComplete. The parent history gains exactly one message, the `<user_action>` summary
(:func:`pycodex.context.review_output.review_summary_message`), so a later turn can act on
the findings. An interrupted review exits review mode saying so, then TurnAborted.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import msgspec

from pycodex.client.errors import ModelClientError
from pycodex.context.review_output import (
    INTERRUPTED_TEXT,
    parse_review_output,
    render_review,
    review_summary_message,
)
from pycodex.context.review_prompt import REVIEW_INSTRUCTIONS
from pycodex.context.review_target import ReviewTargetError, build_review_task
from pycodex.ids import uuid7
from pycodex.protocol.events import (
    AgentMessageContentDeltaEvent,
    AgentMessageDeltaEvent,
    AgentMessageEvent,
    EnteredReviewModeEvent,
    ErrorEvent,
    EventMsg,
    ExitedReviewModeEvent,
    ItemCompletedEvent,
    ItemStartedEvent,
    TaskCompleteEvent,
    TaskStartedEvent,
    TokenCountEvent,
    TurnAbortedEvent,
    TurnAbortReason,
)
from pycodex.protocol.items import (
    AgentMessageText,
    AgentMessageTurnItem,
    EnteredReviewModeTurnItem,
    ExitedReviewModeTurnItem,
)
from pycodex.protocol.models import user_message
from pycodex.protocol.review import ReviewOutput, ReviewRequest

from .session import Session
from .turn import run_sampling_request
from .turn_context import TurnContext

if TYPE_CHECKING:
    from pycodex.process.runtime import ShellRuntime

REVIEW_EFFORT = "low"


class ReviewSession(Session):
    """The reviewer: its own history; the parent's services, shell and approvals; every
    event it emits goes to the parent's stream, except its own messages."""

    # The reviewer changes no files: no undo snapshots around its tools.
    is_review = True

    def __init__(self, parent: Session, turn: TurnContext) -> None:
        services = parent.services
        services = msgspec.structs.replace(
            services,
            recorder=None,  # the reviewer's history is not the thread's record
            web_search="disabled",
            tools=msgspec.structs.replace(services.tools, view_image=False),
            notify=None,
        )
        super().__init__(
            thread_id=parent.thread_id,
            settings=turn.settings,
            services=services,
            base_instructions=REVIEW_INSTRUCTIONS,
            user_instructions=None,
            developer_instructions=None,
            writable_roots=parent.writable_roots,
            context_window=parent.context_window,
        )
        self.parent = parent
        self.approvals = parent.approvals  # answers to approval requests arrive at the parent

    @property
    def shell(self) -> ShellRuntime:
        return self.parent.shell

    @property
    def shell_if_started(self) -> ShellRuntime | None:
        return self.parent.shell_if_started

    def emit(self, sub_id: str, msg: EventMsg) -> None:
        if _reviewer_message(msg):
            return
        if isinstance(msg, TokenCountEvent) and msg.info is not None:
            # What the reviewer spent counts in the thread's total; the parent's context
            # (last usage) is not the reviewer's.
            parent = self.parent
            parent.token_info = (
                msg.info
                if parent.token_info is None
                else msgspec.structs.replace(
                    parent.token_info,
                    total_token_usage=parent.token_info.total_token_usage + msg.info.last_token_usage,
                )
            )
            msg = TokenCountEvent(info=parent.token_info, rate_limits=msg.rate_limits)
        self.parent.emit(sub_id, msg)


def _reviewer_message(msg: EventMsg) -> bool:
    if isinstance(msg, AgentMessageEvent | AgentMessageDeltaEvent | AgentMessageContentDeltaEvent):
        return True
    return isinstance(msg, ItemStartedEvent | ItemCompletedEvent) and isinstance(msg.item, AgentMessageTurnItem)


def review_turn(turn: TurnContext, review_model: str | None) -> TurnContext:
    """The reviewer's turn: same ids, cwd, sandbox and approvals; its model, low effort."""
    settings = msgspec.structs.replace(
        turn.settings, model=review_model or turn.settings.model, reasoning_effort=REVIEW_EFFORT
    )
    return msgspec.structs.replace(turn, settings=settings, output_schema=None)


async def run_review_task(
    sess: Session, turn: TurnContext, request: ReviewRequest, review_model: str | None
) -> None:
    """The whole review task (see the module docstring)."""
    started = time.time()
    sess.emit(
        turn.sub_id,
        TaskStartedEvent(turn_id=turn.turn_id, started_at=int(started), model_context_window=turn.context_window),
    )
    rendered: str | None = None
    try:
        task = await asyncio.to_thread(build_review_task, request, turn.cwd)
    except ReviewTargetError as exc:
        sess.emit(turn.sub_id, ErrorEvent(message=f"cannot start the review: {exc}"))
    else:
        hint = task.hint
        sess.emit(turn.sub_id, EnteredReviewModeEvent(target=request.target, prompt=request.prompt, user_facing_hint=hint))
        entered = EnteredReviewModeTurnItem(id=uuid7(), review=hint)
        sess.items_for(turn).start(entered)
        sess.items_for(turn).complete(entered)
        rendered = await _review(sess, turn, task.prompt, review_model)
    _release(sess)
    sess.end_items(turn)
    sess.emit(
        turn.sub_id,
        TaskCompleteEvent(
            turn_id=turn.turn_id,
            last_agent_message=rendered,
            started_at=int(started),
            completed_at=int(time.time()),
            duration_ms=int((time.time() - started) * 1000),
        ),
    )
    await sess.flush()


async def _review(sess: Session, turn: TurnContext, prompt: str, review_model: str | None) -> str:
    """Run the reviewer and exit review mode; the rendered review."""
    child_turn = review_turn(turn, review_model)
    child = ReviewSession(sess, child_turn)
    try:
        answer = await _run_reviewer(sess, child, child_turn, prompt)
    except asyncio.CancelledError:
        if sess.shell_if_started is not None:
            await sess.shell_if_started.processes.terminate_started_in(turn.turn_id)
        _release(sess)
        exit_review_mode(sess, turn, None)
        sess.emit(turn.sub_id, TurnAbortedEvent(turn_id=turn.turn_id, reason=TurnAbortReason.INTERRUPTED))
        sess.end_items(turn)
        await sess.flush()
        raise
    except ModelClientError as exc:
        sess.emit(turn.sub_id, ErrorEvent(message=f"review failed: {exc}"))
        return exit_review_mode(sess, turn, None)
    return exit_review_mode(sess, turn, parse_review_output(answer or "", turn.cwd))


async def _run_reviewer(sess: Session, child: ReviewSession, turn: TurnContext, prompt: str) -> str | None:
    """The reviewer's loop: request, tools, repeat until it answers; its last message."""
    child.history.append(child.initial_context())
    child.history.append([user_message(prompt)])
    router = child.tool_router(turn)
    last: str | None = None
    while True:
        _take_pending_input(sess, child)
        result = await run_sampling_request(child, turn, router)
        if result.last_agent_message is not None:
            last = result.last_agent_message
        if not result.needs_follow_up and not _pending(sess):
            return last


def _pending(sess: Session) -> bool:
    return sess.active is not None and bool(sess.active.pending_input)


def _take_pending_input(sess: Session, child: ReviewSession) -> None:
    """Input the user sent during the review goes to the reviewer (Codex does the same)."""
    active = sess.active
    if active is not None and active.pending_input:
        pending, active.pending_input = active.pending_input, []
        child.history.append(pending)


def exit_review_mode(sess: Session, turn: TurnContext, output: ReviewOutput | None) -> str:
    """Leave review mode: the parent's one summary message, ExitedReviewMode (event and
    item) and the rendered review as the turn's agent message; returns that text."""
    text = INTERRUPTED_TEXT if output is None else render_review(output)
    sess.record_items([user_message(review_summary_message(output))])
    sess.emit(turn.sub_id, ExitedReviewModeEvent(review_output=output))
    items = sess.items_for(turn)
    exited = ExitedReviewModeTurnItem(id=uuid7(), review=text)
    items.start(exited)
    items.complete(exited)
    # Shown as the turn's answer (exec prints it), never recorded in the parent history.
    sess.emit(turn.sub_id, AgentMessageEvent(message=text))
    message = AgentMessageTurnItem(id=uuid7(), content=[AgentMessageText(text=text)])
    items.start(message)
    items.complete(message)
    return text


def _release(sess: Session) -> None:
    """Stop being the active turn before announcing the end (as the turn loop does)."""
    active = sess.active
    if active is not None and active.task is asyncio.current_task():
        sess.active = None
