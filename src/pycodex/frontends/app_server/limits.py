"""Queue sizes and timeouts of a connection.

Codex bounds its channels at 128 messages; so does pycodex. The environment variables exist
so tests (and a curious operator) can make the queues tiny and watch backpressure happen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

CHANNEL_CAPACITY = 128
INBOUND_ENV = "PYCODEX_APP_SERVER_INBOUND_QUEUE"
OUTBOUND_ENV = "PYCODEX_APP_SERVER_OUTBOUND_QUEUE"
URGENT_ENV = "PYCODEX_APP_SERVER_OVERLOAD_QUEUE"


class LimitError(ValueError):
    """A queue-size variable that is not a positive integer."""


@dataclass(frozen=True)
class Limits:
    inbound: int = CHANNEL_CAPACITY
    outbound: int = CHANNEL_CAPACITY
    # Overload answers waiting while the main outbound lane is full.
    urgent: int = CHANNEL_CAPACITY
    # Default wait for a server→client request's answer; None waits as long as the
    # connection lives (approvals wait for a human).
    server_request_timeout: float | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        values = os.environ if env is None else env
        return cls(
            inbound=_positive(values, INBOUND_ENV, CHANNEL_CAPACITY),
            outbound=_positive(values, OUTBOUND_ENV, CHANNEL_CAPACITY),
            urgent=_positive(values, URGENT_ENV, CHANNEL_CAPACITY),
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LimitError(f"{name}={raw!r}: expected a positive integer") from None
    if value < 1:
        raise LimitError(f"{name}={raw!r}: expected a positive integer")
    return value
