"""`SessionTarget`: which recorded thread `exec resume|fork` continues (stdlib only, so the
CLI can build it without importing the engine)."""

from __future__ import annotations

from typing import Literal

import msgspec


class SessionTarget(msgspec.Struct, frozen=True):
    action: Literal["resume", "fork"]
    session_id: str | None
    last: bool = False
    all_cwds: bool = False
