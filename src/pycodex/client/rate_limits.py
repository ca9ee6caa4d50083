"""Codex rate-limit headers (`x-codex-primary-used-percent` …) → :class:`RateLimitSnapshot`."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from pycodex.client.events import CreditsSnapshot, RateLimitSnapshot, RateLimitWindow


def _float(headers: Mapping[str, str], name: str) -> float | None:
    try:
        value = float(headers.get(name, "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _int(headers: Mapping[str, str], name: str) -> int | None:
    value = _float(headers, name)
    return int(value) if value is not None else None


def _bool(headers: Mapping[str, str], name: str) -> bool | None:
    raw = headers.get(name, "").strip().lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(raw)


def _window(headers: Mapping[str, str], prefix: str, which: str, now: float) -> RateLimitWindow | None:
    used = _float(headers, f"{prefix}-{which}-used-percent")
    if used is None:
        return None
    minutes = _int(headers, f"{prefix}-{which}-window-minutes")
    resets_at = _int(headers, f"{prefix}-{which}-reset-at")
    if resets_at is None:
        after = _int(headers, f"{prefix}-{which}-reset-after-seconds")
        if after is not None:
            resets_at = int(now) + after
    # All-zero windows are what servers send when they track nothing: not worth reporting.
    if used == 0.0 and not minutes and resets_at is None:
        return None
    return RateLimitWindow(used_percent=used, window_minutes=minutes, resets_at=resets_at)


def parse_rate_limits(
    headers: Mapping[str, str], *, limit_id: str | None = None, now: float | None = None
) -> RateLimitSnapshot | None:
    """The snapshot for ``limit_id`` (default the `x-codex-*` family); ``None`` when the
    headers carry no rate-limit data at all (most non-OpenAI providers)."""
    normalized = (limit_id or "codex").strip().lower().replace("_", "-") or "codex"
    prefix = f"x-{normalized}"
    current = time.time() if now is None else now
    primary = _window(headers, prefix, "primary", current)
    secondary = _window(headers, prefix, "secondary", current)
    credits = None
    has_credits = _bool(headers, "x-codex-credits-has-credits")
    unlimited = _bool(headers, "x-codex-credits-unlimited")
    if has_credits is not None and unlimited is not None:
        balance = headers.get("x-codex-credits-balance", "").strip() or None
        credits = CreditsSnapshot(has_credits=has_credits, unlimited=unlimited, balance=balance)
    if primary is None and secondary is None and credits is None:
        return None
    return RateLimitSnapshot(
        primary=primary, secondary=secondary, credits=credits, limit_id=normalized.replace("-", "_")
    )
