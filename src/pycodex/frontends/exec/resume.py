"""`exec resume|fork`: find the recorded thread, then open it instead of a new one.

Deliberately stricter than Codex: an unknown id, or `--last` when no session was
recorded in this directory, is an error (exit 1) rather than a silently new thread — a
script that meant to continue a conversation must not carry on without its context.
"""

from __future__ import annotations

from pathlib import Path

from pycodex.config.config import Config
from pycodex.core import CodexThread, ThreadManager, ThreadStore, ThreadStoreError

from .target import SessionTarget


class SessionLookupError(Exception):
    """The thread to resume or fork does not exist; exits 1 with the message."""


def resolve_session(config: Config, target: SessionTarget) -> Path:
    """The rollout `target` names. Raises `SessionLookupError`."""
    store = ThreadStore(config.pycodex_home)
    if target.last:
        try:
            path = store.newest(cwd=None if target.all_cwds else str(config.cwd))
        except ThreadStoreError as exc:
            raise SessionLookupError(str(exc)) from None
        if path is None:
            where = "" if target.all_cwds else f" in {config.cwd} (use --all to look everywhere)"
            raise SessionLookupError(f"no recorded session to resume{where}")
        return path
    assert target.session_id is not None
    path = store.locate(target.session_id)
    if path is None:
        raise SessionLookupError(f"no rollout found for thread id {target.session_id}")
    return path


async def open_thread(
    manager: ThreadManager, config: Config, target: SessionTarget | None, path: Path | None
) -> CodexThread:
    """A new thread, or the resumed / forked one at `path`."""
    if target is None or path is None:
        return await manager.start_thread(config)
    if target.action == "fork":
        return await manager.fork_thread(config, path)
    return await manager.resume_thread(config, path)
