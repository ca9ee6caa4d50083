"""`TurnContext`: the settings one turn runs with (a snapshot; later changes don't leak in)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from pycodex.context.compaction import CompactionSettings
from pycodex.protocol.policies import AskForApproval, SandboxPolicy


class SessionSettings(msgspec.Struct, frozen=True):
    """Settings that persist across turns; `OverrideTurnContext`/`UserTurn` update them."""

    cwd: Path
    model: str
    approval_policy: AskForApproval
    sandbox_policy: SandboxPolicy
    reasoning_effort: str | None
    reasoning_summary: str | None
    verbosity: str | None


class TurnContext(msgspec.Struct, frozen=True):
    sub_id: str
    turn_id: str
    settings: SessionSettings
    # Applies to this turn only (`--output-schema`).
    output_schema: dict[str, Any] | None
    context_window: int | None
    # When and how to compact (config.toml's compaction keys; see context/compaction.py).
    compaction: CompactionSettings = msgspec.field(default_factory=CompactionSettings)

    @property
    def cwd(self) -> Path:
        return self.settings.cwd

    @property
    def sandbox_mode(self) -> str:
        mode = self.settings.sandbox_policy.mode
        return mode.value if mode is not None else "external-sandbox"
