"""The v2 `Thread` object (`thread/start`, `thread/read`, `thread/list`, `thread/started`…)
with the fields, key order and nulls Codex 0.163 sends."""

from __future__ import annotations

from typing import Any

import msgspec

from .notification_types import (
    ActiveThreadStatus,
    IdleThreadStatus,
    NotLoadedThreadStatus,
    SystemErrorThreadStatus,
    ThreadStatus,
)

JsonObj = dict[str, Any]


class ThreadInfo(msgspec.Struct, kw_only=True):
    """What the app-server knows of a thread, loaded or recorded."""

    id: str
    cwd: str
    model_provider: str
    model: str | None = None
    reasoning_effort: str | None = None
    # Unix seconds.
    created_at: int
    updated_at: int
    path: str | None = None
    preview: str = ""
    name: str | None = None
    ephemeral: bool = False
    source: str = "vscode"
    originator: str = "codex_vscode"
    cli_version: str = ""
    forked_from_id: str | None = None
    git_info: JsonObj | None = None


class ThreadEnvironment(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    environment_id: str
    cwd: str
    runtime_workspace_roots: list[str]


class Thread(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The v2 `Thread`, every field written (null when unset) in Codex 0.163's order;
    `environments`, `extra`, `canAcceptDirectInput` and `daybreakEnabled` are fields Codex
    0.163 sends beyond its stable schema."""

    id: str
    environments: list[ThreadEnvironment] | None
    extra: Any = None
    session_id: str
    forked_from_id: str | None
    parent_thread_id: str | None = None
    preview: str
    ephemeral: bool
    section: Any = None
    section_entered_at: int | None = None
    project_id: str | None = None
    history_mode: str = "paginated"
    model_provider: str
    model: str | None
    reasoning_effort: str | None
    created_at: int
    updated_at: int
    recency_at: int
    status: ThreadStatus
    path: str | None
    cwd: str
    cli_version: str
    originator: str
    source: str
    can_accept_direct_input: bool | None = True
    thread_source: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    git_info: JsonObj | None = None
    name: str | None = None
    daybreak_enabled: bool | None = None
    turns: list[JsonObj] = msgspec.field(default_factory=list)


class ThreadStartedNotification(msgspec.Struct, kw_only=True, rename="camel"):
    thread: Thread


_STATUSES: dict[str, ThreadStatus] = {
    "active": ActiveThreadStatus(), "idle": IdleThreadStatus(), "systemError": SystemErrorThreadStatus(),
    "notLoaded": NotLoadedThreadStatus(),
}


def thread_struct(info: ThreadInfo, *, status: str = "idle", turns: list[JsonObj] | None = None) -> Thread:
    """`status`: `notLoaded` (recorded only), `idle`, `active` or `systemError`."""
    return Thread(
        id=info.id,
        environments=[ThreadEnvironment(environment_id="local", cwd=info.cwd, runtime_workspace_roots=[info.cwd])],
        session_id=info.id, forked_from_id=info.forked_from_id, preview=info.preview,
        ephemeral=info.ephemeral, model_provider=info.model_provider, model=info.model,
        reasoning_effort=info.reasoning_effort, created_at=info.created_at, updated_at=info.updated_at,
        recency_at=info.updated_at, status=_STATUSES[status], path=info.path, cwd=info.cwd,
        cli_version=info.cli_version, originator=info.originator, source=info.source,
        git_info=info.git_info, name=info.name, turns=turns if turns is not None else [],
    )


def thread_json(info: ThreadInfo, *, status: str = "idle", turns: list[JsonObj] | None = None) -> JsonObj:
    """The `Thread` as JSON (see `thread_struct`)."""
    result: JsonObj = msgspec.to_builtins(thread_struct(info, status=status, turns=turns))
    return result
