"""Turn items: the structured record of a turn carried by ``item_started`` / ``item_completed``.

Core (rollout) form, as Codex 0.163 writes it in ``event_msg`` ``item_completed`` lines:
``type`` is the PascalCase variant name (``UserMessage``, ``AgentMessage``,
``CommandExecution``, ...) and fields are snake_case; a ``Duration`` is
``{"secs", "nanos"}``. The app-server's camelCase items (``commandExecution``,
``aggregatedOutput``) and exec's JSONL items (``command_execution``) are renderings made by
those front ends, not this module.

Item types pycodex does not model (Codex has more: HookPrompt, ImageView, DynamicToolCall…)
load as :class:`OtherTurnItem` so an old or newer rollout always reads.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from pycodex.protocol._wire import OmitNone, RustDuration, WireModel
from pycodex.protocol.user_input import TextInput, UserInput

ItemStatus = Literal["in_progress", "completed", "failed", "declined"]


# --- shared pieces (also used by exec / patch events) ----------------------------------


class AddFileChange(WireModel):
    type: Literal["add"] = "add"
    content: str


class DeleteFileChange(WireModel):
    type: Literal["delete"] = "delete"
    content: str


class UpdateFileChange(WireModel):
    type: Literal["update"] = "update"
    unified_diff: str
    # serde writes `move_path: null` for a plain update (no skip_serializing_if).
    move_path: str | None = None


FileChange = Annotated[
    AddFileChange | DeleteFileChange | UpdateFileChange, Field(discriminator="type")
]


class ParsedCommand(WireModel):
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


class UserMessageTurnItem(WireModel):
    type: Literal["UserMessage"] = "UserMessage"
    id: str
    client_id: OmitNone[str] = None
    content: list[UserInput]

    def text(self) -> str:
        return "".join(part.text for part in self.content if isinstance(part, TextInput))


class AgentMessageText(WireModel):
    type: Literal["Text"] = "Text"
    text: str


class AgentMessageTurnItem(WireModel):
    type: Literal["AgentMessage"] = "AgentMessage"
    id: str
    content: list[AgentMessageText]
    phase: OmitNone[str] = None
    memory_citation: OmitNone[Any] = None

    def text(self) -> str:
        return "".join(part.text for part in self.content)


class PlanTurnItem(WireModel):
    """A ``<proposed_plan>`` block from plan mode (final text, not the deltas)."""

    type: Literal["Plan"] = "Plan"
    id: str
    text: str


class ReasoningTurnItem(WireModel):
    type: Literal["Reasoning"] = "Reasoning"
    id: str
    summary_text: list[str]
    raw_content: list[str] = Field(default_factory=list)


class CommandExecutionTurnItem(WireModel):
    type: Literal["CommandExecution"] = "CommandExecution"
    id: str
    process_id: OmitNone[str] = None
    command: list[str]
    # 0.163 writes a file:// URI here (`"cwd": "file:///workspace"`); kept as written.
    cwd: str
    parsed_cmd: list[ParsedCommand] = Field(default_factory=list)
    source: ExecCommandSource = ExecCommandSource.AGENT
    interaction_input: OmitNone[str] = None
    status: ItemStatus
    stdout: OmitNone[str] = None
    stderr: OmitNone[str] = None
    aggregated_output: OmitNone[str] = None
    exit_code: OmitNone[int] = None
    duration: OmitNone[RustDuration] = None
    formatted_output: OmitNone[str] = None


class FileChangeTurnItem(WireModel):
    type: Literal["FileChange"] = "FileChange"
    id: str
    changes: dict[str, FileChange]
    status: OmitNone[ItemStatus] = None
    auto_approved: OmitNone[bool] = None
    stdout: OmitNone[str] = None
    stderr: OmitNone[str] = None


class McpToolCallError(WireModel):
    message: str


class McpToolCallTurnItem(WireModel):
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


class WebSearchTurnItem(WireModel):
    type: Literal["WebSearch"] = "WebSearch"
    id: str
    query: str
    # The Responses `web_search_call.action` ({"type": "search", "query": ...}), verbatim.
    action: OmitNone[dict[str, Any]] = None


class ContextCompactionTurnItem(WireModel):
    type: Literal["ContextCompaction"] = "ContextCompaction"
    id: str


class OtherTurnItem(WireModel):
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
    ContextCompactionTurnItem,
)
TURN_ITEM_TYPES: frozenset[str] = frozenset(
    cls.model_fields["type"].default for cls in _TURN_ITEM_CLASSES
)
_OTHER_TAG = "__other__"


def _turn_item_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in TURN_ITEM_TYPES else _OTHER_TAG


TurnItem = Annotated[
    Annotated[UserMessageTurnItem, Tag("UserMessage")]
    | Annotated[AgentMessageTurnItem, Tag("AgentMessage")]
    | Annotated[PlanTurnItem, Tag("Plan")]
    | Annotated[ReasoningTurnItem, Tag("Reasoning")]
    | Annotated[CommandExecutionTurnItem, Tag("CommandExecution")]
    | Annotated[FileChangeTurnItem, Tag("FileChange")]
    | Annotated[McpToolCallTurnItem, Tag("McpToolCall")]
    | Annotated[WebSearchTurnItem, Tag("WebSearch")]
    | Annotated[ContextCompactionTurnItem, Tag("ContextCompaction")]
    | Annotated[OtherTurnItem, Tag(_OTHER_TAG)],
    Discriminator(_turn_item_tag),
]
