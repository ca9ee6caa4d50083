"""Token usage and rate-limit snapshots, as carried by the ``token_count`` event.

Field sets follow Codex 0.163's rollout lines: ``cache_write_input_tokens`` is present in
every usage object and a rate-limit snapshot writes all its keys, null or not.
"""

from __future__ import annotations

from typing import Any

from pycodex.protocol._wire import WireModel


class TokenUsage(WireModel, kw_only=True):
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            cache_write_input_tokens=self.cache_write_input_tokens
            + other.cache_write_input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_output_tokens=self.reasoning_output_tokens
            + other.reasoning_output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )

    def non_cached_input(self) -> int:
        return max(self.input_tokens - max(self.cached_input_tokens, 0), 0)

    def tokens_in_context_window(self) -> int:
        # The latest response's total is what the next request starts from.
        return self.total_tokens


class TokenUsageInfo(WireModel, kw_only=True):
    total_token_usage: TokenUsage
    last_token_usage: TokenUsage
    model_context_window: int | None = None

    def with_last(self, last: TokenUsage) -> TokenUsageInfo:
        """The info after one more response: totals grow, ``last`` is replaced."""
        return TokenUsageInfo(
            total_token_usage=self.total_token_usage + last,
            last_token_usage=last,
            model_context_window=self.model_context_window,
        )


class RateLimitWindow(WireModel, kw_only=True):
    used_percent: float
    window_minutes: int | None = None
    # Unix seconds.
    resets_at: int | None = None


class CreditsSnapshot(WireModel, kw_only=True):
    has_credits: bool
    unlimited: bool
    balance: str | None = None


class RateLimitSnapshot(WireModel, kw_only=True):
    limit_id: str | None = None
    limit_name: str | None = None
    primary: RateLimitWindow | None = None
    secondary: RateLimitWindow | None = None
    credits: CreditsSnapshot | None = None
    individual_limit: Any = None
    spend_control_reached: bool | None = None
    plan_type: str | None = None
    rate_limit_reached_type: str | None = None
