"""What the core asks the model: the full history, the tools, and per-request settings."""

from __future__ import annotations

from typing import Any

import msgspec

from pycodex.protocol.models import ResponseItem


class ModelSettings(msgspec.Struct, frozen=True):
    """Per-request overrides of the client's defaults (``None`` = use the client's value).

    ``reasoning_effort``/``reasoning_summary`` accept ``"none"`` to switch them off for this
    request even when the client has a default.
    """

    model: str | None = None
    reasoning_effort: str | None = None
    reasoning_summary: str | None = None
    verbosity: str | None = None
    # The engine's settings for this turn, complete: ``None`` then means "none" (an effort
    # the user cleared mid-thread), never "fall back to the thread's first settings".
    complete: bool = False


class Prompt(msgspec.Struct):
    #: The whole conversation, every request (no `previous_response_id`: ZDR-safe).
    input: list[ResponseItem] = msgspec.field(default_factory=list)
    #: Tool specs exactly as the Responses API takes them (dicts with a `type`).
    tools: list[dict[str, Any]] = msgspec.field(default_factory=list)
    parallel_tool_calls: bool = True
    #: JSON Schema the final answer must follow (`--output-schema`).
    output_schema: dict[str, Any] | None = None
    settings: ModelSettings = msgspec.field(default_factory=ModelSettings)
    #: Extra request headers (turn metadata, window id...) the core attaches per request.
    extra_headers: dict[str, str] = msgspec.field(default_factory=dict)
    #: Sent as the body's `client_metadata` (Responses API only) when set.
    client_metadata: dict[str, str] | None = None
