"""How a recorded thread looks on the v2 wire: an index row (plus its rollout's header) as a
`Thread`, and its rollout's events as `Turn`s.

Blocking (files): handlers call these through `asyncio.to_thread`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pycodex import CODEX_COMPAT_VERSION
from pycodex.core import ThreadSummary
from pycodex.protocol.v2.threads import ThreadInfo, thread_json
from pycodex.protocol.v2.turns import TURN_EVENT_TYPES, RecordedTurn, recorded_turns
from pycodex.rollout.reader import read_rollout, read_session_meta, timestamp_ms

JsonObj = dict[str, Any]


def recorded_thread_json(row: ThreadSummary, *, status: JsonObj | None = None) -> JsonObj:
    """A recorded thread as v2 `Thread`; `status` is the loaded thread's, else `notLoaded`.

    A thread that is not loaded has no environments and cannot say whether it accepts input
    (Codex sends both as null then)."""
    meta = read_session_meta(Path(row.rollout_path)) or {}
    info = ThreadInfo(
        id=row.id,
        cwd=row.cwd,
        model_provider=row.provider or "",
        model=row.model,
        created_at=row.created_at // 1000,
        updated_at=row.updated_at // 1000,
        path=row.rollout_path,
        # Codex's preview is the thread's first user message.
        preview=row.title,
        name=row.name,
        source=row.source or "vscode",
        originator=str(meta.get("originator") or ""),
        cli_version=str(meta.get("cli_version") or CODEX_COMPAT_VERSION),
        forked_from_id=row.forked_from,
        git_info=_git_info(row, meta),
    )
    out = thread_json(info, status="idle")
    out["status"] = status if status is not None else {"type": "notLoaded"}
    if status is None:
        out["environments"] = None
    out["canAcceptDirectInput"] = None
    return out


def _git_info(row: ThreadSummary, meta: JsonObj) -> JsonObj | None:
    git = meta.get("git")
    origin = git.get("repository_url") if isinstance(git, dict) else None
    if row.git_commit is None and row.git_branch is None and origin is None:
        return None
    return {"sha": row.git_commit, "branch": row.git_branch, "originUrl": origin}


def read_turns(rollout_path: str) -> list[RecordedTurn]:
    """The turns recorded in a rollout, oldest first."""
    rollout = read_rollout(Path(rollout_path))

    def events() -> Any:
        for record in rollout.records:
            if record.type == "event_msg" and record.payload_type in TURN_EVENT_TYPES:
                yield timestamp_ms(record.timestamp), record.payload

    return recorded_turns(events())
