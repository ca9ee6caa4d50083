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

from .items import ThreadItem, thread_item

JsonObj = dict[str, Any]
Notification = tuple[str, JsonObj]


def _camel(value: str) -> str:
    head, *rest = value.split("_")
    return head + "".join(part.title() for part in rest)


class _Turn(msgspec.Struct, kw_only=True):
    id: str
    started_at: int | None
    error: JsonObj | None = None
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
            return [("item/agentMessage/delta", self._delta(msg.item_id, msg.delta))]
        if isinstance(msg, ReasoningContentDeltaEvent):
            return self._summary_delta(msg)
        if isinstance(msg, ReasoningRawContentDeltaEvent):
            params = {**self._delta(msg.item_id, msg.delta), "contentIndex": msg.content_index}
            return [("item/reasoning/textDelta", params)]
        if isinstance(msg, ExecCommandOutputDeltaEvent):
            text = msg.data().decode("utf-8", errors="replace")
            params = self._delta(msg.call_id, text)
            if msg.turn_id:  # a `!cmd` beside a turn has a turn of its own
                params["turnId"] = msg.turn_id
            return [("item/commandExecution/outputDelta", params)]
        if isinstance(msg, TaskStartedEvent):
            return self._turn_started(msg)
        if isinstance(msg, TaskCompleteEvent | TurnAbortedEvent):
            return self._turn_completed(msg)
        return self._other(msg)

    # --- turns ----------------------------------------------------------------------------

    def _turn_started(self, msg: TaskStartedEvent) -> list[Notification]:
        self._turn = _Turn(id=msg.turn_id or "", started_at=msg.started_at)
        self._summary_parts.clear()
        status = {"threadId": self.thread_id, "status": {"type": "active", "activeFlags": []}}
        turn = self._turn_json(self._turn, status="inProgress", completed_at=None, duration_ms=None)
        turn["itemsView"] = "notLoaded"
        return [
            ("thread/status/changed", status),
            ("turn/started", {"threadId": self.thread_id, "turn": turn}),
        ]

    def _turn_completed(self, msg: TaskCompleteEvent | TurnAbortedEvent) -> list[Notification]:
        turn = self._turn or _Turn(id=msg.turn_id or "", started_at=None)
        self._turn = None
        if isinstance(msg, TurnAbortedEvent):
            status, completed_at, duration_ms = "interrupted", None, None
        else:
            status = "failed" if turn.error is not None else "completed"
            completed_at, duration_ms = msg.completed_at, msg.duration_ms
        body = self._turn_json(turn, status=status, completed_at=completed_at, duration_ms=duration_ms)
        completed = ("turn/completed", {"threadId": self.thread_id, "turn": body})
        if status == "failed":  # the thread stays in `systemError` until its next turn
            return [completed]
        return [("thread/status/changed", {"threadId": self.thread_id, "status": {"type": "idle"}}), completed]

    @staticmethod
    def _turn_json(turn: _Turn, *, status: str, completed_at: int | None, duration_ms: int | None) -> JsonObj:
        items = [msgspec.to_builtins(turn.last_message)] if turn.last_message is not None else []
        return {
            "id": turn.id,
            "rootTurnId": turn.id,
            "items": items,
            "itemsView": "summary",
            "status": status,
            "error": turn.error,
            "startedAt": turn.started_at,
            "completedAt": completed_at,
            "durationMs": duration_ms,
        }

    # --- items ----------------------------------------------------------------------------

    def _item(self, msg: ItemStartedEvent | ItemCompletedEvent) -> list[Notification]:
        item = thread_item(msg.item)
        if item is None:
            return []
        params: JsonObj = {"item": msgspec.to_builtins(item), "threadId": msg.thread_id, "turnId": msg.turn_id}
        if isinstance(msg, ItemStartedEvent):
            params["startedAtMs"] = msg.started_at_ms
            return [("item/started", params)]
        params["completedAtMs"] = msg.completed_at_ms
        if isinstance(msg.item, AgentMessageTurnItem) and self._turn is not None:
            self._turn.last_message = item
        return [("item/completed", params)]

    def _delta(self, item_id: str, delta: str) -> JsonObj:
        return {"threadId": self.thread_id, "turnId": self.turn_id, "itemId": item_id, "delta": delta}

    def _summary_delta(self, msg: ReasoningContentDeltaEvent) -> list[Notification]:
        out: list[Notification] = []
        part = (msg.item_id, msg.summary_index)
        if part not in self._summary_parts:
            self._summary_parts.add(part)
            added = {"threadId": self.thread_id, "turnId": self.turn_id, "itemId": msg.item_id,
                     "summaryIndex": msg.summary_index}
            out.append(("item/reasoning/summaryPartAdded", added))
        params = {**self._delta(msg.item_id, msg.delta), "summaryIndex": msg.summary_index}
        out.append(("item/reasoning/summaryTextDelta", params))
        return out

    # --- everything else ------------------------------------------------------------------

    def _other(self, msg: EventMsg) -> list[Notification]:
        ids = {"threadId": self.thread_id, "turnId": self.turn_id}
        if isinstance(msg, TokenCountEvent):
            return self._token_count(msg)
        if isinstance(msg, PlanUpdateEvent):
            plan = [{"step": s.step, "status": _camel(s.status)} for s in msg.plan]
            return [("turn/plan/updated", {**ids, "explanation": msg.explanation, "plan": plan})]
        if isinstance(msg, TurnDiffEvent):
            return [("turn/diff/updated", {**ids, "diff": msg.unified_diff})]
        if isinstance(msg, ErrorEvent | StreamErrorEvent):
            error = turn_error(msg)
            retrying = isinstance(msg, StreamErrorEvent)
            notice: Notification = ("error", {"error": error, "willRetry": retrying, **ids})
            if retrying or self._turn is None:
                return [notice]
            self._turn.error = error
            # The turn has failed: Codex shows the thread in error before saying why.
            failed = {"threadId": self.thread_id, "status": {"type": "systemError"}}
            return [("thread/status/changed", failed), notice]
        if isinstance(msg, WarningEvent):
            return [("warning", {"message": msg.message, "threadId": self.thread_id})]
        if isinstance(msg, ContextCompactedEvent):
            return [("thread/compacted", ids)]
        if isinstance(msg, McpStartupUpdateEvent):
            return [("mcpServer/startupStatus/updated", _mcp_status(self.thread_id, msg))]
        return []

    def _token_count(self, msg: TokenCountEvent) -> list[Notification]:
        out: list[Notification] = []
        if msg.info is not None:
            usage = {
                "total": _usage(msg.info.total_token_usage),
                "last": _usage(msg.info.last_token_usage),
                "modelContextWindow": msg.info.model_context_window,
            }
            params = {"threadId": self.thread_id, "turnId": self.turn_id, "tokenUsage": usage}
            out.append(("thread/tokenUsage/updated", params))
        out.append(("account/rateLimits/updated", {"rateLimits": rate_limits(msg.rate_limits)}))
        return out


def _usage(usage: TokenUsage) -> JsonObj:
    return {
        "totalTokens": usage.total_tokens,
        "inputTokens": usage.input_tokens,
        "cachedInputTokens": usage.cached_input_tokens,
        "cacheWriteInputTokens": usage.cache_write_input_tokens,
        "outputTokens": usage.output_tokens,
        "reasoningOutputTokens": usage.reasoning_output_tokens,
    }


def rate_limits(snapshot: RateLimitSnapshot | None) -> JsonObj:
    """A v2 `RateLimitSnapshot` (Codex sends one with `limitId: codex` even when the
    provider reported nothing)."""
    s = snapshot or RateLimitSnapshot()
    credits = None
    if s.credits is not None:
        c = s.credits
        credits = {"hasCredits": c.has_credits, "unlimited": c.unlimited, "balance": c.balance}
    return {
        "limitId": s.limit_id or "codex",
        "limitName": s.limit_name,
        "normalModelSlug": None,
        "primary": _window(s.primary),
        "secondary": _window(s.secondary),
        "credits": credits,
        "individualLimit": s.individual_limit,
        "spendControlReached": s.spend_control_reached,
        "planType": s.plan_type,
        "rateLimitReachedType": s.rate_limit_reached_type,
    }


def _window(window: RateLimitWindow | None) -> JsonObj | None:
    if window is None:
        return None
    return {
        "usedPercent": round(window.used_percent),
        "windowDurationMins": window.window_minutes,
        "resetsAt": window.resets_at,
    }


def turn_error(msg: ErrorEvent | StreamErrorEvent) -> JsonObj:
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
    return {"message": msg.message, "codexErrorInfo": info_json, "additionalDetails": details, "misalignment": None}


def _mcp_status(thread_id: str, msg: McpStartupUpdateEvent) -> JsonObj:
    state = str(msg.status.get("state", ""))
    error = msg.status.get("error")
    return {
        "threadId": thread_id,
        "name": msg.server,
        "status": state,
        "error": error if isinstance(error, str) else None,
        "failureReason": None,
    }
