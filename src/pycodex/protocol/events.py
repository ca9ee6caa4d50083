"""Events the engine emits (the event half of the queue pair) and rollout ``event_msg`` lines.

Every event is ``{"type": "<snake_case>", ...fields}`` (seed_checklist §1.6 plus the types
Codex 0.163 writes to rollouts: ``thread_settings_applied``, ``item_completed`` with
timestamps, ``task_complete`` with timings). Payloads keep unknown keys so a rollout written
by a newer Codex reads and rewrites unchanged. The set of *types* is closed:
:func:`parse_event_msg` rejects an unknown ``type`` with a ``ValueError`` naming it, so a
caller can decide to skip it rather than mis-handle it.

Tool-activity payloads live in :mod:`pycodex.protocol.event_payloads`; they are re-exported
here so ``from pycodex.protocol.events import ExecCommandEndEvent`` works.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from pycodex.protocol._wire import OmitNone, RustDuration, WireModel, tag_of, wire_union
from pycodex.protocol.event_payloads import (
    ApplyPatchApprovalRequestEvent,
    ExecApprovalRequestEvent,
    ExecCommandBeginEvent,
    ExecCommandEndEvent,
    ExecCommandOutputDeltaEvent,
    ExecOutputStream,
    McpInvocation,
    McpListToolsResponseEvent,
    McpStartupCompleteEvent,
    McpStartupFailure,
    McpStartupUpdateEvent,
    McpToolCallBeginEvent,
    McpToolCallEndEvent,
    PatchApplyBeginEvent,
    PatchApplyEndEvent,
    TurnDiffEvent,
    ViewImageToolCallEvent,
    WebSearchBeginEvent,
    WebSearchEndEvent,
)
from pycodex.protocol.items import FileChange, TurnItem
from pycodex.protocol.models import ResponseItemField
from pycodex.protocol.policies import (
    AnySandboxPolicy,
    AskForApproval,
    ReasoningEffort,
    SandboxPolicy,
)
from pycodex.protocol.review import ReviewOutput, ReviewRequest
from pycodex.protocol.tokens import (
    RateLimitSnapshot,
    RateLimitWindow,
    TokenUsage,
    TokenUsageInfo,
)
from pycodex.protocol.user_input import TextElement

__all__ = [
    "EVENT_TYPES",
    "EVENT_VARIANTS",
    "AgentMessageContentDeltaEvent",
    "AgentMessageDeltaEvent",
    "AgentMessageEvent",
    "AgentReasoningDeltaEvent",
    "AgentReasoningEvent",
    "AgentReasoningRawContentDeltaEvent",
    "AgentReasoningRawContentEvent",
    "AgentReasoningSectionBreakEvent",
    "ApplyPatchApprovalRequestEvent",
    "AskForApproval",
    "BackgroundEventEvent",
    "CodexErrorInfo",
    "ContextCompactedEvent",
    "CustomPrompt",
    "DeprecationNoticeEvent",
    "EnteredReviewModeEvent",
    "ErrorEvent",
    "Event",
    "EventMsg",
    "ExecApprovalRequestEvent",
    "ExecCommandBeginEvent",
    "ExecCommandEndEvent",
    "ExecCommandOutputDeltaEvent",
    "ExecOutputStream",
    "ExitedReviewModeEvent",
    "FileChange",
    "GetHistoryEntryResponseEvent",
    "HistoryEntry",
    "ItemCompletedEvent",
    "ItemStartedEvent",
    "ListCustomPromptsResponseEvent",
    "McpInvocation",
    "McpListToolsResponseEvent",
    "McpStartupCompleteEvent",
    "McpStartupFailure",
    "McpStartupUpdateEvent",
    "McpToolCallBeginEvent",
    "McpToolCallEndEvent",
    "PatchApplyBeginEvent",
    "PatchApplyEndEvent",
    "PlanDeltaEvent",
    "PlanStep",
    "PlanUpdateEvent",
    "RateLimitSnapshot",
    "RateLimitWindow",
    "RawResponseItemEvent",
    "ReasoningContentDeltaEvent",
    "ReasoningEffort",
    "ReasoningRawContentDeltaEvent",
    "ResponseItemField",
    "ReviewOutput",
    "ReviewRequest",
    "RustDuration",
    "SandboxPolicy",
    "SessionConfiguredEvent",
    "ShutdownCompleteEvent",
    "StreamErrorEvent",
    "TaskCompleteEvent",
    "TaskStartedEvent",
    "TextElement",
    "ThreadRolledBackEvent",
    "ThreadSettingsAppliedEvent",
    "TokenCountEvent",
    "TokenUsage",
    "TokenUsageInfo",
    "TurnAbortReason",
    "TurnAbortedEvent",
    "TurnDiffEvent",
    "TurnItem",
    "UndoCompletedEvent",
    "UndoStartedEvent",
    "UserMessageEvent",
    "ViewImageToolCallEvent",
    "WarningEvent",
    "WebSearchBeginEvent",
    "WebSearchEndEvent",
    "event_msg_to_wire",
    "parse_event_msg",
]


class TurnAbortReason(StrEnum):
    INTERRUPTED = "interrupted"
    REPLACED = "replaced"
    REVIEW_ENDED = "review_ended"


class CodexErrorInfo(StrEnum):
    """Machine-readable error kinds. Some kinds carry data and are written as an object
    instead (``{"http_connection_failed": {"http_status_code": 502}}``), which is why
    ``codex_error_info`` fields are typed ``str | dict``."""

    CONTEXT_WINDOW_EXCEEDED = "context_window_exceeded"
    USAGE_LIMIT_EXCEEDED = "usage_limit_exceeded"
    INTERNAL_SERVER_ERROR = "internal_server_error"
    UNAUTHORIZED = "unauthorized"
    BAD_REQUEST = "bad_request"
    SANDBOX_ERROR = "sandbox_error"
    THREAD_ROLLBACK_FAILED = "thread_rollback_failed"
    OTHER = "other"


# --- session / turn lifecycle ---------------------------------------------------------------


class SessionConfiguredEvent(WireModel, kw_only=True):
    """First event of every session."""

    type: Literal["session_configured"] = "session_configured"
    session_id: str
    forked_from_id: OmitNone[str] = None
    model: str
    model_provider_id: str
    approval_policy: AskForApproval
    sandbox_policy: AnySandboxPolicy
    cwd: str
    reasoning_effort: OmitNone[ReasoningEffort] = None
    history_log_id: int
    history_entry_count: int
    # Replayed events of a resumed session, so a UI can redraw the history.
    initial_messages: OmitNone[list[EventMsg]] = None
    rollout_path: str | None = None


class TaskStartedEvent(WireModel, kw_only=True):
    type: Literal["task_started"] = "task_started"
    turn_id: OmitNone[str] = None
    root_turn_id: OmitNone[str] = None
    # Unix seconds.
    started_at: OmitNone[int] = None
    model_context_window: int | None = None
    collaboration_mode_kind: OmitNone[str] = None
    turn_attribution: OmitNone[dict[str, Any]] = None


class TaskCompleteEvent(WireModel, kw_only=True):
    type: Literal["task_complete"] = "task_complete"
    turn_id: OmitNone[str] = None
    root_turn_id: OmitNone[str] = None
    last_agent_message: str | None = None
    started_at: OmitNone[int] = None
    completed_at: OmitNone[int] = None
    duration_ms: OmitNone[int] = None
    time_to_first_token_ms: OmitNone[int] = None


class TurnAbortedEvent(WireModel, kw_only=True):
    type: Literal["turn_aborted"] = "turn_aborted"
    turn_id: OmitNone[str] = None
    reason: TurnAbortReason


class ShutdownCompleteEvent(WireModel, kw_only=True):
    type: Literal["shutdown_complete"] = "shutdown_complete"


class ThreadSettingsAppliedEvent(WireModel, kw_only=True):
    """Settings in force for the thread (rollout marker; app-server
    ``thread/settings/updated``). The settings object is kept as written."""

    type: Literal["thread_settings_applied"] = "thread_settings_applied"
    thread_id: str
    thread_settings: dict[str, Any]


class ThreadRolledBackEvent(WireModel, kw_only=True):
    """Persisted marker: the last ``num_turns`` user turns left the context."""

    type: Literal["thread_rolled_back"] = "thread_rolled_back"
    num_turns: int


class ContextCompactedEvent(WireModel, kw_only=True):
    type: Literal["context_compacted"] = "context_compacted"


class TokenCountEvent(WireModel, kw_only=True):
    type: Literal["token_count"] = "token_count"
    info: TokenUsageInfo | None = None
    rate_limits: RateLimitSnapshot | None = None


# --- diagnostics ----------------------------------------------------------------------------


class ErrorEvent(WireModel, kw_only=True):
    type: Literal["error"] = "error"
    message: str
    codex_error_info: str | dict[str, Any] | None = None


class WarningEvent(WireModel, kw_only=True):
    type: Literal["warning"] = "warning"
    message: str


class StreamErrorEvent(WireModel, kw_only=True):
    """A retry notice ("Reconnecting... 2/5"); the turn goes on."""

    type: Literal["stream_error"] = "stream_error"
    message: str
    codex_error_info: str | dict[str, Any] | None = None
    additional_details: str | None = None


class BackgroundEventEvent(WireModel, kw_only=True):
    type: Literal["background_event"] = "background_event"
    message: str


class DeprecationNoticeEvent(WireModel, kw_only=True):
    type: Literal["deprecation_notice"] = "deprecation_notice"
    summary: str
    details: OmitNone[str] = None


# --- messages and reasoning -----------------------------------------------------------------


class UserMessageEvent(WireModel, kw_only=True):
    type: Literal["user_message"] = "user_message"
    message: str
    images: OmitNone[list[str]] = None
    local_images: list[str] = msgspec.field(default_factory=list)
    text_elements: list[TextElement] = msgspec.field(default_factory=list)


class AgentMessageEvent(WireModel, kw_only=True):
    type: Literal["agent_message"] = "agent_message"
    message: str


class AgentMessageDeltaEvent(WireModel, kw_only=True):
    type: Literal["agent_message_delta"] = "agent_message_delta"
    delta: str


class AgentReasoningEvent(WireModel, kw_only=True):
    type: Literal["agent_reasoning"] = "agent_reasoning"
    text: str


class AgentReasoningDeltaEvent(WireModel, kw_only=True):
    type: Literal["agent_reasoning_delta"] = "agent_reasoning_delta"
    delta: str


class AgentReasoningRawContentEvent(WireModel, kw_only=True):
    type: Literal["agent_reasoning_raw_content"] = "agent_reasoning_raw_content"
    text: str


class AgentReasoningRawContentDeltaEvent(WireModel, kw_only=True):
    type: Literal["agent_reasoning_raw_content_delta"] = "agent_reasoning_raw_content_delta"
    delta: str


class AgentReasoningSectionBreakEvent(WireModel, kw_only=True):
    type: Literal["agent_reasoning_section_break"] = "agent_reasoning_section_break"
    item_id: str = ""
    summary_index: int = 0


class _ItemDelta(WireModel, kw_only=True):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class AgentMessageContentDeltaEvent(_ItemDelta, kw_only=True):
    type: Literal["agent_message_content_delta"] = "agent_message_content_delta"


class PlanDeltaEvent(_ItemDelta, kw_only=True):
    """``<proposed_plan>`` text streamed in plan mode."""

    type: Literal["plan_delta"] = "plan_delta"


class ReasoningContentDeltaEvent(_ItemDelta, kw_only=True):
    type: Literal["reasoning_content_delta"] = "reasoning_content_delta"
    summary_index: int = 0


class ReasoningRawContentDeltaEvent(_ItemDelta, kw_only=True):
    type: Literal["reasoning_raw_content_delta"] = "reasoning_raw_content_delta"
    content_index: int = 0


class RawResponseItemEvent(WireModel, kw_only=True):
    type: Literal["raw_response_item"] = "raw_response_item"
    item: ResponseItemField


class ItemStartedEvent(WireModel, kw_only=True):
    type: Literal["item_started"] = "item_started"
    thread_id: str
    turn_id: str
    item: TurnItem
    started_at_ms: OmitNone[int] = None


class ItemCompletedEvent(WireModel, kw_only=True):
    type: Literal["item_completed"] = "item_completed"
    thread_id: str
    turn_id: str
    item: TurnItem
    started_at_ms: OmitNone[int] = None
    completed_at_ms: OmitNone[int] = None


class PlanStep(WireModel, kw_only=True):
    step: str
    status: Literal["pending", "in_progress", "completed"]


class PlanUpdateEvent(WireModel, kw_only=True):
    """The ``update_plan`` tool's arguments, echoed to the UI."""

    type: Literal["plan_update"] = "plan_update"
    explanation: str | None = None
    plan: list[PlanStep]


# --- review ---------------------------------------------------------------------------------


class EnteredReviewModeEvent(ReviewRequest, kw_only=True):
    type: Literal["entered_review_mode"] = "entered_review_mode"


class ExitedReviewModeEvent(WireModel, kw_only=True):
    type: Literal["exited_review_mode"] = "exited_review_mode"
    review_output: ReviewOutput | None = None


# --- replies to query ops -------------------------------------------------------------------


class HistoryEntry(WireModel, kw_only=True):
    conversation_id: str
    ts: int
    text: str


class GetHistoryEntryResponseEvent(WireModel, kw_only=True):
    type: Literal["get_history_entry_response"] = "get_history_entry_response"
    offset: int
    log_id: int
    entry: OmitNone[HistoryEntry] = None


class CustomPrompt(WireModel, kw_only=True):
    name: str
    path: str
    content: str
    description: OmitNone[str] = None
    argument_hint: OmitNone[str] = None


class ListCustomPromptsResponseEvent(WireModel, kw_only=True):
    type: Literal["list_custom_prompts_response"] = "list_custom_prompts_response"
    custom_prompts: list[CustomPrompt] = msgspec.field(default_factory=list)


class UndoStartedEvent(WireModel, kw_only=True):
    type: Literal["undo_started"] = "undo_started"
    message: OmitNone[str] = None


class UndoCompletedEvent(WireModel, kw_only=True):
    type: Literal["undo_completed"] = "undo_completed"
    success: bool
    message: OmitNone[str] = None


EVENT_VARIANTS: tuple[type[WireModel], ...] = (
    SessionConfiguredEvent,
    TaskStartedEvent,
    TaskCompleteEvent,
    TurnAbortedEvent,
    ShutdownCompleteEvent,
    ThreadSettingsAppliedEvent,
    ThreadRolledBackEvent,
    ContextCompactedEvent,
    TokenCountEvent,
    ErrorEvent,
    WarningEvent,
    StreamErrorEvent,
    BackgroundEventEvent,
    DeprecationNoticeEvent,
    UserMessageEvent,
    AgentMessageEvent,
    AgentMessageDeltaEvent,
    AgentReasoningEvent,
    AgentReasoningDeltaEvent,
    AgentReasoningRawContentEvent,
    AgentReasoningRawContentDeltaEvent,
    AgentReasoningSectionBreakEvent,
    AgentMessageContentDeltaEvent,
    PlanDeltaEvent,
    ReasoningContentDeltaEvent,
    ReasoningRawContentDeltaEvent,
    RawResponseItemEvent,
    ItemStartedEvent,
    ItemCompletedEvent,
    PlanUpdateEvent,
    EnteredReviewModeEvent,
    ExitedReviewModeEvent,
    GetHistoryEntryResponseEvent,
    ListCustomPromptsResponseEvent,
    UndoStartedEvent,
    UndoCompletedEvent,
    ExecCommandBeginEvent,
    ExecCommandOutputDeltaEvent,
    ExecCommandEndEvent,
    ExecApprovalRequestEvent,
    ApplyPatchApprovalRequestEvent,
    PatchApplyBeginEvent,
    PatchApplyEndEvent,
    TurnDiffEvent,
    McpToolCallBeginEvent,
    McpToolCallEndEvent,
    McpStartupUpdateEvent,
    McpStartupCompleteEvent,
    McpListToolsResponseEvent,
    WebSearchBeginEvent,
    WebSearchEndEvent,
    ViewImageToolCallEvent,
)

EVENT_UNION = wire_union("event", EVENT_VARIANTS)
if TYPE_CHECKING:
    EventMsg = (
        SessionConfiguredEvent
        | TaskStartedEvent
        | TaskCompleteEvent
        | TurnAbortedEvent
        | ShutdownCompleteEvent
        | ThreadSettingsAppliedEvent
        | ThreadRolledBackEvent
        | ContextCompactedEvent
        | TokenCountEvent
        | ErrorEvent
        | WarningEvent
        | StreamErrorEvent
        | BackgroundEventEvent
        | DeprecationNoticeEvent
        | UserMessageEvent
        | AgentMessageEvent
        | AgentMessageDeltaEvent
        | AgentReasoningEvent
        | AgentReasoningDeltaEvent
        | AgentReasoningRawContentEvent
        | AgentReasoningRawContentDeltaEvent
        | AgentReasoningSectionBreakEvent
        | AgentMessageContentDeltaEvent
        | PlanDeltaEvent
        | ReasoningContentDeltaEvent
        | ReasoningRawContentDeltaEvent
        | RawResponseItemEvent
        | ItemStartedEvent
        | ItemCompletedEvent
        | PlanUpdateEvent
        | EnteredReviewModeEvent
        | ExitedReviewModeEvent
        | GetHistoryEntryResponseEvent
        | ListCustomPromptsResponseEvent
        | UndoStartedEvent
        | UndoCompletedEvent
        | ExecCommandBeginEvent
        | ExecCommandOutputDeltaEvent
        | ExecCommandEndEvent
        | ExecApprovalRequestEvent
        | ApplyPatchApprovalRequestEvent
        | PatchApplyBeginEvent
        | PatchApplyEndEvent
        | TurnDiffEvent
        | McpToolCallBeginEvent
        | McpToolCallEndEvent
        | McpStartupUpdateEvent
        | McpStartupCompleteEvent
        | McpListToolsResponseEvent
        | WebSearchBeginEvent
        | WebSearchEndEvent
        | ViewImageToolCallEvent
    )
else:
    EventMsg = EVENT_UNION

EVENT_TYPES: frozenset[str] = frozenset(tag_of(cls) for cls in EVENT_VARIANTS)


class Event(WireModel, kw_only=True):
    """One entry of the event queue; ``id`` is the submission it answers."""

    id: str
    msg: EventMsg


def parse_event_msg(data: Any) -> EventMsg:
    """Validate one event payload. Unknown ``type`` → ``ValueError`` naming it; bad fields
    → :class:`~pycodex.protocol._wire.WireError` (a ``ValueError`` too)."""
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in EVENT_TYPES:
        raise ValueError(f"unknown event type {kind!r}")
    event: EventMsg = EVENT_UNION.parse(data)
    return event


def event_msg_to_wire(event: EventMsg) -> dict[str, Any]:
    return event.to_wire()
