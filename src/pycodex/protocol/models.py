"""Items of the model-facing conversation (the Responses API `input`/`output` items).

Every model keeps unknown fields (``extra="allow"``) so an item read from a provider or a
rollout is written back equivalent: pycodex must never silently drop data the model
produced (encrypted reasoning, annotations, statuses it does not understand). Unknown
fields are written back verbatim, explicit ``null``s included. Declared optional fields are
left out when ``None`` (as Codex does), so the one documented loss is an explicit ``null``
on a declared optional field (e.g. ``"id": null``), which comes back absent.
Unknown item types load as :class:`OtherItem`, unknown content parts as
:class:`OtherContent`. Serialize with :func:`item_to_wire`; parse with
:func:`parse_response_item`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

from pycodex.protocol._wire import OmitNone
from pycodex.protocol._wire import WireModel as _Wire

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
    detail: OmitNone[str] = None


class OtherContent(_Wire):
    """A content part pycodex does not model (``refusal``, ``input_file``, …); kept verbatim."""

    type: str
    # Declared so code handling "any part with text" type-checks; None when the part has none.
    text: OmitNone[str] = None


_CONTENT_TYPES = frozenset({"input_text", "output_text", "input_image"})


def _content_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in _CONTENT_TYPES else "other"


ContentItem = Annotated[
    Annotated[InputText, Tag("input_text")]
    | Annotated[OutputText, Tag("output_text")]
    | Annotated[InputImage, Tag("input_image")]
    | Annotated[OtherContent, Tag("other")],
    Discriminator(_content_tag),
]


# --- response items ----------------------------------------------------------------------

class MessageItem(_Wire):
    type: Literal["message"] = "message"
    id: OmitNone[str] = None
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
    id: OmitNone[str] = None
    summary: list[ReasoningSummaryText] = Field(default_factory=list)
    content: OmitNone[list[ReasoningContentText]] = None
    encrypted_content: OmitNone[str] = None


class FunctionCallItem(_Wire):
    type: Literal["function_call"] = "function_call"
    id: OmitNone[str] = None
    name: str
    namespace: OmitNone[str] = None
    arguments: str
    call_id: str


class FunctionCallOutputItem(_Wire):
    type: Literal["function_call_output"] = "function_call_output"
    id: OmitNone[str] = None
    call_id: str
    # A plain string, or content parts (MCP results carry input_text/input_image parts).
    output: str | list[ContentItem]


class CustomToolCallItem(_Wire):
    type: Literal["custom_tool_call"] = "custom_tool_call"
    id: OmitNone[str] = None
    call_id: str
    name: str
    input: str


class CustomToolCallOutputItem(_Wire):
    type: Literal["custom_tool_call_output"] = "custom_tool_call_output"
    id: OmitNone[str] = None
    call_id: str
    output: str | list[ContentItem]


class LocalShellExecAction(_Wire):
    type: Literal["exec"] = "exec"
    command: list[str]
    timeout_ms: OmitNone[int] = None
    working_directory: OmitNone[str] = None
    env: OmitNone[dict[str, str]] = None
    user: OmitNone[str] = None


class LocalShellCallItem(_Wire):
    type: Literal["local_shell_call"] = "local_shell_call"
    id: OmitNone[str] = None
    call_id: OmitNone[str] = None
    status: str = "completed"
    action: LocalShellExecAction


class WebSearchCallItem(_Wire):
    type: Literal["web_search_call"] = "web_search_call"
    id: OmitNone[str] = None
    status: OmitNone[str] = None
    action: OmitNone[dict[str, Any]] = None


class ToolSearchCallItem(_Wire):
    type: Literal["tool_search_call"] = "tool_search_call"
    id: OmitNone[str] = None
    call_id: OmitNone[str] = None
    execution: OmitNone[str] = None
    arguments: OmitNone[Any] = None


class ToolSearchOutputItem(_Wire):
    type: Literal["tool_search_output"] = "tool_search_output"
    id: OmitNone[str] = None
    call_id: OmitNone[str] = None
    status: OmitNone[str] = None
    execution: OmitNone[str] = None
    tools: list[dict[str, Any]] = Field(default_factory=list)


class CompactionItem(_Wire):
    """Server-side compaction summary (opaque to us, sent back verbatim)."""

    type: Literal["compaction", "compaction_summary"] = "compaction"
    id: OmitNone[str] = None
    encrypted_content: OmitNone[str] = None


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
_known_adapter: TypeAdapter[Any] = TypeAdapter(_KnownItem, config=ConfigDict(defer_build=True))


def _item_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind == "compaction_summary":
        return "compaction"
    return kind if kind in _KNOWN_TYPES else "other"


# `ResponseItem` for use as a pydantic field type (e.g. an event carrying an item): the
# bare union above would let a malformed known item slip through as `OtherItem`.
ResponseItemField = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[ReasoningItem, Tag("reasoning")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[CustomToolCallItem, Tag("custom_tool_call")]
    | Annotated[CustomToolCallOutputItem, Tag("custom_tool_call_output")]
    | Annotated[LocalShellCallItem, Tag("local_shell_call")]
    | Annotated[WebSearchCallItem, Tag("web_search_call")]
    | Annotated[ToolSearchCallItem, Tag("tool_search_call")]
    | Annotated[ToolSearchOutputItem, Tag("tool_search_output")]
    | Annotated[CompactionItem, Tag("compaction")]
    | Annotated[OtherItem, Tag("other")],
    Discriminator(_item_tag),
]


def parse_response_item(data: dict[str, Any]) -> ResponseItem:
    """Validate one wire item; unknown ``type``s become :class:`OtherItem`.

    Raises ``pydantic.ValidationError`` when a known type is malformed.
    """
    if data.get("type") in _KNOWN_TYPES:
        item: ResponseItem = _known_adapter.validate_python(data)
        return item
    return OtherItem.model_validate(data)


def item_to_wire(item: BaseModel) -> dict[str, Any]:
    """The JSON object sent to the provider / written to a rollout.

    Declared optional fields that are ``None`` are left out; unknown fields are written
    exactly as received (a global ``exclude_none`` would also strip their ``null``s).
    """
    return item.model_dump(mode="json")


def user_message(text: str) -> MessageItem:
    return MessageItem(role="user", content=[InputText(text=text)])


def developer_message(*texts: str) -> MessageItem:
    return MessageItem(role="developer", content=[InputText(text=t) for t in texts])


def assistant_message(text: str) -> MessageItem:
    return MessageItem(role="assistant", content=[OutputText(text=text)])
