"""From `thread/start` / `thread/resume` / `thread/fork` / `turn/start` params to the
engine's settings: the effective config for the thread's cwd (every layer, as `exec` reads
it), with the request's overrides on top."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycodex.config import Config
from pycodex.config.errors import ConfigError
from pycodex.config.request import checked_approval_policy, load_request_config
from pycodex.frontends.app_server.errors import RpcError, invalid_request


def approval_policy(value: Any) -> str | None:
    """A v2 `approvalPolicy`: one of Codex's names (granular policies are not supported)."""
    try:
        return checked_approval_policy(value)
    except ConfigError as exc:
        raise invalid_request(f"Invalid request: {exc}") from None


async def load_thread_config(env: Mapping[str, str], **request: Any) -> Config:
    """The effective config for a thread request (`pycodex.config.request`); a bad value
    is a JSON-RPC error naming it."""
    try:
        return await load_request_config(env, **request)
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
