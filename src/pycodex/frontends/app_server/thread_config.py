"""From `thread/start` / `thread/resume` / `thread/fork` / `turn/start` params to the
engine's settings: the effective config for the thread's cwd (every layer, as `exec` reads
it), with the request's overrides on top."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pycodex.config import Config, ConfigOverrides, load_config
from pycodex.config.errors import ConfigError
from pycodex.frontends.app_server.errors import RpcError, invalid_request
from pycodex.protocol.policies import AskForApproval

APPROVAL_POLICIES = frozenset(p.value for p in AskForApproval)
SANDBOX_MODES = frozenset({"read-only", "workspace-write", "danger-full-access"})


def approval_policy(value: Any) -> str | None:
    """A v2 `approvalPolicy`: one of Codex's names (granular policies are not supported)."""
    if value is None:
        return None
    if isinstance(value, str) and value in APPROVAL_POLICIES:
        return value
    raise invalid_request(f"Invalid request: unsupported approvalPolicy: {value!r}")


def config_flags(config: Mapping[str, Any] | None) -> list[str]:
    """The request's `config` object as `key=value` overrides (`-c`), dotted and in TOML."""
    flags: list[str] = []
    if not config:
        return flags
    import tomlkit  # only for a request that carries overrides (~8 ms of start-up otherwise)

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif value is not None:
            flags.append(f"{prefix}={tomlkit.item(value).as_string()}")

    for key, value in (config or {}).items():
        walk(str(key), value)
    return flags


async def load_thread_config(
    env: Mapping[str, str],
    *,
    cwd: str | None = None,
    model: str | None = None,
    model_provider: str | None = None,
    approval: Any = None,
    sandbox: str | None = None,
    config: Mapping[str, Any] | None = None,
    base_instructions: str | None = None,
    developer_instructions: str | None = None,
    ephemeral: bool | None = None,
    base_overrides: Sequence[str] = (),
    profile: str | None = None,
) -> Config:
    """The effective config (read in a worker thread: it is file work); a bad value is a
    JSON-RPC error naming it."""
    if sandbox is not None and sandbox not in SANDBOX_MODES:
        raise invalid_request(f"Invalid request: unknown sandbox mode: {sandbox!r}")
    extra = dict(config or {})
    if base_instructions is not None:
        extra["base_instructions"] = base_instructions
    if developer_instructions is not None:
        extra["developer_instructions"] = developer_instructions
    overrides = ConfigOverrides(
        cwd=Path(cwd) if cwd else None,
        model=model,
        model_provider=model_provider,
        profile=profile,
        approval_policy=approval_policy(approval),
        sandbox_mode=sandbox,
        ephemeral=bool(ephemeral),
        config_overrides=[*base_overrides, *config_flags(extra)],
    )
    try:
        return await asyncio.to_thread(load_config, overrides, env=env)
    except (ConfigError, ValueError, OSError) as exc:
        raise _config_error(exc) from None


def _config_error(exc: Exception) -> RpcError:
    from pycodex.config.lockfile import LockfileDrift

    if isinstance(exc, LockfileDrift):
        # The per-key diff as data too, so a client can show it without parsing text.
        error = invalid_request(f"Invalid request: config drifted from lockfile {exc.path}")
        error.data = {"lockfile": str(exc.path), "diff": exc.diff}
        return error
    return invalid_request(f"Invalid request: {exc}")
