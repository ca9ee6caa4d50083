"""The stream events a model client yields — identical for both wire APIs.

The client keeps its own small usage / rate-limit dataclasses so it does not depend on
`protocol.events`; the core converts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pycodex.protocol.models import ResponseItem


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True, slots=True)
class RateLimitWindow:
    used_percent: float
    window_minutes: int | None = None
    #: Unix seconds when the window resets (from `-reset-at`, or now + `-reset-after-seconds`).
    resets_at: int | None = None


@dataclass(frozen=True, slots=True)
class CreditsSnapshot:
    has_credits: bool
    unlimited: bool
    balance: str | None = None


@dataclass(frozen=True, slots=True)
class RateLimitSnapshot:
    primary: RateLimitWindow | None = None
    secondary: RateLimitWindow | None = None
    credits: CreditsSnapshot | None = None
    limit_id: str = "codex"


@dataclass(frozen=True, slots=True)
class Created:
    pass


@dataclass(frozen=True, slots=True)
class OutputItemAdded:
    item: ResponseItem


@dataclass(frozen=True, slots=True)
class OutputItemDone:
    item: ResponseItem


@dataclass(frozen=True, slots=True)
class OutputTextDelta:
    item_id: str | None
    delta: str


@dataclass(frozen=True, slots=True)
class ReasoningSummaryDelta:
    delta: str
    summary_index: int


@dataclass(frozen=True, slots=True)
class ReasoningSummaryPartAdded:
    summary_index: int


@dataclass(frozen=True, slots=True)
class ReasoningContentDelta:
    delta: str
    content_index: int = 0


@dataclass(frozen=True, slots=True)
class CustomToolCallInputDelta:
    item_id: str | None
    delta: str


@dataclass(frozen=True, slots=True)
class WebSearchCallBegin:
    call_id: str


@dataclass(frozen=True, slots=True)
class RateLimits:
    snapshot: RateLimitSnapshot


@dataclass(frozen=True, slots=True)
class Completed:
    response_id: str
    token_usage: TokenUsage | None


@dataclass(frozen=True, slots=True)
class StreamRetry:
    """The attempt failed and a new request follows after ``delay_s``.

    Everything yielded since the last ``StreamRetry`` (or the start) belongs to the failed
    attempt and must be discarded. Show as ``Reconnecting... {attempt}/{max_attempts}
    ({message})``. ``error`` is the failure, for callers that word it themselves.
    """

    attempt: int
    max_attempts: int
    message: str
    delay_s: float
    error: Exception | None = field(default=None, compare=False)


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
