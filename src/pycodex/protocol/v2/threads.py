"""The v2 `Thread` object (`thread/start`, `thread/read`, `thread/list`, `thread/started`…)
with the fields, key order and nulls Codex 0.163 sends."""

from __future__ import annotations

from typing import Any

import msgspec

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


def thread_json(info: ThreadInfo, *, status: str = "idle", turns: list[JsonObj] | None = None) -> JsonObj:
    """`status`: `notLoaded` (recorded only), `idle`, `active` or `systemError`."""
    status_json: JsonObj = {"type": status}
    if status == "active":
        status_json["activeFlags"] = []
    return {
        "id": info.id,
        "environments": [
            {"environmentId": "local", "cwd": info.cwd, "runtimeWorkspaceRoots": [info.cwd]}
        ],
        "extra": None,
        "sessionId": info.id,
        "forkedFromId": info.forked_from_id,
        "parentThreadId": None,
        "preview": info.preview,
        "ephemeral": info.ephemeral,
        "section": None,
        "sectionEnteredAt": None,
        "projectId": None,
        "historyMode": "paginated",
        "modelProvider": info.model_provider,
        "model": info.model,
        "reasoningEffort": info.reasoning_effort,
        "createdAt": info.created_at,
        "updatedAt": info.updated_at,
        "recencyAt": info.updated_at,
        "status": status_json,
        "path": info.path,
        "cwd": info.cwd,
        "cliVersion": info.cli_version,
        "originator": info.originator,
        "source": info.source,
        "canAcceptDirectInput": True,
        "threadSource": None,
        "agentNickname": None,
        "agentRole": None,
        "gitInfo": info.git_info,
        "name": info.name,
        "daybreakEnabled": None,
        "turns": turns if turns is not None else [],
    }
