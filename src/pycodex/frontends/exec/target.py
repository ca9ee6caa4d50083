"""`SessionTarget`: which recorded thread `exec resume|fork` continues (stdlib only, so the
CLI can build it without importing the engine)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SessionTarget:
    action: Literal["resume", "fork"]
    session_id: str | None
    last: bool = False
    all_cwds: bool = False
