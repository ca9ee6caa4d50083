"""A front end's request as config overrides: the settings a client sends with
`thread/start` (app-server) or a `codex` tool call (MCP server) — cwd, model, approval
policy, sandbox, a `config` object, instructions — layered over the effective config for
that cwd, as `exec` reads it. Bad values raise ConfigError naming them; each front end says
so in its own protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pycodex.config.config import Config, ConfigOverrides, load_config
from pycodex.config.errors import ConfigError
from pycodex.config.schema import APPROVAL_POLICIES

SANDBOX_MODES: tuple[str, ...] = ("read-only", "workspace-write", "danger-full-access")


def checked_approval_policy(value: Any) -> str | None:
    """One of Codex's approval policy names (granular policies are not supported)."""
    if value is None:
        return None
    if isinstance(value, str) and value in APPROVAL_POLICIES:
        return value
    raise ConfigError(f"unsupported approvalPolicy: {value!r}")


def config_flags(config: Mapping[str, Any] | None) -> list[str]:
    """A request's `config` object as `key=value` overrides (`-c`), dotted and in TOML."""
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


def request_overrides(
    *,
    cwd: str | None = None,
    model: str | None = None,
    model_provider: str | None = None,
    profile: str | None = None,
    approval: Any = None,
    sandbox: str | None = None,
    config: Mapping[str, Any] | None = None,
    base_instructions: str | None = None,
    developer_instructions: str | None = None,
    ephemeral: bool | None = None,
    base_overrides: Sequence[str] = (),
) -> ConfigOverrides:
    if sandbox is not None and sandbox not in SANDBOX_MODES:
        raise ConfigError(f"unknown sandbox mode: {sandbox!r}")
    extra = dict(config or {})
    if base_instructions is not None:
        extra["base_instructions"] = base_instructions
    if developer_instructions is not None:
        extra["developer_instructions"] = developer_instructions
    return ConfigOverrides(
        cwd=Path(cwd) if cwd else None,
        model=model,
        model_provider=model_provider,
        profile=profile,
        approval_policy=checked_approval_policy(approval),
        sandbox_mode=sandbox,
        ephemeral=bool(ephemeral),
        config_overrides=[*base_overrides, *config_flags(extra)],
    )


async def load_request_config(env: Mapping[str, str], **request: Any) -> Config:
    """The effective config for a request (file work: in a worker thread). Raises
    ConfigError (bad values, broken files, lockfile drift), ValueError or OSError."""
    overrides = request_overrides(**request)
    return await asyncio.to_thread(load_config, overrides, env=env)
