"""The turn loop: request, run the tools the model asked for, feed results back, repeat.

A task ends when a model response asks for no tool call. Tool calls of one response run
concurrently and their outputs are recorded in call order. Calls start only once the
response is complete: a stream that breaks and is retried must not have already run
`git commit` or `rm` from its discarded half.
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import sys
import time
from pathlib import Path

import msgspec

from pycodex.client.errors import ModelClientError
from pycodex.client.events import (
    Completed,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    RateLimits,
    ReasoningContentDelta,
    ReasoningSummaryDelta,
    ReasoningSummaryPartAdded,
    StreamRetry,
    WebSearchCallBegin,
)
from pycodex.client.events import TokenUsage as ClientTokenUsage
from pycodex.client.prompt import ModelSettings, Prompt
from pycodex.protocol.events import (
    AgentMessageDeltaEvent,
    AgentMessageEvent,
    AgentReasoningDeltaEvent,
    AgentReasoningEvent,
    AgentReasoningRawContentDeltaEvent,
    AgentReasoningSectionBreakEvent,
    ErrorEvent,
    EventMsg,
    StreamErrorEvent,
    TaskCompleteEvent,
    TaskStartedEvent,
    TokenCountEvent,
    TurnAbortedEvent,
    TurnAbortReason,
    TurnDiffEvent,
    WarningEvent,
    WebSearchBeginEvent,
    WebSearchEndEvent,
)
from pycodex.protocol.items import TurnItem
from pycodex.protocol.models import (
    ContentItem,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputImage,
    InputText,
    LocalShellCallItem,
    MessageItem,
    ReasoningItem,
    ResponseItem,
    WebSearchCallItem,
)
from pycodex.protocol.tokens import RateLimitSnapshot, TokenUsage
from pycodex.protocol.user_input import ImageInput, LocalImageInput, TextInput, UserInput
from pycodex.rollout.recorder import RolloutLine
from pycodex.tools.base import RespondToModel, ToolCall, ToolOutput
from pycodex.tools.router import ToolResponse, ToolRouter, response_for

from .compact import CompactionFailed, auto_compact_if_needed
from .items import TurnItems, user_message_event
from .model_info import effective_reasoning_effort, effective_verbosity
from .notify import agent_turn_complete_payload
from .session import Session
from .turn_context import TurnContext
from .turn_diff import TurnDiffTracker

ABORTED_OUTPUT = "aborted by user"


class SamplingResult(msgspec.Struct):
    needs_follow_up: bool
    last_agent_message: str | None


class _ResponseState(msgspec.Struct):
    """What one streamed response produced so far (reset when the stream is retried)."""

    items: list[ResponseItem] = msgspec.field(default_factory=list)
    calls: list[ToolCall] = msgspec.field(default_factory=list)
    # Calls that could not even be parsed get their answer right away.
    immediate: dict[str, ToolResponse] = msgspec.field(default_factory=dict)
    last_agent_message: str | None = None
    # Finished model output (its older-style events and its turn item), announced only
    # once the response completes: a stream cut after an item finished but before the
    # response did is retried, and must not show that item twice.
    finished: list[tuple[list[EventMsg], TurnItem]] = msgspec.field(default_factory=list)
    # `total_tokens` the provider reported for this response (input + output).
    context_tokens: int | None = None


def user_input_to_item(items: list[UserInput]) -> MessageItem:
    content: list[ContentItem] = []
    local_images = 0
    for item in items:
        if isinstance(item, TextInput):
            content.append(InputText(text=item.text))
        elif isinstance(item, ImageInput):
            content.append(InputImage(image_url=item.image_url))
        elif isinstance(item, LocalImageInput):
            local_images += 1
            content.extend(_local_image(Path(item.path), local_images))
    return MessageItem(role="user", content=content)


def _local_image(path: Path, number: int) -> list[ContentItem]:
    """A file attachment framed as Codex frames it, so the model can refer to it by name
    and path: `<image name=[Image #N] path="...">`, the image (full detail), `</image>`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        # The model should know an attachment went missing rather than silently lack it.
        return [InputText(text=f"[image {path} could not be read: {exc.strerror}]")]
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return [
        InputText(text=f'<image name=[Image #{number}] path="{path}">'),
        InputImage(
            image_url=f"data:{mime};base64,{base64.b64encode(data).decode()}", detail="high"
        ),
        InputText(text="</image>"),
    ]


def _notify_turn_complete(
    sess: Session, turn: TurnContext, user_items: list[UserInput], last_agent_message: str | None
) -> None:
    if not sess.notifier.enabled:
        return
    payload = agent_turn_complete_payload(
        thread_id=sess.thread_id,
        turn_id=turn.turn_id,
        cwd=str(turn.cwd),
        input_messages=[i.text for i in user_items if isinstance(i, TextInput)],
        last_assistant_message=last_agent_message,
    )
    if (problem := sess.notifier.notify(payload)) is not None:
        sess.emit(turn.sub_id, WarningEvent(message=problem))


def _to_protocol_usage(usage: ClientTokenUsage) -> TokenUsage:
    return TokenUsage(
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_output_tokens=usage.reasoning_output_tokens,
        total_tokens=usage.total_tokens,
    )


async def run_task(sess: Session, turn: TurnContext, user_items: list[UserInput]) -> None:
    """Run one user turn to completion, abort, or failure. Emits every event of the turn."""
    started = time.time()
    sess.emit(
        turn.sub_id,
        TaskStartedEvent(
            turn_id=turn.turn_id, started_at=int(started), model_context_window=turn.context_window
        ),
    )
    router = sess.tool_router(turn)
    turn_diff = TurnDiffTracker(turn.cwd)
    last_agent_message: str | None = None
    try:
        env_update = sess.environment_update(turn.settings)
        if env_update is not None:
            sess.record_items([env_update])
        sess.record_items([user_input_to_item(user_items)])
        sess.emit(turn.sub_id, user_message_event(user_items))
        sess.items_for(turn).user_message(user_items)
        compacted = False  # at most one automatic compaction per turn
        while True:
            # Before each request (the first too): the turn's own pending input stays
            # queued and goes out after the compacted history.
            compacted = await auto_compact_if_needed(sess, turn, already=compacted) or compacted
            active = sess.active
            if active is not None and active.pending_input:
                pending, active.pending_input = active.pending_input, []
                sess.record_items(pending)
            result = await run_sampling_request(sess, turn, router, turn_diff)
            if result.last_agent_message is not None:
                last_agent_message = result.last_agent_message
            if not result.needs_follow_up and not _has_pending_input(sess):
                _notify_turn_complete(sess, turn, user_items, last_agent_message)
                break
    except asyncio.CancelledError:
        _answer_dangling_calls(sess)
        # Interactive processes this turn started die with it; older ones live on.
        if sess.shell_if_started is not None:
            await sess.shell_if_started.processes.terminate_started_in(turn.turn_id)
        # Not the active turn any more once it says it ended: a client that reacts to
        # TurnAborted must find no turn to steer into.
        _release_turn(sess)
        await _snapshot_after_turn(sess, turn)
        sess.emit(turn.sub_id, TurnAbortedEvent(turn_id=turn.turn_id, reason=TurnAbortReason.INTERRUPTED))
        sess.end_items(turn)
        await sess.flush()
        raise
    except ModelClientError as exc:
        sess.emit(turn.sub_id, ErrorEvent(message=str(exc)))
    except CompactionFailed as exc:
        sess.emit(turn.sub_id, ErrorEvent(message=str(exc)))
    except Exception as exc:  # a bug or an unexpected failure: end the turn, never hang
        await _end_after_failure(sess, turn, exc)
    sess.report_index_problems(turn.sub_id)
    _release_turn(sess)
    await _snapshot_after_turn(sess, turn)
    sess.end_items(turn)
    sess.emit(
        turn.sub_id,
        TaskCompleteEvent(
            turn_id=turn.turn_id,
            last_agent_message=last_agent_message,
            started_at=int(started),
            completed_at=int(time.time()),
            duration_ms=int((time.time() - started) * 1000),
        ),
    )
    await sess.flush()


async def _end_after_failure(sess: Session, turn: TurnContext, exc: Exception) -> None:
    """What an interrupt does (calls answered, the turn's processes stopped), then one
    line saying what went wrong; the turn completes with that error."""
    _answer_dangling_calls(sess)
    if sess.shell_if_started is not None:
        await sess.shell_if_started.processes.terminate_started_in(turn.turn_id)
    sess.emit(turn.sub_id, ErrorEvent(message=f"internal error: {describe_failure(exc)}"))


async def _snapshot_before_tools(sess: Session, turn: TurnContext, calls: list[ToolCall]) -> None:
    """Snapshot the working tree before the turn's first tool may change it (for undo);
    imported here, so a turn that runs no tool never loads the snapshot machinery."""
    from .undo import snapshot_before_tools

    await snapshot_before_tools(sess, turn, calls)


def _begin_after_snapshot(sess: Session, turn: TurnContext) -> None:
    """The tools of this round are done: the "after" snapshot may start (see `.undo`)."""
    undo = sys.modules.get("pycodex.core.undo")
    if undo is not None:
        undo.begin_after_snapshot(sess, turn)


async def _snapshot_after_turn(sess: Session, turn: TurnContext) -> None:
    """The turn's second snapshot, if it took a first (only then is `.undo` loaded)."""
    undo = sys.modules.get("pycodex.core.undo")
    if undo is not None:
        await undo.snapshot_after_turn(sess, turn)


def describe_failure(exc: BaseException) -> str:
    """`TypeName: message` of the first real failure (task groups wrap theirs)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _has_pending_input(sess: Session) -> bool:
    """User input that arrived during the last request: it gets a request of its own."""
    active = sess.active
    return active is not None and bool(active.pending_input)


def _release_turn(sess: Session) -> None:
    """Stop taking mid-turn input before announcing the end of the task.

    A client that sends its next message as soon as it sees TaskComplete must start a
    new turn, not be queued into this one while it still flushes (and be lost).
    """
    active = sess.active
    if active is not None and active.task is asyncio.current_task():
        sess.active = None


def _answer_dangling_calls(sess: Session) -> None:
    """Give every unanswered call in history an 'aborted' output.

    The Responses API rejects a history with a call but no output, so without this an
    interrupted turn would make every later request of the thread fail.
    """
    answered = {
        item.call_id
        for item in sess.history
        if isinstance(item, FunctionCallOutputItem | CustomToolCallOutputItem)
    }
    missing: list[ResponseItem] = []
    for item in sess.history:
        call = None
        try:
            call = ToolRouter.to_call(item)
        except RespondToModel:
            continue
        if call is not None and call.call_id not in answered:
            missing.append(response_for(call, ToolOutput(text=ABORTED_OUTPUT, success=False)))
    if missing:
        sess.record_items(missing)


async def run_sampling_request(
    sess: Session, turn: TurnContext, router: ToolRouter, turn_diff: TurnDiffTracker | None = None
) -> SamplingResult:
    """One model request (with the client's retries) and the tool calls it asked for.

    With a `turn_diff` tracker, patches record into it and a `TurnDiff` event follows the
    tool outputs whenever the task's diff changed.
    """
    sess.persist([RolloutLine("turn_context", _turn_context_payload(turn))])
    state, usage = await _stream_response(sess, turn, _prompt_for(sess, turn, router))
    sess.record_items(state.items)
    if state.context_tokens is not None:
        # The provider's count of everything up to this response: what auto-compaction
        # measures from (plus estimates of what is appended after it).
        sess.history.mark_usage(state.context_tokens)
    if not state.calls:
        await _after_response(sess, turn, usage, turn_diff)
        return SamplingResult(needs_follow_up=False, last_agent_message=state.last_agent_message)
    await _snapshot_before_tools(sess, turn, state.calls)
    try:
        outputs = await _answer_calls(sess, turn, router, state, turn_diff)
    except asyncio.CancelledError:
        if usage is not None:  # interrupted while its tools ran: the response still counted
            sess.emit(turn.sub_id, usage)
        raise
    sess.record_items(outputs)
    _begin_after_snapshot(sess, turn)
    if turn_diff is not None and turn_diff.touched:
        diff = await asyncio.to_thread(turn_diff.take_changed_diff)
        if diff is not None:
            sess.emit(turn.sub_id, TurnDiffEvent(unified_diff=diff))
    await _after_response(sess, turn, usage, turn_diff)
    return SamplingResult(needs_follow_up=True, last_agent_message=state.last_agent_message)


def _prompt_for(sess: Session, turn: TurnContext, router: ToolRouter) -> Prompt:
    settings = turn.settings
    return Prompt(
        input=sess.history.for_request(),
        tools=router.specs(),
        parallel_tool_calls=True,
        output_schema=turn.output_schema,
        settings=ModelSettings(
            model=settings.model,
            reasoning_effort=effective_reasoning_effort(settings.model, settings.reasoning_effort),
            reasoning_summary=settings.reasoning_summary,
            verbosity=effective_verbosity(settings.model, settings.verbosity),
            complete=True,
        ),
    )


async def _stream_response(
    sess: Session, turn: TurnContext, prompt: Prompt
) -> tuple[_ResponseState, TokenCountEvent | None]:
    """The model's response, its items announced as they finish; a retry starts over.
    Returns what it said and the usage event, announced once its tool calls are answered,
    as Codex does (the usage itself is counted at once)."""
    state = _ResponseState()
    items = sess.items_for(turn)
    usage: TokenCountEvent | None = None
    async for event in sess.services.client.stream(prompt):
        if isinstance(event, StreamRetry):
            items.abandon_stream([item for _, item in state.finished])
            state = _ResponseState()
            sess.emit(
                turn.sub_id,
                StreamErrorEvent(
                    message=f"Reconnecting... {event.attempt}/{event.max_attempts} ({event.message})"
                ),
            )
        elif isinstance(event, OutputItemDone):
            _on_item_done(sess, turn, items, state, event.item)
        elif isinstance(event, Completed):
            _announce_finished(sess, turn, items, state)
            info = None
            if event.token_usage is not None:
                info = sess.add_usage(_to_protocol_usage(event.token_usage))
                state.context_tokens = event.token_usage.total_tokens
            usage = TokenCountEvent(info=info or sess.token_info, rate_limits=sess.rate_limits)
        else:
            _on_stream_event(sess, turn, items, event)
    _announce_finished(sess, turn, items, state)
    return state, usage


async def _answer_calls(
    sess: Session,
    turn: TurnContext,
    router: ToolRouter,
    state: _ResponseState,
    turn_diff: TurnDiffTracker | None,
) -> list[ToolResponse]:
    """Every tool call of the response, run concurrently; their outputs in call order."""
    items = sess.items_for(turn)
    ctx = sess.tool_context(turn)
    ctx.turn_diff = turn_diff

    async def answer(call: ToolCall) -> ToolResponse:
        if call.call_id in state.immediate:
            return state.immediate[call.call_id]
        try:
            return await router.dispatch(call, ctx)
        finally:
            items.call_finished(call.call_id)

    # A TaskGroup, not gather: if one call fails outright (a bug), its siblings are
    # cancelled and awaited rather than left running unobserved; the turn then ends.
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(answer(call)) for call in state.calls]
    return [task.result() for task in tasks]


async def _after_response(
    sess: Session, turn: TurnContext, usage: TokenCountEvent | None, turn_diff: TurnDiffTracker | None
) -> None:
    """The response's usage; then, once the turn has changed files, its whole diff again
    (as Codex repeats it after every response, so a client that missed one catches up)."""
    if usage is not None:
        sess.emit(turn.sub_id, usage)
    if turn_diff is not None and turn_diff.touched:
        diff = await asyncio.to_thread(turn_diff.unified_diff)
        if diff:
            sess.emit(turn.sub_id, TurnDiffEvent(unified_diff=diff))


def _on_stream_event(sess: Session, turn: TurnContext, items: TurnItems, event: object) -> None:
    """Deltas and progress of the response in flight: shown as they arrive."""
    if isinstance(event, OutputItemAdded):
        added = event.item
        if isinstance(added, ReasoningItem) or (isinstance(added, MessageItem) and added.role == "assistant"):
            items.output_item_added(added)
    elif isinstance(event, OutputTextDelta):
        sess.emit(turn.sub_id, AgentMessageDeltaEvent(delta=event.delta))
        items.agent_text_delta(event.item_id, event.delta)
    elif isinstance(event, ReasoningSummaryDelta):
        sess.emit(turn.sub_id, AgentReasoningDeltaEvent(delta=event.delta))
        items.reasoning_delta(event.delta, index=event.summary_index, raw=False)
    elif isinstance(event, ReasoningSummaryPartAdded):
        sess.emit(turn.sub_id, AgentReasoningSectionBreakEvent())
    elif isinstance(event, ReasoningContentDelta):
        if sess.services.show_raw_agent_reasoning:
            sess.emit(turn.sub_id, AgentReasoningRawContentDeltaEvent(delta=event.delta))
            items.reasoning_delta(event.delta, index=event.content_index, raw=True)
    elif isinstance(event, WebSearchCallBegin):
        sess.emit(turn.sub_id, WebSearchBeginEvent(call_id=event.call_id))
        items.web_search_begin(event.call_id)
    elif isinstance(event, RateLimits):
        sess.rate_limits = RateLimitSnapshot.from_wire(msgspec.to_builtins(event.snapshot))


def _on_item_done(
    sess: Session, turn: TurnContext, items: TurnItems, state: _ResponseState, item: ResponseItem
) -> None:
    state.items.append(item)
    if isinstance(item, FunctionCallItem | CustomToolCallItem | LocalShellCallItem):
        try:
            call = ToolRouter.to_call(item)
        except RespondToModel as exc:
            call_id = getattr(item, "call_id", None) or getattr(item, "id", None) or ""
            fallback = ToolCall(name="shell", call_id=call_id, kind="function", payload="")
            state.calls.append(fallback)
            state.immediate[call_id] = response_for(fallback, ToolOutput(text=str(exc), success=False))
            return
        if call is not None:
            state.calls.append(call)
        return
    legacy: list[EventMsg]
    if isinstance(item, MessageItem) and item.role == "assistant":
        text = item.text()
        state.last_agent_message = text
        legacy = [AgentMessageEvent(message=text)]
    elif isinstance(item, ReasoningItem):
        legacy = [AgentReasoningEvent(text=part.text) for part in item.summary]
    elif isinstance(item, WebSearchCallItem):
        action = item.action or {}
        query = action.get("query") if isinstance(action.get("query"), str) else ""
        legacy = [WebSearchEndEvent(call_id=item.id or "", query=query or "", action=item.action or None)]
    else:
        return
    finished = items.finish_output_item(item)
    if isinstance(item, ReasoningItem):
        # Reasoning is over once its item is done: shown as finished while the answer
        # streams, as Codex does. (Answers wait for `response.completed`: a stream cut
        # after an answer is retried, and the answer must not show twice.)
        for msg in legacy:
            sess.emit(turn.sub_id, msg)
        items.complete(finished)
        return
    state.finished.append((legacy, finished))


def _announce_finished(sess: Session, turn: TurnContext, items: TurnItems, state: _ResponseState) -> None:
    finished, state.finished = state.finished, []
    for legacy, item in finished:
        for msg in legacy:
            sess.emit(turn.sub_id, msg)
        items.complete(item)


def _turn_context_payload(turn: TurnContext) -> dict[str, object]:
    s = turn.settings
    return {
        "turn_id": turn.turn_id,
        "cwd": str(s.cwd),
        "approval_policy": s.approval_policy.value,
        "sandbox_policy": s.sandbox_policy.to_wire(),
        "model": s.model,
        "effort": s.reasoning_effort,
        "summary": s.reasoning_summary or "none",
    }
