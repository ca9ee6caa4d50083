"""Items of the model-facing conversation (the Responses API `input`/`output` items).

Every model keeps unknown fields (``extra="allow"``) so an item read from a provider or a
rollout is written back byte-for-byte equivalent: pycodex must never silently drop data
the model produced (encrypted reasoning, annotations, statuses it does not understand).
Serialize with :func:`item_to_wire`; parse with :func:`parse_response_item`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- message content parts -------------------------------------------------------------

class InputText(_Wire):
    type: Literal["input_text"] = "input_text"
    text: str


class OutputText(_Wire):
    type: Literal["output_text"] = "output_text"
    text: str


class InputImage(_Wire):
    type: Literal["input_image"] = "input_image"
    image_url: str
    detail: str | None = None


ContentItem = Annotated[InputText | OutputText | InputImage, Field(discriminator="type")]


# --- response items ----------------------------------------------------------------------

class MessageItem(_Wire):
    type: Literal["message"] = "message"
    id: str | None = None
    role: Literal["user", "assistant", "developer", "system"]
    content: list[ContentItem]

    def text(self) -> str:
        """The concatenated text of every text part."""
        return "".join(
            part.text for part in self.content if isinstance(part, InputText | OutputText)
        )


class ReasoningSummaryText(_Wire):
    type: Literal["summary_text"] = "summary_text"
    text: str


class ReasoningContentText(_Wire):
    type: Literal["reasoning_text", "text"] = "reasoning_text"
    text: str


class ReasoningItem(_Wire):
    type: Literal["reasoning"] = "reasoning"
    id: str | None = None
    summary: list[ReasoningSummaryText] = Field(default_factory=list)
    content: list[ReasoningContentText] | None = None
    encrypted_content: str | None = None


class FunctionCallItem(_Wire):
    type: Literal["function_call"] = "function_call"
    id: str | None = None
    name: str
    namespace: str | None = None
    arguments: str
    call_id: str


class FunctionCallOutputItem(_Wire):
    type: Literal["function_call_output"] = "function_call_output"
    id: str | None = None
    call_id: str
    # A plain string, or content parts (MCP results carry input_text/input_image parts).
    output: str | list[ContentItem]


class CustomToolCallItem(_Wire):
    type: Literal["custom_tool_call"] = "custom_tool_call"
    id: str | None = None
    call_id: str
    name: str
    input: str


class CustomToolCallOutputItem(_Wire):
    type: Literal["custom_tool_call_output"] = "custom_tool_call_output"
    id: str | None = None
    call_id: str
    output: str | list[ContentItem]


class LocalShellExecAction(_Wire):
    type: Literal["exec"] = "exec"
    command: list[str]
    timeout_ms: int | None = None
    working_directory: str | None = None
    env: dict[str, str] | None = None
    user: str | None = None


class LocalShellCallItem(_Wire):
    type: Literal["local_shell_call"] = "local_shell_call"
    id: str | None = None
    call_id: str | None = None
    status: str = "completed"
    action: LocalShellExecAction


class WebSearchCallItem(_Wire):
    type: Literal["web_search_call"] = "web_search_call"
    id: str | None = None
    status: str | None = None
    action: dict[str, Any] | None = None


class ToolSearchCallItem(_Wire):
    type: Literal["tool_search_call"] = "tool_search_call"
    id: str | None = None
    call_id: str | None = None
    execution: str | None = None
    arguments: Any = None


class ToolSearchOutputItem(_Wire):
    type: Literal["tool_search_output"] = "tool_search_output"
    id: str | None = None
    call_id: str | None = None
    status: str | None = None
    execution: str | None = None
    tools: list[dict[str, Any]] = Field(default_factory=list)


class CompactionItem(_Wire):
    """Server-side compaction summary (opaque to us, sent back verbatim)."""

    type: Literal["compaction", "compaction_summary"] = "compaction"
    id: str | None = None
    encrypted_content: str | None = None


class OtherItem(_Wire):
    """Any item type pycodex does not model; kept verbatim so history is never lost."""

    type: str


_KnownItem = Annotated[
    MessageItem
    | ReasoningItem
    | FunctionCallItem
    | FunctionCallOutputItem
    | CustomToolCallItem
    | CustomToolCallOutputItem
    | LocalShellCallItem
    | WebSearchCallItem
    | ToolSearchCallItem
    | ToolSearchOutputItem
    | CompactionItem,
    Field(discriminator="type"),
]

ResponseItem = (
    MessageItem
    | ReasoningItem
    | FunctionCallItem
    | FunctionCallOutputItem
    | CustomToolCallItem
    | CustomToolCallOutputItem
    | LocalShellCallItem
    | WebSearchCallItem
    | ToolSearchCallItem
    | ToolSearchOutputItem
    | CompactionItem
    | OtherItem
)

_KNOWN_TYPES = frozenset(
    {
        "message", "reasoning", "function_call", "function_call_output", "custom_tool_call",
        "custom_tool_call_output", "local_shell_call", "web_search_call", "tool_search_call",
        "tool_search_output", "compaction", "compaction_summary",
    }
)
_known_adapter: TypeAdapter[Any] = TypeAdapter(_KnownItem)


def parse_response_item(data: dict[str, Any]) -> ResponseItem:
    """Validate one wire item; unknown ``type``s become :class:`OtherItem`.

    Raises ``pydantic.ValidationError`` when a known type is malformed.
    """
    if data.get("type") in _KNOWN_TYPES:
        item: ResponseItem = _known_adapter.validate_python(data)
        return item
    return OtherItem.model_validate(data)


def item_to_wire(item: BaseModel) -> dict[str, Any]:
    """The JSON object sent to the provider / written to a rollout (``None`` fields dropped)."""
    return item.model_dump(mode="json", exclude_none=True)


def user_message(text: str) -> MessageItem:
    return MessageItem(role="user", content=[InputText(text=text)])


def developer_message(*texts: str) -> MessageItem:
    return MessageItem(role="developer", content=[InputText(text=t) for t in texts])


def assistant_message(text: str) -> MessageItem:
    return MessageItem(role="assistant", content=[OutputText(text=text)])
