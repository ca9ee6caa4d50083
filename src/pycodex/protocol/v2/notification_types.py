"""The v2 notifications a thread's events become, as types: what `ThreadNotifier` builds and
sends, and what `app-server generate-json-schema` describes.

Names and field order are Codex's (`reference/app-server-schema`); every field is written
(`null` when unset), as Codex 0.163 writes them. Values pycodex passes through from the
engine without a shape of its own (an error's `codexErrorInfo`, rate-limit extras) are typed
loosely.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .items import ThreadItem


class _Wire(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    pass


# --- shared shapes ------------------------------------------------------------------------


class TurnError(_Wire):
    message: str
    codex_error_info: Any = None
    additional_details: str | None = None
    misalignment: Any = None


class Turn(_Wire):
    id: str
    root_turn_id: str
    items: list[ThreadItem]
    items_view: str
    status: str
    error: TurnError | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None


class _Status(msgspec.Struct, kw_only=True, rename="camel", tag_field="type", forbid_unknown_fields=True):
    pass


class ActiveThreadStatus(_Status, tag="active"):
    active_flags: list[str] = msgspec.field(default_factory=list)


class IdleThreadStatus(_Status, tag="idle"):
    pass


class SystemErrorThreadStatus(_Status, tag="systemError"):
    pass


class NotLoadedThreadStatus(_Status, tag="notLoaded"):
    pass


ThreadStatus = ActiveThreadStatus | IdleThreadStatus | SystemErrorThreadStatus | NotLoadedThreadStatus


class TokenUsageBreakdown(_Wire):
    total_tokens: int
    input_tokens: int
    cached_input_tokens: int
    cache_write_input_tokens: int | None
    output_tokens: int
    reasoning_output_tokens: int


class ThreadTokenUsage(_Wire):
    total: TokenUsageBreakdown
    last: TokenUsageBreakdown
    model_context_window: int | None


class RateLimitWindow(_Wire):
    used_percent: int
    window_duration_mins: int | None
    resets_at: int | None


class CreditsSnapshot(_Wire):
    has_credits: bool
    unlimited: bool
    balance: str | None


class RateLimitSnapshot(_Wire):
    limit_id: str
    limit_name: str | None
    normal_model_slug: str | None
    primary: RateLimitWindow | None
    secondary: RateLimitWindow | None
    credits: CreditsSnapshot | None
    individual_limit: Any
    spend_control_reached: Any
    plan_type: Any
    rate_limit_reached_type: Any


class TurnPlanStep(_Wire):
    step: str
    status: str


# --- the notifications' params ------------------------------------------------------------


class ThreadStatusChangedNotification(_Wire):
    thread_id: str
    status: ThreadStatus


class TurnStartedNotification(_Wire):
    thread_id: str
    turn: Turn


class TurnCompletedNotification(_Wire):
    thread_id: str
    turn: Turn


class ItemStartedNotification(_Wire):
    item: ThreadItem
    thread_id: str
    turn_id: str
    started_at_ms: int | None


class ItemCompletedNotification(_Wire):
    item: ThreadItem
    thread_id: str
    turn_id: str
    completed_at_ms: int | None


class AgentMessageDeltaNotification(_Wire):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class CommandExecutionOutputDeltaNotification(_Wire):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class ReasoningTextDeltaNotification(_Wire):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str
    content_index: int


class ReasoningSummaryTextDeltaNotification(_Wire):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str
    summary_index: int


class ReasoningSummaryPartAddedNotification(_Wire):
    thread_id: str
    turn_id: str
    item_id: str
    summary_index: int


class TurnPlanUpdatedNotification(_Wire):
    thread_id: str
    turn_id: str
    explanation: str | None
    plan: list[TurnPlanStep]


class TurnDiffUpdatedNotification(_Wire):
    thread_id: str
    turn_id: str
    diff: str


class ErrorNotification(_Wire):
    error: TurnError
    will_retry: bool
    thread_id: str
    turn_id: str


class WarningNotification(_Wire):
    message: str
    thread_id: str


class ContextCompactedNotification(_Wire):
    thread_id: str
    turn_id: str


class McpServerStatusUpdatedNotification(_Wire):
    thread_id: str
    name: str
    status: str
    error: str | None
    failure_reason: str | None = None


class ThreadTokenUsageUpdatedNotification(_Wire):
    thread_id: str
    turn_id: str
    token_usage: ThreadTokenUsage


class AccountRateLimitsUpdatedNotification(_Wire):
    rate_limits: RateLimitSnapshot


#: method -> params type, for every notification a thread's events become.
THREAD_NOTIFICATIONS: dict[str, type[Any]] = {
    "thread/status/changed": ThreadStatusChangedNotification,
    "turn/started": TurnStartedNotification,
    "turn/completed": TurnCompletedNotification,
    "item/started": ItemStartedNotification,
    "item/completed": ItemCompletedNotification,
    "item/agentMessage/delta": AgentMessageDeltaNotification,
    "item/commandExecution/outputDelta": CommandExecutionOutputDeltaNotification,
    "item/reasoning/textDelta": ReasoningTextDeltaNotification,
    "item/reasoning/summaryTextDelta": ReasoningSummaryTextDeltaNotification,
    "item/reasoning/summaryPartAdded": ReasoningSummaryPartAddedNotification,
    "turn/plan/updated": TurnPlanUpdatedNotification,
    "turn/diff/updated": TurnDiffUpdatedNotification,
    "error": ErrorNotification,
    "warning": WarningNotification,
    "thread/compacted": ContextCompactedNotification,
    "mcpServer/startupStatus/updated": McpServerStatusUpdatedNotification,
    "thread/tokenUsage/updated": ThreadTokenUsageUpdatedNotification,
    "account/rateLimits/updated": AccountRateLimitsUpdatedNotification,
}
