"""The Chat Completions wire (`wire_api = "chat"`): history → `messages`, Responses tool
specs → chat function tools, and the `chat.completion.chunk` stream → the same events the
Responses path yields.

Custom (freeform) tools do not exist in Chat Completions, so they are offered as function
tools taking one string argument `input`, and calls to them come back as
`CustomToolCallItem`s: the rest of pycodex never learns which wire was used.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from typing import Any

import msgspec

from pycodex.client.errors import InvalidResponse, StreamDisconnected
from pycodex.client.events import (
    Completed,
    Created,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    ReasoningContentDelta,
    ResponseEvent,
    TokenUsage,
)
from pycodex.client.prompt import Prompt
from pycodex.client.responses import (
    OUTPUT_SCHEMA_NAME,
    RequestSettings,
    decode_json,
    error_from_failure,
)
from pycodex.client.sse import SseEvent
from pycodex.protocol.models import (
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputImage,
    InputText,
    LocalShellCallItem,
    MessageItem,
    OutputText,
    ReasoningContentText,
    ReasoningItem,
    ResponseItem,
)

PATH = "chat/completions"

_CUSTOM_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"input": {"type": "string"}},
    "required": ["input"],
}


# --- request ---------------------------------------------------------------------------------

def convert_tools(tools: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], set[str]]:
    """Chat tool list and the names of tools that are custom (freeform) on the Responses side.

    Responses-only tool types (web_search, tool_search, local_shell, namespaces...) have no
    Chat Completions equivalent and are left out.
    """
    out: list[dict[str, Any]] = []
    custom: set[str] = set()
    for tool in tools:
        kind = tool.get("type")
        if kind == "function":
            function: dict[str, Any] = {"name": tool["name"]}
            if tool.get("description"):
                function["description"] = tool["description"]
            function["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
            out.append({"type": "function", "function": function})
        elif kind == "custom":
            custom.add(tool["name"])
            function = {"name": tool["name"]}
            if tool.get("description"):
                function["description"] = tool["description"]
            function["parameters"] = _CUSTOM_INPUT_SCHEMA
            out.append({"type": "function", "function": function})
    return out, custom


IMAGE_FOLLOWS = "(the image is attached in the next message)"


def _output_content(output: str | list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """A tool result as Chat Completions allows it: text in the `tool` message (servers
    reject image parts there), images returned separately for a user message after it."""
    if isinstance(output, str):
        return output, []
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    for part in output:
        if isinstance(part, InputImage):
            images.append({"type": "image_url", "image_url": {"url": part.image_url}})
        elif isinstance(part, InputText | OutputText):
            texts.append(part.text)
    if images:
        texts.append(IMAGE_FOLLOWS)
    return "\n".join(texts), images


def _message(item: MessageItem) -> dict[str, Any]:
    role = "system" if item.role in ("developer", "system") else item.role
    text = "".join(p.text for p in item.content if isinstance(p, InputText | OutputText))
    has_image = any(isinstance(p, InputImage) for p in item.content)
    if role == "user" and has_image:
        parts: list[dict[str, Any]] = []
        for p in item.content:
            if isinstance(p, InputImage):
                parts.append({"type": "image_url", "image_url": {"url": p.image_url}})
            else:
                parts.append({"type": "text", "text": p.text})
        return {"role": role, "content": parts}
    return {"role": role, "content": text}


def _tool_call(item: ResponseItem) -> dict[str, Any] | None:
    if isinstance(item, FunctionCallItem):
        name, arguments, call_id = item.name, item.arguments, item.call_id
    elif isinstance(item, CustomToolCallItem):
        name, arguments, call_id = item.name, json.dumps({"input": item.input}), item.call_id
    elif isinstance(item, LocalShellCallItem):
        call_id = item.call_id or item.id or ""
        name, arguments = "local_shell", json.dumps({"command": item.action.command})
    else:
        return None
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def build_messages(items: Iterable[ResponseItem]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    # Images from tool results, shown in one user message once the run of `tool`
    # messages ends (nothing may come between an assistant's calls and their results).
    pending_images: list[dict[str, Any]] = []
    for item in items:
        if pending_images and not isinstance(item, FunctionCallOutputItem | CustomToolCallOutputItem):
            messages.append({"role": "user", "content": pending_images})
            pending_images = []
        call = _tool_call(item)
        if call is not None:
            last = messages[-1] if messages else None
            # Parallel calls must share one assistant message, followed by their results.
            if last is not None and last["role"] == "assistant" and last.get("tool_calls"):
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif isinstance(item, FunctionCallOutputItem | CustomToolCallOutputItem):
            text, images = _output_content(item.output)
            messages.append({"role": "tool", "tool_call_id": item.call_id, "content": text})
            pending_images.extend(images)
        elif isinstance(item, MessageItem):
            messages.append(_message(item))
        # Reasoning, web search, compaction and unknown items mean nothing to a chat model.
    if pending_images:
        messages.append({"role": "user", "content": pending_images})
    return messages


def build_body(prompt: Prompt, settings: RequestSettings) -> dict[str, Any]:
    tools, _ = convert_tools(prompt.tools)
    body: dict[str, Any] = {
        "model": settings.model,
        "messages": build_messages(prompt.input),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if tools:  # several local servers reject an empty `tools` list
        body["tools"] = tools
        body["tool_choice"] = "auto"
    if settings.reasoning_effort and settings.reasoning_effort != "none":
        body["reasoning_effort"] = settings.reasoning_effort
    if prompt.output_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": OUTPUT_SCHEMA_NAME, "schema": prompt.output_schema, "strict": True},
        }
    return body


# --- response stream -------------------------------------------------------------------------

class _ToolCallState(msgspec.Struct):
    call_id: str = ""
    name: str = ""
    arguments: str = ""


class _ChatState(msgspec.Struct):
    custom_tools: set[str]
    text: str = ""
    reasoning: str = ""
    message_started: bool = False
    reasoning_started: bool = False
    tool_calls: dict[int, _ToolCallState] = msgspec.field(default_factory=dict)
    finish_reason_seen: bool = False
    usage: TokenUsage | None = None
    response_id: str = ""


def _usage(raw: Any) -> TokenUsage | None:
    if not isinstance(raw, dict):
        return None

    def num(obj: Any, key: str) -> int:
        value = obj.get(key) if isinstance(obj, dict) else None
        return int(value) if isinstance(value, int | float) else 0

    prompt_tokens, completion = num(raw, "prompt_tokens"), num(raw, "completion_tokens")
    return TokenUsage(
        input_tokens=prompt_tokens,
        cached_input_tokens=num(raw.get("prompt_tokens_details"), "cached_tokens"),
        output_tokens=completion,
        reasoning_output_tokens=num(raw.get("completion_tokens_details"), "reasoning_tokens"),
        total_tokens=num(raw, "total_tokens") or prompt_tokens + completion,
    )


def _finish(state: _ChatState) -> list[ResponseEvent]:
    """The finished items, in the order a Responses stream would carry them."""
    events: list[ResponseEvent] = []
    if state.reasoning_started:
        events.append(OutputItemDone(ReasoningItem(content=[ReasoningContentText(text=state.reasoning)])))
    if state.message_started:
        events.append(OutputItemDone(MessageItem(role="assistant", content=[OutputText(text=state.text)])))
    for index in sorted(state.tool_calls):
        call = state.tool_calls[index]
        item: ResponseItem
        if call.name in state.custom_tools:
            item = CustomToolCallItem(call_id=call.call_id, name=call.name, input=_custom_input(call.arguments))
        else:
            item = FunctionCallItem(call_id=call.call_id, name=call.name, arguments=call.arguments)
        events += [OutputItemAdded(item), OutputItemDone(item)]
    return events


def _custom_input(arguments: str) -> str:
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments  # the model ignored the schema; its raw text is the best guess
    value = parsed.get("input") if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else arguments


def _apply_delta(state: _ChatState, delta: dict[str, Any]) -> list[ResponseEvent]:
    events: list[ResponseEvent] = []
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        if not state.reasoning_started:
            state.reasoning_started = True
            events.append(OutputItemAdded(ReasoningItem()))
        state.reasoning += reasoning
        events.append(ReasoningContentDelta(delta=reasoning, content_index=0))
    content = delta.get("content")
    if isinstance(content, str) and content:
        if not state.message_started:
            state.message_started = True
            events.append(OutputItemAdded(MessageItem(role="assistant", content=[])))
        state.text += content
        events.append(OutputTextDelta(item_id=None, delta=content))
    for fragment in delta.get("tool_calls") or []:
        if not isinstance(fragment, dict):
            continue
        index = fragment.get("index", len(state.tool_calls))
        call = state.tool_calls.setdefault(int(index), _ToolCallState())
        if fragment.get("id"):
            call.call_id = str(fragment["id"])
        function = fragment.get("function") or {}
        name = function.get("name")
        # Most servers send the name once; some repeat it in every fragment.
        if name and name != call.name:
            call.name = name if not call.name else call.name + name
        if isinstance(function.get("arguments"), str):
            call.arguments += function["arguments"]
    return events


async def parse_stream(
    events: AsyncIterator[SseEvent], custom_tools: set[str]
) -> AsyncGenerator[ResponseEvent, None]:
    state = _ChatState(custom_tools=custom_tools)
    created = False
    async for sse in events:
        if sse.data.strip() == "[DONE]":
            break
        chunk = decode_json(sse)
        if "error" in chunk:
            raise error_from_failure(chunk["error"])
        if not created:
            created = True
            yield Created()
        state.response_id = str(chunk.get("id") or state.response_id)
        if chunk.get("usage") is not None:
            state.usage = _usage(chunk["usage"])
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise InvalidResponse(f"chat chunk without `choices`: {sse.data[:120]!r}")
        for choice in choices[:1]:
            for event in _apply_delta(state, choice.get("delta") or {}):
                yield event
            # The finished items wait for the end of the stream: a stream cut after this
            # chunk is retried, and an answer already handed out as final would be shown
            # twice (the cut one, then the retried one).
            if choice.get("finish_reason"):
                state.finish_reason_seen = True
    else:
        # A clean EOF without [DONE]: fine if the model finished (some servers omit the
        # terminator). A cut connection never gets here: the transport raised.
        if not state.finish_reason_seen:
            raise StreamDisconnected("stream closed before the chat completion finished")
    if not created:
        yield Created()
    for event in _finish(state):
        yield event
    yield Completed(response_id=state.response_id, token_usage=state.usage)
