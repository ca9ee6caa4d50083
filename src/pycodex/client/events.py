"""The stream events a model client yields — identical for both wire APIs.

The client keeps its own small usage / rate-limit dataclasses so it does not depend on
`protocol.events`; the core converts them.
"""

from __future__ import annotations

import msgspec

from pycodex.protocol.models import ResponseItem


class TokenUsage(msgspec.Struct, frozen=True):
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0


class RateLimitWindow(msgspec.Struct, frozen=True):
    used_percent: float
    window_minutes: int | None = None
    #: Unix seconds when the window resets (from `-reset-at`, or now + `-reset-after-seconds`).
    resets_at: int | None = None


class CreditsSnapshot(msgspec.Struct, frozen=True):
    has_credits: bool
    unlimited: bool
    balance: str | None = None


class RateLimitSnapshot(msgspec.Struct, frozen=True):
    primary: RateLimitWindow | None = None
    secondary: RateLimitWindow | None = None
    credits: CreditsSnapshot | None = None
    limit_id: str = "codex"


class Created(msgspec.Struct, frozen=True):
    pass


class OutputItemAdded(msgspec.Struct, frozen=True):
    item: ResponseItem


class OutputItemDone(msgspec.Struct, frozen=True):
    item: ResponseItem


class OutputTextDelta(msgspec.Struct, frozen=True):
    item_id: str | None
    delta: str


class ReasoningSummaryDelta(msgspec.Struct, frozen=True):
    delta: str
    summary_index: int


class ReasoningSummaryPartAdded(msgspec.Struct, frozen=True):
    summary_index: int


class ReasoningContentDelta(msgspec.Struct, frozen=True):
    delta: str
    content_index: int = 0


class CustomToolCallInputDelta(msgspec.Struct, frozen=True):
    item_id: str | None
    delta: str


class WebSearchCallBegin(msgspec.Struct, frozen=True):
    call_id: str


class RateLimits(msgspec.Struct, frozen=True):
    snapshot: RateLimitSnapshot


class Completed(msgspec.Struct, frozen=True):
    response_id: str
    token_usage: TokenUsage | None


class StreamRetry(msgspec.Struct, frozen=True):
    """The attempt failed and a new request follows after ``delay_s``.

    Everything yielded since the last ``StreamRetry`` (or the start) belongs to the failed
    attempt and must be discarded. Show as ``Reconnecting... {attempt}/{max_attempts}
    ({message})``. ``error`` is the failure, for callers that word it themselves.
    """

    attempt: int
    max_attempts: int
    message: str
    delay_s: float
    # Compared by identity (Struct eq): events from one failure share the exception.
    error: Exception | None = None


ResponseEvent = (
    Created
    | OutputItemAdded
    | OutputItemDone
    | OutputTextDelta
    | ReasoningSummaryDelta
    | ReasoningSummaryPartAdded
    | ReasoningContentDelta
    | CustomToolCallInputDelta
    | WebSearchCallBegin
    | RateLimits
    | Completed
    | StreamRetry
)
