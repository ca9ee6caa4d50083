"""A thread's engine events as the app-server's v2 notifications.

`ThreadNotifier` is fed every event of one thread, in order, and returns the
notifications (method, params) a v2 client gets for it, as Codex 0.163 sends them
(`reference/app-server/*.transcript.jsonl`): `turn/started`, `item/started`,
`item/agentMessage/delta`, `item/reasoning/summaryPartAdded` / `summaryTextDelta` /
`textDelta`, `item/commandExecution/outputDelta`, `item/completed`,
`thread/tokenUsage/updated`, `account/rateLimits/updated`, `turn/plan/updated`,
`turn/diff/updated`, `error`, `warning`, `thread/status/changed`, `turn/completed`.

Server→client requests (approvals) are not notifications; the app-server builds those.
"""

from __future__ import annotations

from typing import Any

import msgspec

from pycodex.protocol.event_payloads import (
    ExecCommandOutputDeltaEvent,
    McpStartupUpdateEvent,
    TurnDiffEvent,
)
from pycodex.protocol.events import (
    AgentMessageContentDeltaEvent,
    ContextCompactedEvent,
    ErrorEvent,
    EventMsg,
    ItemCompletedEvent,
    ItemStartedEvent,
    PlanUpdateEvent,
    ReasoningContentDeltaEvent,
    ReasoningRawContentDeltaEvent,
    StreamErrorEvent,
    TaskCompleteEvent,
    TaskStartedEvent,
    TokenCountEvent,
    TurnAbortedEvent,
    WarningEvent,
)
from pycodex.protocol.items import AgentMessageTurnItem
from pycodex.protocol.tokens import RateLimitSnapshot, RateLimitWindow, TokenUsage

from . import notification_types as T
from .items import ThreadItem, thread_item

JsonObj = dict[str, Any]
Notification = tuple[str, JsonObj]


def _camel(value: str) -> str:
    head, *rest = value.split("_")
    return head + "".join(part.title() for part in rest)


def _note(method: str, params: msgspec.Struct) -> Notification:
    # Typed where built (notification_types), JSON at the boundary.
    return method, msgspec.to_builtins(params)


class _Turn(msgspec.Struct, kw_only=True):
    id: str
    started_at: int | None
    error: T.TurnError | None = None
    last_message: ThreadItem | None = None


class ThreadNotifier:
    """The v2 notifications of one thread's events (keeps the running turn's state)."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        self._turn: _Turn | None = None
        self._summary_parts: set[tuple[str, int]] = set()

    @property
    def turn_id(self) -> str:
        return self._turn.id if self._turn is not None else ""

    def notifications(self, msg: EventMsg) -> list[Notification]:
        if isinstance(msg, ItemStartedEvent | ItemCompletedEvent):
            return self._item(msg)
        if isinstance(msg, AgentMessageContentDeltaEvent):
            return [_note("item/agentMessage/delta", T.AgentMessageDeltaNotification(
                thread_id=self.thread_id, turn_id=self.turn_id, item_id=msg.item_id, delta=msg.delta))]
        if isinstance(msg, ReasoningContentDeltaEvent):
            return self._summary_delta(msg)
        if isinstance(msg, ReasoningRawContentDeltaEvent):
            return [_note("item/reasoning/textDelta", T.ReasoningTextDeltaNotification(
                thread_id=self.thread_id, turn_id=self.turn_id, item_id=msg.item_id, delta=msg.delta,
                content_index=msg.content_index))]
        if isinstance(msg, ExecCommandOutputDeltaEvent):
            text = msg.data().decode("utf-8", errors="replace")
            # A `!cmd` beside a turn has a turn of its own.
            return [_note("item/commandExecution/outputDelta", T.CommandExecutionOutputDeltaNotification(
                thread_id=self.thread_id, turn_id=msg.turn_id or self.turn_id, item_id=msg.call_id, delta=text))]
        if isinstance(msg, TaskStartedEvent):
            return self._turn_started(msg)
        if isinstance(msg, TaskCompleteEvent | TurnAbortedEvent):
            return self._turn_completed(msg)
        return self._other(msg)

    # --- turns ----------------------------------------------------------------------------

    def _turn_started(self, msg: TaskStartedEvent) -> list[Notification]:
        self._turn = _Turn(id=msg.turn_id or "", started_at=msg.started_at)
        self._summary_parts.clear()
        turn = self._turn_body(self._turn, status="inProgress", completed_at=None, duration_ms=None)
        turn.items_view = "notLoaded"
        return [
            _note("thread/status/changed", T.ThreadStatusChangedNotification(
                thread_id=self.thread_id, status=T.ActiveThreadStatus())),
            _note("turn/started", T.TurnStartedNotification(thread_id=self.thread_id, turn=turn)),
        ]

    def _turn_completed(self, msg: TaskCompleteEvent | TurnAbortedEvent) -> list[Notification]:
        turn = self._turn or _Turn(id=msg.turn_id or "", started_at=None)
        self._turn = None
        if isinstance(msg, TurnAbortedEvent):
            status, completed_at, duration_ms = "interrupted", None, None
        else:
            status = "failed" if turn.error is not None else "completed"
            completed_at, duration_ms = msg.completed_at, msg.duration_ms
        body = self._turn_body(turn, status=status, completed_at=completed_at, duration_ms=duration_ms)
        completed = _note("turn/completed", T.TurnCompletedNotification(thread_id=self.thread_id, turn=body))
        if status == "failed":  # the thread stays in `systemError` until its next turn
            return [completed]
        idle = T.ThreadStatusChangedNotification(thread_id=self.thread_id, status=T.IdleThreadStatus())
        return [_note("thread/status/changed", idle), completed]

    @staticmethod
    def _turn_body(turn: _Turn, *, status: str, completed_at: int | None, duration_ms: int | None) -> T.Turn:
        return T.Turn(
            id=turn.id, root_turn_id=turn.id,
            items=[turn.last_message] if turn.last_message is not None else [],
            items_view="summary", status=status, error=turn.error,
            started_at=turn.started_at, completed_at=completed_at, duration_ms=duration_ms,
        )

    # --- items ----------------------------------------------------------------------------

    def _item(self, msg: ItemStartedEvent | ItemCompletedEvent) -> list[Notification]:
        item = thread_item(msg.item)
        if item is None:
            return []
        if isinstance(msg, ItemStartedEvent):
            return [_note("item/started", T.ItemStartedNotification(
                item=item, thread_id=msg.thread_id, turn_id=msg.turn_id, started_at_ms=msg.started_at_ms))]
        if isinstance(msg.item, AgentMessageTurnItem) and self._turn is not None:
            self._turn.last_message = item
        return [_note("item/completed", T.ItemCompletedNotification(
            item=item, thread_id=msg.thread_id, turn_id=msg.turn_id, completed_at_ms=msg.completed_at_ms))]

    def _summary_delta(self, msg: ReasoningContentDeltaEvent) -> list[Notification]:
        out: list[Notification] = []
        part = (msg.item_id, msg.summary_index)
        if part not in self._summary_parts:
            self._summary_parts.add(part)
            out.append(_note("item/reasoning/summaryPartAdded", T.ReasoningSummaryPartAddedNotification(
                thread_id=self.thread_id, turn_id=self.turn_id, item_id=msg.item_id,
                summary_index=msg.summary_index)))
        out.append(_note("item/reasoning/summaryTextDelta", T.ReasoningSummaryTextDeltaNotification(
            thread_id=self.thread_id, turn_id=self.turn_id, item_id=msg.item_id, delta=msg.delta,
            summary_index=msg.summary_index)))
        return out

    # --- everything else ------------------------------------------------------------------

    def _other(self, msg: EventMsg) -> list[Notification]:
        ids = {"thread_id": self.thread_id, "turn_id": self.turn_id}
        if isinstance(msg, TokenCountEvent):
            return self._token_count(msg)
        if isinstance(msg, PlanUpdateEvent):
            plan = [T.TurnPlanStep(step=s.step, status=_camel(s.status)) for s in msg.plan]
            return [_note("turn/plan/updated", T.TurnPlanUpdatedNotification(
                **ids, explanation=msg.explanation, plan=plan))]
        if isinstance(msg, TurnDiffEvent):
            return [_note("turn/diff/updated", T.TurnDiffUpdatedNotification(**ids, diff=msg.unified_diff))]
        if isinstance(msg, ErrorEvent | StreamErrorEvent):
            return self._error(msg)
        if isinstance(msg, WarningEvent):
            return [_note("warning", T.WarningNotification(message=msg.message, thread_id=self.thread_id))]
        if isinstance(msg, ContextCompactedEvent):
            return [_note("thread/compacted", T.ContextCompactedNotification(**ids))]
        if isinstance(msg, McpStartupUpdateEvent):
            return [_note("mcpServer/startupStatus/updated", _mcp_status(self.thread_id, msg))]
        return []

    def _error(self, msg: ErrorEvent | StreamErrorEvent) -> list[Notification]:
        error = typed_turn_error(msg)
        retrying = isinstance(msg, StreamErrorEvent)
        notice = _note("error", T.ErrorNotification(
            error=error, will_retry=retrying, thread_id=self.thread_id, turn_id=self.turn_id))
        if retrying or self._turn is None:
            return [notice]
        self._turn.error = error
        # The turn has failed: Codex shows the thread in error before saying why.
        failed = T.ThreadStatusChangedNotification(thread_id=self.thread_id, status=T.SystemErrorThreadStatus())
        return [_note("thread/status/changed", failed), notice]

    def _token_count(self, msg: TokenCountEvent) -> list[Notification]:
        out: list[Notification] = []
        if msg.info is not None:
            usage = T.ThreadTokenUsage(
                total=_usage(msg.info.total_token_usage), last=_usage(msg.info.last_token_usage),
                model_context_window=msg.info.model_context_window,
            )
            out.append(_note("thread/tokenUsage/updated", T.ThreadTokenUsageUpdatedNotification(
                thread_id=self.thread_id, turn_id=self.turn_id, token_usage=usage)))
        out.append(_note("account/rateLimits/updated",
                         T.AccountRateLimitsUpdatedNotification(rate_limits=typed_rate_limits(msg.rate_limits))))
        return out


def _usage(usage: TokenUsage) -> T.TokenUsageBreakdown:
    return T.TokenUsageBreakdown(
        total_tokens=usage.total_tokens, input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens, cache_write_input_tokens=usage.cache_write_input_tokens,
        output_tokens=usage.output_tokens, reasoning_output_tokens=usage.reasoning_output_tokens,
    )


def typed_rate_limits(snapshot: RateLimitSnapshot | None) -> T.RateLimitSnapshot:
    """A v2 `RateLimitSnapshot` (Codex sends one with `limitId: codex` even when the
    provider reported nothing)."""
    s = snapshot or RateLimitSnapshot()
    credits = None
    if s.credits is not None:
        c = s.credits
        credits = T.CreditsSnapshot(has_credits=c.has_credits, unlimited=c.unlimited, balance=c.balance)
    return T.RateLimitSnapshot(
        limit_id=s.limit_id or "codex", limit_name=s.limit_name, normal_model_slug=None,
        primary=_window(s.primary), secondary=_window(s.secondary), credits=credits,
        individual_limit=s.individual_limit, spend_control_reached=s.spend_control_reached,
        plan_type=s.plan_type, rate_limit_reached_type=s.rate_limit_reached_type,
    )


def rate_limits(snapshot: RateLimitSnapshot | None) -> JsonObj:
    result: JsonObj = msgspec.to_builtins(typed_rate_limits(snapshot))
    return result


def _window(window: RateLimitWindow | None) -> T.RateLimitWindow | None:
    if window is None:
        return None
    return T.RateLimitWindow(used_percent=round(window.used_percent),
                             window_duration_mins=window.window_minutes, resets_at=window.resets_at)


def typed_turn_error(msg: ErrorEvent | StreamErrorEvent) -> T.TurnError:
    """A turn's v2 `TurnError` (live in `error` / `turn/completed`, and rebuilt from a rollout)."""
    info = msg.codex_error_info
    if isinstance(info, str):
        info_json: Any = _camel(info)
    elif isinstance(info, dict):
        info_json = {_camel(k): ({_camel(a): b for a, b in v.items()} if isinstance(v, dict) else v)
                     for k, v in info.items()}
    else:
        info_json = "other"
    details = msg.additional_details if isinstance(msg, StreamErrorEvent) else None
    return T.TurnError(message=msg.message, codex_error_info=info_json, additional_details=details, misalignment=None)


def turn_error(msg: ErrorEvent | StreamErrorEvent) -> JsonObj:
    result: JsonObj = msgspec.to_builtins(typed_turn_error(msg))
    return result


def _mcp_status(thread_id: str, msg: McpStartupUpdateEvent) -> T.McpServerStatusUpdatedNotification:
    state = str(msg.status.get("state", ""))
    error = msg.status.get("error")
    return T.McpServerStatusUpdatedNotification(
        thread_id=thread_id, name=msg.server, status=state,
        error=error if isinstance(error, str) else None, failure_reason=None,
    )
