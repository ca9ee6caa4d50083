"""The Responses API wire: request body and SSE stream → :mod:`pycodex.client.events`."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import msgspec

from pycodex.client.errors import (
    ContextWindowExceeded,
    InvalidResponse,
    ModelClientError,
    QuotaExceeded,
    StreamDisconnected,
    UsageLimitReached,
    UsageNotIncluded,
)
from pycodex.client.events import (
    Completed,
    Created,
    CustomToolCallInputDelta,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    ReasoningContentDelta,
    ReasoningSummaryDelta,
    ReasoningSummaryPartAdded,
    ResponseEvent,
    TokenUsage,
    WebSearchCallBegin,
)
from pycodex.client.prompt import Prompt
from pycodex.client.retry import parse_try_again_in
from pycodex.client.sse import SseEvent
from pycodex.protocol.models import (
    ResponseItem,
    WebSearchCallItem,
    parse_response_item,
)

PATH = "responses"
OUTPUT_SCHEMA_NAME = "codex_output_schema"


class RequestSettings(msgspec.Struct, frozen=True):
    """Client defaults merged with the prompt's overrides."""

    model: str
    reasoning_effort: str | None
    reasoning_summary: str | None
    verbosity: str | None


def _reasoning(settings: RequestSettings) -> dict[str, str] | None:
    reasoning: dict[str, str] = {}
    if settings.reasoning_effort and settings.reasoning_effort != "none":
        reasoning["effort"] = settings.reasoning_effort
    if settings.reasoning_summary and settings.reasoning_summary != "none":
        reasoning["summary"] = settings.reasoning_summary
    return reasoning or None


def build_body(prompt: Prompt, settings: RequestSettings, thread_id: str) -> dict[str, Any]:
    """The request body, keys in the order Codex 0.163.0 sends them (spec §1.2)."""
    body: dict[str, Any] = {
        "model": settings.model,
        "stream": True,
        # Items read back from a rollout are sent as the JSON they were read from.
        "input": [item.wire_json() for item in prompt.input],
        "tools": list(prompt.tools),
        "tool_choice": "auto",
        "parallel_tool_calls": prompt.parallel_tool_calls,
    }
    reasoning = _reasoning(settings)
    if reasoning is not None:
        body["reasoning"] = reasoning
    body["store"] = False
    # Nothing is stored server-side, so encrypted reasoning must travel with the history.
    body["include"] = ["reasoning.encrypted_content"] if reasoning is not None else []
    body["prompt_cache_key"] = thread_id
    text: dict[str, Any] = {}
    if settings.verbosity:
        text["verbosity"] = settings.verbosity
    if prompt.output_schema is not None:
        text["format"] = {
            "type": "json_schema",
            "strict": True,
            "schema": prompt.output_schema,
            "name": OUTPUT_SCHEMA_NAME,
        }
    if text:
        body["text"] = text
    if prompt.client_metadata:
        body["client_metadata"] = dict(prompt.client_metadata)
    return body


def usage_from_wire(usage: Any) -> TokenUsage | None:
    if not isinstance(usage, dict):
        return None

    def num(obj: Any, key: str) -> int:
        value = obj.get(key) if isinstance(obj, dict) else None
        return int(value) if isinstance(value, int | float) else 0

    return TokenUsage(
        input_tokens=num(usage, "input_tokens"),
        cached_input_tokens=num(usage.get("input_tokens_details"), "cached_tokens"),
        output_tokens=num(usage, "output_tokens"),
        reasoning_output_tokens=num(usage.get("output_tokens_details"), "reasoning_tokens"),
        total_tokens=num(usage, "total_tokens"),
    )


def error_from_failure(error: Any) -> ModelClientError:
    """Map the `error` object of `response.failed` (or a JSON error body) to our errors."""
    if not isinstance(error, dict):
        return StreamDisconnected("response.failed event received")
    code = error.get("code") or error.get("type")
    message = str(error.get("message") or "")
    if code == "context_length_exceeded":
        return ContextWindowExceeded(message or None)
    if code == "insufficient_quota":
        return QuotaExceeded(message or None)
    if code == "usage_not_included":
        return UsageNotIncluded()
    if code == "usage_limit_reached":
        resets = error.get("resets_at")
        return UsageLimitReached(
            resets_at=resets if isinstance(resets, int) else None,
            plan_type=error.get("plan_type"),
        )
    delay = parse_try_again_in(message) if code == "rate_limit_exceeded" else None
    return StreamDisconnected(message or f"response.failed ({code or 'no error code'})", delay_s=delay)


def _parse_item(raw: Any, event_type: str) -> ResponseItem:
    if not isinstance(raw, dict):
        raise InvalidResponse(f"{event_type} without an item object")
    try:
        return parse_response_item(raw)
    except ValueError as exc:
        raise InvalidResponse(f"malformed {raw.get('type')!r} item in {event_type}: {exc}") from None


def decode_json(sse: SseEvent) -> dict[str, Any]:
    try:
        data = json.loads(sse.data)
    except ValueError:
        raise InvalidResponse(f"SSE data is not JSON: {sse.data[:120]!r}") from None
    if not isinstance(data, dict):
        raise InvalidResponse(f"SSE data is not a JSON object: {sse.data[:120]!r}")
    return data


async def parse_stream(events: AsyncIterator[SseEvent]) -> AsyncGenerator[ResponseEvent, None]:
    """Translate SSE events; ends after `response.completed`.

    Raises a retryable :class:`StreamDisconnected` when the stream ends first, or the
    mapped error of `response.failed`.
    """
    async for sse in events:
        if sse.data.strip() == "[DONE]":
            continue  # some proxies append the Chat Completions terminator; harmless
        data = decode_json(sse)
        kind = data.get("type") or sse.event
        if kind == "response.created":
            yield Created()
        elif kind == "response.output_item.added":
            item = _parse_item(data.get("item"), kind)
            yield OutputItemAdded(item)
            if isinstance(item, WebSearchCallItem):
                yield WebSearchCallBegin(call_id=item.id or "")
        elif kind == "response.output_item.done":
            yield OutputItemDone(_parse_item(data.get("item"), kind))
        elif kind == "response.output_text.delta":
            yield OutputTextDelta(item_id=data.get("item_id"), delta=str(data.get("delta", "")))
        elif kind == "response.reasoning_summary_text.delta":
            yield ReasoningSummaryDelta(
                delta=str(data.get("delta", "")), summary_index=int(data.get("summary_index", 0))
            )
        elif kind == "response.reasoning_summary_part.added":
            yield ReasoningSummaryPartAdded(summary_index=int(data.get("summary_index", 0)))
        elif kind == "response.reasoning_text.delta":
            yield ReasoningContentDelta(
                delta=str(data.get("delta", "")), content_index=int(data.get("content_index", 0))
            )
        elif kind == "response.custom_tool_call_input.delta":
            yield CustomToolCallInputDelta(item_id=data.get("item_id"), delta=str(data.get("delta", "")))
        elif kind == "response.completed":
            response = data.get("response")
            if not isinstance(response, dict):
                raise InvalidResponse("response.completed without a response object")
            yield Completed(
                response_id=str(response.get("id", "")),
                token_usage=usage_from_wire(response.get("usage")),
            )
            return
        elif kind == "response.failed":
            response = data.get("response")
            error = response.get("error") if isinstance(response, dict) else None
            raise error_from_failure(error)
        elif kind == "response.incomplete":
            response = data.get("response")
            details = response.get("incomplete_details") if isinstance(response, dict) else None
            reason = details.get("reason") if isinstance(details, dict) else None
            raise StreamDisconnected(f"incomplete response returned, reason: {reason or 'unknown'}")
        elif kind == "error":
            raise error_from_failure(data.get("error", data))
        # Anything else (in_progress, *.done, annotations...) carries nothing we need.
    raise StreamDisconnected("stream closed before response.completed")
