"""Running a compaction: ask for a summary, install the shrunk history, record it.

Manual (`Op::Compact`: :func:`run_compact_task`, a task of its own) or automatic (the turn
loop calls :func:`auto_compact_if_needed` before each model request). Either way:

* a `ContextCompaction` turn item is started; the summary comes from the provider's
  `/responses/compact` when it has one (:mod:`pycodex.client.compact_remote`), else — or
  when that answers 404 — from one ordinary model request with our summarisation prompt,
  on whichever wire API the provider speaks;
* a request that overflows the window is retried with the oldest tool outputs emptied
  (:mod:`pycodex.context.compaction_trim`), and fails with a clear error when nothing is
  left to empty;
* the replacement (:func:`pycodex.context.compaction.build_replacement`) is installed
  only if it is not bigger than what it replaces, recorded as a `compacted` rollout line
  carrying the whole replacement history (resume and fork rebuild exactly it), and
  announced by `ContextCompacted`, the completed item, and a `TokenCount` whose
  `last_token_usage` is the new size, so a front end shows the room regained.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from pycodex.client.client import ModelClient
from pycodex.client.compact_remote import (
    RemoteCompactionUnsupported,
    compact_remotely,
    remote_compaction_known_unsupported,
)
from pycodex.client.errors import ContextWindowExceeded, ModelClientError
from pycodex.client.events import Completed, OutputItemDone, StreamRetry
from pycodex.client.prompt import ModelSettings, Prompt
from pycodex.config.config import Config
from pycodex.config.providers import OPENAI_PROVIDER_ID
from pycodex.context.compaction import CompactionSettings, build_replacement
from pycodex.context.compaction_prompt import request_text, summary_text
from pycodex.context.compaction_trim import drop_oldest_tool_outputs, fit_to_window
from pycodex.ids import uuid7
from pycodex.protocol.events import (
    ContextCompactedEvent,
    ErrorEvent,
    TaskCompleteEvent,
    TaskStartedEvent,
    TokenCountEvent,
    TurnAbortedEvent,
    TurnAbortReason,
    WarningEvent,
)
from pycodex.protocol.items import ContextCompactionTurnItem
from pycodex.protocol.models import InputText, MessageItem, ResponseItem, item_to_wire
from pycodex.protocol.tokens import TokenUsage, TokenUsageInfo
from pycodex.rollout.recorder import RolloutLine

from .model_info import effective_reasoning_effort, effective_verbosity
from .session import Session
from .turn_context import TurnContext

T = TypeVar("T")
# Each retry empties at least a quarter of the request: a full window needs a few retries.
MAX_TRIM_ROUNDS = 16


class CompactionFailed(Exception):
    """A compaction that could not be done; the message is for the user, as is."""


def _warn(sess: Session, turn: TurnContext, message: str) -> None:
    sess.emit(turn.sub_id, WarningEvent(message=message))


async def auto_compact_if_needed(sess: Session, turn: TurnContext, *, already: bool) -> bool:
    """Compact when the context reached the threshold; True when it did. Raises
    `CompactionFailed` when compacting is needed a second time in one turn, or did not
    bring the context under the threshold (never loop on compactions)."""
    threshold = turn.compaction.threshold(turn.context_window)
    if threshold is None:
        return False
    tokens = sess.history.tokens_in_context()
    if tokens < threshold:
        return False
    if already:
        raise CompactionFailed(
            f"the context is full again ({tokens} tokens, limit {threshold}) after this turn "
            "was already compacted once; start a new thread or raise model_auto_compact_token_limit"
        )
    await compact(sess, turn)
    after = sess.history.tokens_in_context()
    if after >= threshold:
        raise CompactionFailed(
            f"compaction left {after} tokens in the context, still over the limit of {threshold}: "
            "what must be kept verbatim does not fit; start a new thread or raise "
            "model_auto_compact_token_limit"
        )
    return True


async def compact(sess: Session, turn: TurnContext) -> None:
    """One compaction of `sess.history` (see the module docstring)."""
    item = ContextCompactionTurnItem(id=uuid7())
    items = sess.items_for(turn)
    items.start(item)
    history = sess.history.for_request()
    summary, message = await _summary(sess, turn, history)
    replacement = build_replacement(history, summary, turn.compaction.threshold(turn.context_window))
    if replacement is None:
        _warn(sess, turn, "compaction would not make this context smaller; it was left as it is")
    else:
        sess.history.replace(replacement)
        payload = {"message": message, "replacement_history": [item_to_wire(i) for i in replacement]}
        sess.persist([RolloutLine("compacted", payload)])
    sess.emit(turn.sub_id, ContextCompactedEvent())
    items.complete(item)
    _report_budget(sess, turn)
    await sess.flush()


def _report_budget(sess: Session, turn: TurnContext) -> None:
    """A TokenCount whose `last_token_usage` is the new context size: what a front end
    subtracts from `model_context_window` to show the room left."""
    tokens = sess.history.tokens_in_context()
    total = sess.token_info.total_token_usage if sess.token_info is not None else TokenUsage()
    sess.token_info = TokenUsageInfo(
        total_token_usage=total,
        last_token_usage=TokenUsage(input_tokens=tokens, total_tokens=tokens),
        model_context_window=sess.context_window,
    )
    sess.emit(turn.sub_id, TokenCountEvent(info=sess.token_info, rate_limits=sess.rate_limits))


async def _summary(
    sess: Session, turn: TurnContext, history: list[ResponseItem]
) -> tuple[list[ResponseItem], str]:
    """The items standing for the dropped span, and the rollout's `message` text."""
    client = sess.services.client
    if turn.compaction.remote and not remote_compaction_known_unsupported(client):
        try:
            items = await _fitting(sess, turn, history, lambda work: _remote(sess, turn, work))
            return items, ""
        except RemoteCompactionUnsupported:
            pass  # a gateway without the endpoint: the local summary below
        except CompactionFailed:
            raise
        except ModelClientError as exc:
            _warn(sess, turn, f"remote compaction failed ({exc}); summarising locally")
    note = await _fitting(sess, turn, history, lambda work: _local_note(sess, turn, work))
    text = summary_text(note)
    return [MessageItem(role="user", content=[InputText(text=text)])], text


async def _fitting(
    sess: Session,
    turn: TurnContext,
    history: list[ResponseItem],
    ask: Callable[[list[ResponseItem]], Awaitable[T]],
) -> T:
    """`ask(history)`, emptying the oldest tool outputs while the request overflows."""
    work, dropped = fit_to_window(history, turn.context_window)
    for _ in range(MAX_TRIM_ROUNDS):
        try:
            result = await ask(work)
        except ContextWindowExceeded as exc:
            work, emptied = drop_oldest_tool_outputs(work)
            if emptied == 0:
                raise CompactionFailed(
                    f"cannot compact: the compaction request does not fit the context window "
                    f"even with every tool output dropped ({exc}); start a new thread"
                ) from exc
            dropped += emptied
            continue
        if dropped:
            _warn(sess, turn, f"dropped {dropped} old tool output(s) so the compaction request fits the window")
        return result
    raise CompactionFailed("cannot compact: the compaction request kept overflowing the context window")


async def _remote(sess: Session, turn: TurnContext, work: list[ResponseItem]) -> list[ResponseItem]:
    base = sess.base_instructions
    # The base instructions travel as `instructions`; not a second time in the input.
    body = [i for i in work if not (isinstance(i, MessageItem) and i.role == "developer" and i.text() == base)]
    output = await compact_remotely(sess.services.client, model=turn.settings.model, items=body, instructions=base)
    summary = [i for i in output if not (isinstance(i, MessageItem) and i.role in ("user", "developer", "system"))]
    if not summary:
        raise RemoteCompactionUnsupported("the compaction answer held no compacted item")
    return summary


async def _local_note(sess: Session, turn: TurnContext, work: list[ResponseItem]) -> str:
    """One model request: the history, then our summarisation request; the answer's text."""
    settings = turn.settings
    ask = MessageItem(role="user", content=[InputText(text=request_text(turn.compaction.prompt))])
    prompt = Prompt(
        input=[*work, ask],
        tools=[],
        parallel_tool_calls=False,
        settings=ModelSettings(
            model=settings.model,
            reasoning_effort=effective_reasoning_effort(settings.model, settings.reasoning_effort),
            reasoning_summary=settings.reasoning_summary,
            verbosity=effective_verbosity(settings.model, settings.verbosity),
            complete=True,
        ),
    )
    return await _collect_text(sess, sess.services.client, prompt)


async def _collect_text(sess: Session, client: ModelClient, prompt: Prompt) -> str:
    text = ""
    async for event in client.stream(prompt):
        if isinstance(event, StreamRetry):
            text = ""  # the client sends the request again: start over
        elif isinstance(event, OutputItemDone):
            item = event.item
            if isinstance(item, MessageItem) and item.role == "assistant":
                text = item.text()
        elif isinstance(event, Completed) and event.token_usage is not None:
            usage = event.token_usage
            sess.add_usage(
                TokenUsage(
                    input_tokens=usage.input_tokens,
                    cached_input_tokens=usage.cached_input_tokens,
                    output_tokens=usage.output_tokens,
                    reasoning_output_tokens=usage.reasoning_output_tokens,
                    total_tokens=usage.total_tokens,
                )
            )
    return text


async def run_compact_task(
    sess: Session, turn: TurnContext, release: Callable[[], None] | None = None
) -> None:
    """`Op::Compact`: a task of its own (TaskStarted … TaskComplete), interruptible.
    `release` is called just before the task says it ended: a client that starts its next
    turn (or review) the moment it sees TaskComplete must not find the thread busy."""
    started = time.time()
    sess.emit(
        turn.sub_id,
        TaskStartedEvent(turn_id=turn.turn_id, started_at=int(started), model_context_window=turn.context_window),
    )
    try:
        await compact(sess, turn)
    except asyncio.CancelledError:
        if release is not None:
            release()
        sess.emit(turn.sub_id, TurnAbortedEvent(turn_id=turn.turn_id, reason=TurnAbortReason.INTERRUPTED))
        sess.end_items(turn)
        await sess.flush()
        raise
    except CompactionFailed as exc:
        sess.emit(turn.sub_id, ErrorEvent(message=str(exc)))
    except ModelClientError as exc:
        sess.emit(turn.sub_id, ErrorEvent(message=f"compaction failed: {exc}"))
    sess.end_items(turn)
    if release is not None:
        release()
    sess.emit(
        turn.sub_id,
        TaskCompleteEvent(
            turn_id=turn.turn_id,
            last_agent_message=None,
            started_at=int(started),
            completed_at=int(time.time()),
            duration_ms=int((time.time() - started) * 1000),
        ),
    )
    await sess.flush()


def compaction_settings(config: Config) -> CompactionSettings:
    """config.toml's compaction keys. Remote compaction is tried on OpenAI's Responses API
    (the built-in provider, or one taking OpenAI auth); anything else compacts locally."""
    toml = config.config_toml
    prompt = toml.compact_prompt
    if prompt is None and toml.experimental_compact_prompt_file:
        try:
            prompt = Path(toml.experimental_compact_prompt_file).expanduser().read_text(encoding="utf-8")
        except OSError:
            prompt = None  # an unreadable file: our own prompt rather than no compaction
    provider = config.model_provider
    openai = config.model_provider_id == OPENAI_PROVIDER_ID or provider.requires_openai_auth
    return CompactionSettings(
        auto_limit=config.model_auto_compact_token_limit,
        prompt=prompt,
        remote=openai and provider.wire_api == "responses",
    )
