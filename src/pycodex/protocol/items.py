"""Turn items: the structured record of a turn carried by ``item_started`` / ``item_completed``.

Core (rollout) form, as Codex 0.163 writes it in ``event_msg`` ``item_completed`` lines:
``type`` is the PascalCase variant name (``UserMessage``, ``AgentMessage``,
``CommandExecution``, ...) and fields are snake_case; a ``Duration`` is
``{"secs", "nanos"}``. The app-server's camelCase items (``commandExecution``,
``aggregatedOutput``) and exec's JSONL items (``command_execution``) are renderings made by
those front ends, not this module.

Item types pycodex does not model (Codex has more: HookPrompt, DynamicToolCall…)
load as :class:`OtherTurnItem` so an old or newer rollout always reads.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from pycodex.protocol._wire import OmitNone, RustDuration, WireModel, tag_of, wire_union
from pycodex.protocol.user_input import TextInput, UserInput

ItemStatus = Literal["in_progress", "completed", "failed", "declined"]


# --- shared pieces (also used by exec / patch events) ----------------------------------


class AddFileChange(WireModel, kw_only=True):
    type: Literal["add"] = "add"
    content: str


class DeleteFileChange(WireModel, kw_only=True):
    type: Literal["delete"] = "delete"
    content: str


class UpdateFileChange(WireModel, kw_only=True):
    type: Literal["update"] = "update"
    unified_diff: str
    # serde writes `move_path: null` for a plain update (no skip_serializing_if).
    move_path: str | None = None


FILE_CHANGE_UNION = wire_union("file change", (AddFileChange, DeleteFileChange, UpdateFileChange))
if TYPE_CHECKING:
    FileChange = AddFileChange | DeleteFileChange | UpdateFileChange
else:
    FileChange = FILE_CHANGE_UNION


class ParsedCommand(WireModel, kw_only=True):
    """Codex's best-effort reading of a shell command, for display.

    ``type`` is ``read`` (name, path), ``list_files`` (path), ``search`` (query, path) or
    ``unknown``; kept as one lenient model because front ends only render it.
    """

    type: str
    cmd: str
    name: OmitNone[str] = None
    path: OmitNone[str] = None
    query: OmitNone[str] = None


class ExecCommandSource(StrEnum):
    AGENT = "agent"
    USER_SHELL = "user_shell"
    UNIFIED_EXEC_STARTUP = "unified_exec_startup"
    UNIFIED_EXEC_INTERACTION = "unified_exec_interaction"


# --- turn items -----------------------------------------------------------------------------


class UserMessageTurnItem(WireModel, kw_only=True):
    type: Literal["UserMessage"] = "UserMessage"
    id: str
    client_id: OmitNone[str] = None
    content: list[UserInput]

    def text(self) -> str:
        return "".join(part.text for part in self.content if isinstance(part, TextInput))


class AgentMessageText(WireModel, kw_only=True):
    type: Literal["Text"] = "Text"
    text: str


class AgentMessageTurnItem(WireModel, kw_only=True):
    type: Literal["AgentMessage"] = "AgentMessage"
    id: str
    content: list[AgentMessageText]
    phase: OmitNone[str] = None
    memory_citation: OmitNone[Any] = None

    def text(self) -> str:
        return "".join(part.text for part in self.content)


class PlanTurnItem(WireModel, kw_only=True):
    """A ``<proposed_plan>`` block from plan mode (final text, not the deltas)."""

    type: Literal["Plan"] = "Plan"
    id: str
    text: str


class ReasoningTurnItem(WireModel, kw_only=True):
    type: Literal["Reasoning"] = "Reasoning"
    id: str
    summary_text: list[str]
    raw_content: list[str] = msgspec.field(default_factory=list)


class CommandExecutionTurnItem(WireModel, kw_only=True):
    type: Literal["CommandExecution"] = "CommandExecution"
    id: str
    process_id: OmitNone[str] = None
    command: list[str]
    # 0.163 writes a file:// URI here (`"cwd": "file:///workspace"`); kept as written.
    cwd: str
    parsed_cmd: list[ParsedCommand] = msgspec.field(default_factory=list)
    source: ExecCommandSource = ExecCommandSource.AGENT
    interaction_input: OmitNone[str] = None
    status: ItemStatus
    stdout: OmitNone[str] = None
    stderr: OmitNone[str] = None
    aggregated_output: OmitNone[str] = None
    exit_code: OmitNone[int] = None
    duration: OmitNone[RustDuration] = None
    formatted_output: OmitNone[str] = None


class FileChangeTurnItem(WireModel, kw_only=True):
    type: Literal["FileChange"] = "FileChange"
    id: str
    changes: dict[str, FileChange]
    status: OmitNone[ItemStatus] = None
    auto_approved: OmitNone[bool] = None
    stdout: OmitNone[str] = None
    stderr: OmitNone[str] = None


class McpToolCallError(WireModel, kw_only=True):
    message: str


class McpToolCallTurnItem(WireModel, kw_only=True):
    type: Literal["McpToolCall"] = "McpToolCall"
    id: str
    server: str
    tool: str
    arguments: Any = None
    status: ItemStatus
    # An MCP CallToolResult (content, structured_content, is_error), kept as sent.
    result: OmitNone[dict[str, Any]] = None
    error: OmitNone[McpToolCallError] = None
    duration: OmitNone[RustDuration] = None


class WebSearchTurnItem(WireModel, kw_only=True):
    type: Literal["WebSearch"] = "WebSearch"
    id: str
    query: str
    # The Responses `web_search_call.action` ({"type": "search", "query": ...}), verbatim.
    action: OmitNone[dict[str, Any]] = None


class ImageViewTurnItem(WireModel, kw_only=True):
    """An image the model looked at with `view_image` (the file's path)."""

    type: Literal["ImageView"] = "ImageView"
    id: str
    path: str


class ContextCompactionTurnItem(WireModel, kw_only=True):
    type: Literal["ContextCompaction"] = "ContextCompaction"
    id: str


class EnteredReviewModeTurnItem(WireModel, kw_only=True):
    """A review started; ``review`` is what it reviews, for the user (the request's hint)."""

    type: Literal["EnteredReviewMode"] = "EnteredReviewMode"
    id: str
    review: str


class ExitedReviewModeTurnItem(WireModel, kw_only=True):
    """A review ended; ``review`` is its rendered result (or says it was interrupted)."""

    type: Literal["ExitedReviewMode"] = "ExitedReviewMode"
    id: str
    review: str


class OtherTurnItem(WireModel, kw_only=True):
    """A turn item type pycodex does not model; kept verbatim."""

    type: str
    id: OmitNone[str] = None


_TURN_ITEM_CLASSES: tuple[type[WireModel], ...] = (
    UserMessageTurnItem,
    AgentMessageTurnItem,
    PlanTurnItem,
    ReasoningTurnItem,
    CommandExecutionTurnItem,
    FileChangeTurnItem,
    McpToolCallTurnItem,
    WebSearchTurnItem,
    ImageViewTurnItem,
    ContextCompactionTurnItem,
    EnteredReviewModeTurnItem,
    ExitedReviewModeTurnItem,
)
TURN_ITEM_TYPES: frozenset[str] = frozenset(tag_of(cls) for cls in _TURN_ITEM_CLASSES)

TURN_ITEM_UNION = wire_union("turn item", _TURN_ITEM_CLASSES, fallback=OtherTurnItem)
if TYPE_CHECKING:
    TurnItem = (
        UserMessageTurnItem
        | AgentMessageTurnItem
        | PlanTurnItem
        | ReasoningTurnItem
        | CommandExecutionTurnItem
        | FileChangeTurnItem
        | McpToolCallTurnItem
        | WebSearchTurnItem
        | ImageViewTurnItem
        | ContextCompactionTurnItem
        | EnteredReviewModeTurnItem
        | ExitedReviewModeTurnItem
        | OtherTurnItem
    )
else:
    TurnItem = TURN_ITEM_UNION
