"""Retry timing: exponential backoff with jitter, and server-suggested delays.

Codex waits ≈0.2, 0.4, 0.8, 1.6, 3.2 s (base 200 ms, ×2 per attempt, ±10 % jitter); we do
the same, with a cap so a large retry count cannot mean hour-long sleeps. Server hints
(`Retry-After`, `retry-after-ms`, "try again in 1.5s") win, but are capped too: a
misbehaving proxy must not park the agent for a day.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping

BASE_DELAY_S = 0.2
MAX_BACKOFF_S = 30.0
MAX_SERVER_DELAY_S = 120.0

_TRY_AGAIN = re.compile(r"(?i)try again in\s*(\d+(?:\.\d+)?)\s*(ms|s|seconds?)\b")


def backoff_delay(
    attempt: int,
    *,
    base_s: float = BASE_DELAY_S,
    cap_s: float = MAX_BACKOFF_S,
    rand: Callable[[], float] = random.random,
) -> float:
    """Delay before retry number ``attempt`` (1-based)."""
    exp = base_s * 2.0 ** max(attempt - 1, 0)
    jitter = 0.9 + 0.2 * rand()
    return float(min(exp * jitter, cap_s))


def _cap(seconds: float) -> float:
    return max(0.0, min(seconds, MAX_SERVER_DELAY_S))


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait per `retry-after-ms` or `Retry-After` (delta-seconds or HTTP date).

    ``headers`` must be case-insensitive (httpx headers) or lower-cased.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return _cap(float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return _cap(float(raw))
    except ValueError:
        pass
    import email.utils  # an HTTP date is rare: not imported before every first request

    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return _cap(when.timestamp() - current)


def parse_try_again_in(message: str | None) -> float | None:
    """The delay in OpenAI's rate-limit messages ("Please try again in 1.2s")."""
    if not message:
        return None
    match = _TRY_AGAIN.search(message)
    if match is None:
        return None
    value = float(match.group(1))
    return _cap(value / 1000.0 if match.group(2).lower() == "ms" else value)
