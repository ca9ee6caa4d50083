"""Index rows: what a thread looks like in a listing, and the fold that derives it.

A :class:`ThreadRow` is everything `pycodex threads list` shows about one thread. It is
derived from the thread's rollout lines by one fold, :class:`RowBuilder`, which both the
live indexer (line by line, as the recorder writes) and the rebuild (whole files,
:func:`row_from_rollout`) use, so a rebuilt index equals the live one.

On the cold path of `pycodex threads list`: the stdlib and msgspec (which the reader
loads anyway) only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from .reader import iter_records, timestamp_ms, whole_lines

# Titles and previews are for a one-line listing; the rollout keeps the full text.
TEXT_MAX_CHARS = 200


# A Struct, not a dataclass: it costs microseconds to define, and this is imported by
# every cold `pycodex threads list` (msgspec is already loaded there by the reader).
class ThreadRow(msgspec.Struct):
    id: str
    rollout_path: str
    created_at: int  # Unix ms
    updated_at: int  # Unix ms
    cwd: str = ""
    model: str | None = None
    provider: str | None = None
    source: str | None = None
    title: str = ""  # the first user message
    preview: str = ""  # the latest agent message
    git_branch: str | None = None
    git_commit: str | None = None
    tokens_used: int = 0
    archived: bool = False
    name: str | None = None
    forked_from: str | None = None

    def to_json(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)


# Column order of the `threads` table: the field order of ThreadRow.
COLUMNS: tuple[str, ...] = ThreadRow.__struct_fields__


def clip(text: str) -> str:
    """`text` on one line, at most TEXT_MAX_CHARS long (an ellipsis marks a cut)."""
    text = " ".join(text.split())
    return text if len(text) <= TEXT_MAX_CHARS else text[: TEXT_MAX_CHARS - 1] + "…"


class RowBuilder:
    """Folds rollout lines into a :class:`ThreadRow` (live and rebuild use this alone)."""

    def __init__(
        self, rollout_path: Path, *, archived: bool = False, name: str | None = None
    ) -> None:
        self.rollout_path = str(rollout_path)
        self.archived = archived
        # A name the thread starts with (a fork inherits its parent's).
        self.name = name
        self.row: ThreadRow | None = None
        self._last_ts = ""

    @classmethod
    def from_row(cls, row: ThreadRow) -> RowBuilder:
        """Continue the fold from a row the index already holds (the rollout unchanged since)."""
        builder = cls(Path(row.rollout_path), archived=row.archived, name=row.name)
        builder.row = row
        return builder

    def apply(self, kind: str, payload: dict[str, Any], timestamp: str) -> None:
        if timestamp:
            self._last_ts = timestamp
        if kind == "session_meta":
            if self.row is None:  # only the first header defines the thread
                self.row = self._header(payload, timestamp)
        elif self.row is None:
            return
        elif kind == "event_msg":
            _apply_event(self.row, payload)
        elif kind == "turn_context":
            model = payload.get("model")
            if isinstance(model, str):
                self.row.model = model

    def _header(self, payload: dict[str, Any], timestamp: str) -> ThreadRow | None:
        thread_id = payload.get("id")
        if not isinstance(thread_id, str):
            return None
        created = timestamp_ms(str(payload.get("timestamp") or timestamp)) or 0
        raw_git = payload.get("git")
        git: dict[str, Any] = raw_git if isinstance(raw_git, dict) else {}
        return ThreadRow(
            id=thread_id,
            rollout_path=self.rollout_path,
            created_at=created,
            updated_at=created,
            cwd=str(payload.get("cwd") or ""),
            provider=_str_or_none(payload.get("model_provider")),
            source=_str_or_none(payload.get("source")),
            git_branch=_str_or_none(git.get("branch")),
            git_commit=_str_or_none(git.get("commit_hash")),
            archived=self.archived,
            forked_from=_str_or_none(payload.get("forked_from_id")),
            name=self.name,
        )

    def current(self) -> ThreadRow | None:
        """The row as of the last line applied."""
        row = self.row
        if row is not None and self._last_ts:
            ms = timestamp_ms(self._last_ts)
            if ms is not None:
                row.updated_at = max(row.created_at, ms)
        return row


# The event kinds the fold reads; a caller holding undecoded payloads may skip the rest.
ROW_EVENT_TYPES = frozenset({"user_message", "agent_message", "item_completed", "token_count"})


def _apply_event(row: ThreadRow, payload: dict[str, Any]) -> None:
    etype = payload.get("type")
    if etype == "user_message":
        if not row.title and isinstance(payload.get("message"), str):
            row.title = clip(payload["message"])
    elif etype == "agent_message":
        if isinstance(payload.get("message"), str):
            row.preview = clip(payload["message"])
    elif etype == "item_completed":
        # Codex 0.163 writes turn items instead of user_message / agent_message.
        item = payload.get("item")
        if isinstance(item, dict):
            text = _item_text(item)
            if item.get("type") == "UserMessage" and text and not row.title:
                row.title = clip(text)
            elif item.get("type") == "AgentMessage" and text:
                row.preview = clip(text)
    elif etype == "token_count":
        info = payload.get("info")
        if isinstance(info, dict):
            total = info.get("total_token_usage")
            if isinstance(total, dict) and isinstance(total.get("total_tokens"), int):
                row.tokens_used = total["total_tokens"]


def _item_text(item: dict[str, Any]) -> str:
    content = item.get("content")
    if not isinstance(content, list):
        return ""
    return "".join(
        part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
    )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# Line kinds whose payload the fold reads; others are not even JSON-decoded on rebuild.
_FOLD_KINDS = (b'"session_meta"', b'"event_msg"', b'"turn_context"')


def row_from_rollout(path: Path, *, archived: bool = False) -> ThreadRow | None:
    """The index row of one rollout file (None if it has no readable header)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    whole, _ = whole_lines(data)
    builder = RowBuilder(path, archived=archived)
    last_ts = ""
    for line in whole.split(b"\n"):
        if not line:
            continue
        head = line[:96]
        if not any(k in head for k in _FOLD_KINDS):
            # Only its timestamp matters (updated_at), and it is near the start.
            start = head.find(b'"timestamp": "')
            if start >= 0:
                end = head.find(b'"', start + 14)
                if end > 0:
                    last_ts = head[start + 14 : end].decode("ascii", "replace")
            continue
        for record in iter_records(line):
            if record is not None:
                builder.apply(record.type, record.payload, record.timestamp)
                last_ts = ""
    if last_ts:
        builder.apply("", {}, last_ts)
    return builder.current()
