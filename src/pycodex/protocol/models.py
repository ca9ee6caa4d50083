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

from typing import TYPE_CHECKING, Any, Literal

import msgspec

from pycodex.protocol._wire import OmitNone, wire_union
from pycodex.protocol._wire import WireModel as _Wire

# --- message content parts -------------------------------------------------------------

class InputText(_Wire, kw_only=True):
    type: Literal["input_text"] = "input_text"
    text: str


class OutputText(_Wire, kw_only=True):
    type: Literal["output_text"] = "output_text"
    text: str


class InputImage(_Wire, kw_only=True):
    type: Literal["input_image"] = "input_image"
    image_url: str
    detail: OmitNone[str] = None


class OtherContent(_Wire, kw_only=True):
    """A content part pycodex does not model (``refusal``, ``input_file``, …); kept verbatim."""

    type: str
    # Declared so code handling "any part with text" type-checks; None when the part has none.
    text: OmitNone[str] = None


CONTENT_ITEM_UNION = wire_union(
    "content part", (InputText, OutputText, InputImage), fallback=OtherContent
)
if TYPE_CHECKING:
    ContentItem = InputText | OutputText | InputImage | OtherContent
else:
    ContentItem = CONTENT_ITEM_UNION


# --- response items ----------------------------------------------------------------------

class MessageItem(_Wire, kw_only=True):
    type: Literal["message"] = "message"
    id: OmitNone[str] = None
    role: Literal["user", "assistant", "developer", "system"]
    content: list[ContentItem]

    def text(self) -> str:
        """The concatenated text of every text part."""
        return "".join(
            part.text for part in self.content if isinstance(part, InputText | OutputText)
        )


class ReasoningSummaryText(_Wire, kw_only=True):
    type: Literal["summary_text"] = "summary_text"
    text: str


class ReasoningContentText(_Wire, kw_only=True):
    type: Literal["reasoning_text", "text"] = "reasoning_text"
    text: str


class ReasoningItem(_Wire, kw_only=True):
    type: Literal["reasoning"] = "reasoning"
    id: OmitNone[str] = None
    summary: list[ReasoningSummaryText] = msgspec.field(default_factory=list)
    content: OmitNone[list[ReasoningContentText]] = None
    encrypted_content: OmitNone[str] = None


class FunctionCallItem(_Wire, kw_only=True):
    type: Literal["function_call"] = "function_call"
    id: OmitNone[str] = None
    name: str
    namespace: OmitNone[str] = None
    arguments: str
    call_id: str


class FunctionCallOutputItem(_Wire, kw_only=True):
    type: Literal["function_call_output"] = "function_call_output"
    id: OmitNone[str] = None
    call_id: str
    # A plain string, or content parts (MCP results carry input_text/input_image parts).
    output: str | list[ContentItem]


class CustomToolCallItem(_Wire, kw_only=True):
    type: Literal["custom_tool_call"] = "custom_tool_call"
    id: OmitNone[str] = None
    call_id: str
    name: str
    input: str


class CustomToolCallOutputItem(_Wire, kw_only=True):
    type: Literal["custom_tool_call_output"] = "custom_tool_call_output"
    id: OmitNone[str] = None
    call_id: str
    output: str | list[ContentItem]


class LocalShellExecAction(_Wire, kw_only=True):
    type: Literal["exec"] = "exec"
    command: list[str]
    timeout_ms: OmitNone[int] = None
    working_directory: OmitNone[str] = None
    env: OmitNone[dict[str, str]] = None
    user: OmitNone[str] = None


class LocalShellCallItem(_Wire, kw_only=True):
    type: Literal["local_shell_call"] = "local_shell_call"
    id: OmitNone[str] = None
    call_id: OmitNone[str] = None
    status: str = "completed"
    action: LocalShellExecAction


class WebSearchCallItem(_Wire, kw_only=True):
    type: Literal["web_search_call"] = "web_search_call"
    id: OmitNone[str] = None
    status: OmitNone[str] = None
    action: OmitNone[dict[str, Any]] = None


class ToolSearchCallItem(_Wire, kw_only=True):
    type: Literal["tool_search_call"] = "tool_search_call"
    id: OmitNone[str] = None
    call_id: OmitNone[str] = None
    execution: OmitNone[str] = None
    arguments: OmitNone[Any] = None


class ToolSearchOutputItem(_Wire, kw_only=True):
    type: Literal["tool_search_output"] = "tool_search_output"
    id: OmitNone[str] = None
    call_id: OmitNone[str] = None
    status: OmitNone[str] = None
    execution: OmitNone[str] = None
    tools: list[dict[str, Any]] = msgspec.field(default_factory=list)


class CompactionItem(_Wire, kw_only=True):
    """Server-side compaction summary (opaque to us, sent back verbatim)."""

    type: Literal["compaction", "compaction_summary"] = "compaction"
    id: OmitNone[str] = None
    encrypted_content: OmitNone[str] = None


class OtherItem(_Wire, kw_only=True):
    """Any item type pycodex does not model; kept verbatim so history is never lost."""

    type: str


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

_KNOWN_ITEMS = (
    MessageItem,
    ReasoningItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    LocalShellCallItem,
    WebSearchCallItem,
    ToolSearchCallItem,
    ToolSearchOutputItem,
    CompactionItem,
)

# `ResponseItem` as a field type (e.g. an event carrying an item): unknown types load as
# `OtherItem`, a malformed known item is an error (it must not slip through as `OtherItem`).
RESPONSE_ITEM_UNION = wire_union(
    "response item",
    _KNOWN_ITEMS,
    fallback=OtherItem,
    extra_tags={"compaction_summary": CompactionItem},
)
if TYPE_CHECKING:
    ResponseItemField = ResponseItem
else:
    ResponseItemField = RESPONSE_ITEM_UNION


def parse_response_item(data: Any) -> ResponseItem:
    """Validate one wire item; unknown ``type``s become :class:`OtherItem`.

    Raises :class:`~pycodex.protocol._wire.WireError` (a ``ValueError``) when a known type
    is malformed.
    """
    item: ResponseItem = RESPONSE_ITEM_UNION.parse(data)
    return item


def parse_response_item_json(raw: bytes) -> ResponseItem:
    """:func:`parse_response_item` from JSON text (a rollout line's payload); the item keeps
    that text as its wire form. Raises :class:`~pycodex.protocol._wire.WireError`."""
    item: ResponseItem = RESPONSE_ITEM_UNION.parse_json(raw)
    return item


def item_to_wire(item: _Wire) -> dict[str, Any]:
    """The JSON object sent to the provider / written to a rollout.

    Declared optional fields that are ``None`` are left out; unknown fields are written
    exactly as received (a global ``exclude_none`` would also strip their ``null``s).
    """
    return item.to_wire()


def user_message(text: str) -> MessageItem:
    return MessageItem(role="user", content=[InputText(text=text)])


def developer_message(*texts: str) -> MessageItem:
    return MessageItem(role="developer", content=[InputText(text=t) for t in texts])


def assistant_message(text: str) -> MessageItem:
    return MessageItem(role="assistant", content=[OutputText(text=text)])
