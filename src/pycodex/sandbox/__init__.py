"""OS sandboxing for the commands the model runs (see `launcher` for the interface)."""

from __future__ import annotations

from pycodex.sandbox.launcher import (
    SANDBOX_SETUP_FAILED_EXIT,
    SandboxedCommand,
    SandboxStatus,
    SandboxUnavailable,
    prepare_command,
    sandbox_status,
)

__all__ = [
    "SANDBOX_SETUP_FAILED_EXIT",
    "SandboxStatus",
    "SandboxUnavailable",
    "SandboxedCommand",
    "prepare_command",
    "sandbox_status",
]
