"""The thread index: one SQLite row per rollout, in `$PYCODEX_HOME/state.sqlite`.

Rollout files are the record; this index is derived from them, only for fast listing and
lookup (newest 50 of 10,000 threads without opening a file). It is kept current on every
rollout write by :class:`ThreadIndexer`, which the recorder drives from its writer thread,
and can always be thrown away: it is rebuilt from the rollouts when the file is missing,
unreadable or from an older schema (`schema_version` table), and by
`pycodex threads reindex`.

Both the live path and the rebuild derive a row with the same fold
(:class:`RowBuilder`), so a rebuilt index equals the live one. What the rollouts do not
hold — thread names — lives in `session_index.jsonl` (Codex's file and format:
`{"id","thread_name","updated_at"}` per line, last line wins), read back on rebuild.
`archived` is where the file is: under `archived_sessions/` or not.

Stdlib only: `pycodex threads list` must start cold in well under 300 ms.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

from .reader import iter_records, parse_rollout_name, timestamp_ms, whole_lines

INDEX_FILE = "state.sqlite"
SESSIONS_DIR = "sessions"
ARCHIVED_DIR = "archived_sessions"
NAMES_FILE = "session_index.jsonl"
SCHEMA_VERSION = 1
TEXT_MAX_CHARS = 200
BUSY_TIMEOUT_MS = 5000

SortKey = Literal["created_at", "updated_at"]

_SCHEMA = """
CREATE TABLE threads (
    id TEXT PRIMARY KEY,
    rollout_path TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    cwd TEXT NOT NULL DEFAULT '',
    model TEXT,
    provider TEXT,
    source TEXT,
    title TEXT NOT NULL DEFAULT '',
    preview TEXT NOT NULL DEFAULT '',
    git_branch TEXT,
    git_commit TEXT,
    tokens_used INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0,
    name TEXT,
    forked_from TEXT
);
CREATE INDEX idx_threads_created ON threads(archived, created_at DESC, id DESC);
CREATE INDEX idx_threads_updated ON threads(archived, updated_at DESC, id DESC);
CREATE INDEX idx_threads_cwd ON threads(cwd, created_at DESC);
CREATE INDEX idx_threads_name ON threads(name);
CREATE TABLE schema_version (version INTEGER NOT NULL);
"""


@dataclass
class ThreadRow:
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
        return asdict(self)


_COLUMNS = tuple(f.name for f in fields(ThreadRow))


def _clip(text: str) -> str:
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

    def apply(self, kind: str, payload: dict[str, Any], timestamp: str) -> None:
        if timestamp:
            self._last_ts = timestamp
        row = self.row
        if kind == "session_meta":
            if row is not None:
                return  # only the first header defines the thread
            thread_id = payload.get("id")
            if not isinstance(thread_id, str):
                return
            created = timestamp_ms(str(payload.get("timestamp") or timestamp)) or 0
            raw_git = payload.get("git")
            git: dict[str, Any] = raw_git if isinstance(raw_git, dict) else {}
            self.row = ThreadRow(
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
            return
        if row is None:
            return
        if kind == "event_msg":
            etype = payload.get("type")
            if etype == "user_message":
                if not row.title and isinstance(payload.get("message"), str):
                    row.title = _clip(payload["message"])
            elif etype == "agent_message":
                if isinstance(payload.get("message"), str):
                    row.preview = _clip(payload["message"])
            elif etype == "item_completed":
                # Codex 0.163 writes turn items instead of user_message / agent_message.
                item = payload.get("item")
                if isinstance(item, dict):
                    text = _item_text(item)
                    if item.get("type") == "UserMessage" and text and not row.title:
                        row.title = _clip(text)
                    elif item.get("type") == "AgentMessage" and text:
                        row.preview = _clip(text)
            elif etype == "token_count":
                info = payload.get("info")
                if isinstance(info, dict):
                    total = info.get("total_token_usage")
                    if isinstance(total, dict) and isinstance(total.get("total_tokens"), int):
                        row.tokens_used = total["total_tokens"]
        elif kind == "turn_context":
            model = payload.get("model")
            if isinstance(model, str):
                row.model = model

    def current(self) -> ThreadRow | None:
        """The row as of the last line applied."""
        row = self.row
        if row is not None and self._last_ts:
            ms = timestamp_ms(self._last_ts)
            if ms is not None:
                row.updated_at = max(row.created_at, ms)
        return row


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


def iter_rollout_files(home: Path) -> Iterator[tuple[Path, bool]]:
    """(path, archived) of every rollout under `home`."""
    for sub, archived in ((SESSIONS_DIR, False), (ARCHIVED_DIR, True)):
        root = home / sub
        if not root.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                if name.startswith("rollout-") and name.endswith(".jsonl"):
                    yield Path(dirpath) / name, archived


def read_names(home: Path) -> dict[str, str]:
    """Thread names from `session_index.jsonl` (the last entry of an id wins)."""
    names: dict[str, str] = {}
    try:
        data = (home / NAMES_FILE).read_bytes()
    except OSError:
        return names
    whole, _ = whole_lines(data)
    for line in whole.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            name = obj.get("thread_name")
            if isinstance(name, str) and name:
                names[obj["id"]] = name
            else:
                names.pop(obj["id"], None)
    return names


def append_name(home: Path, thread_id: str, name: str | None) -> None:
    """Record a thread's name durably (Codex's `session_index.jsonl` format)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    line = json.dumps({"id": thread_id, "thread_name": name or "", "updated_at": now}) + "\n"
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / NAMES_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


@dataclass
class ThreadPage:
    items: list[ThreadRow]
    next_cursor: str | None


def encode_cursor(value: int, thread_id: str) -> str:
    return base64.urlsafe_b64encode(f"{value}:{thread_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, thread_id = raw.split(":", 1)
        return int(value), thread_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"invalid cursor {cursor!r}") from exc


class ThreadIndex:
    """A connection to the index; rebuilds it first when missing or outdated."""

    def __init__(self, home: Path, *, timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.home = home
        self.path = home / INDEX_FILE
        home.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=timeout_ms / 1000, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self.ensure_current()
        except sqlite3.DatabaseError:
            # Corrupt or not a database: it is only an index, start over.
            self._db.close()
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{self.path}{suffix}")
            self._db = sqlite3.connect(self.path, timeout=timeout_ms / 1000, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self.ensure_current()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ThreadIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------------

    def _version(self) -> int | None:
        try:
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
        except sqlite3.OperationalError:
            return None
        return int(row[0]) if row else None

    def ensure_current(self) -> bool:
        """Rebuild when the schema is missing or older. True if a rebuild ran."""
        if self._version() == SCHEMA_VERSION:
            return False
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._version() == SCHEMA_VERSION:  # another process built it meanwhile
                self._db.execute("COMMIT")
                return False
            self._recreate()
            self._db.execute("INSERT INTO schema_version(version) VALUES (?)", (SCHEMA_VERSION,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return True

    def _recreate(self) -> None:
        tables = [r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            if not table.startswith("sqlite_"):
                self._db.execute(f'DROP TABLE IF EXISTS "{table}"')
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)
        self._populate()

    def _populate(self) -> int:
        names = read_names(self.home)
        rows: dict[str, ThreadRow] = {}
        for path, archived in iter_rollout_files(self.home):
            row = row_from_rollout(path, archived=archived)
            if row is None:
                continue
            row.name = names.get(row.id)
            # The same id in two places (a crash mid-move): the live copy wins.
            if row.id not in rows or not archived:
                rows[row.id] = row
        self._insert_many(list(rows.values()))
        return len(rows)

    def rebuild(self) -> int:
        """Throw the index away and rebuild it from the rollouts. Returns the row count."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("DELETE FROM threads")
            count = self._populate()
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return count

    # --- writes -------------------------------------------------------------------------

    def _insert_many(self, rows: Sequence[ThreadRow]) -> None:
        placeholders = ",".join("?" for _ in _COLUMNS)
        self._db.executemany(
            f"INSERT OR REPLACE INTO threads ({','.join(_COLUMNS)}) VALUES ({placeholders})",
            [_values(row) for row in rows],
        )

    def upsert(self, row: ThreadRow) -> None:
        """Insert a thread, or update what its rollout says (never its location or name)."""
        self._db.execute(
            f"INSERT INTO threads ({','.join(_COLUMNS)}) VALUES ({','.join('?' for _ in _COLUMNS)}) "
            "ON CONFLICT(id) DO UPDATE SET updated_at=excluded.updated_at, cwd=excluded.cwd, "
            "model=excluded.model, provider=excluded.provider, source=excluded.source, "
            "title=excluded.title, preview=excluded.preview, git_branch=excluded.git_branch, "
            "git_commit=excluded.git_commit, tokens_used=excluded.tokens_used, "
            "forked_from=excluded.forked_from",
            _values(row),
        )

    def set_name(self, thread_id: str, name: str | None) -> None:
        self._db.execute("UPDATE threads SET name=? WHERE id=?", (name or None, thread_id))

    def set_location(self, thread_id: str, rollout_path: Path, archived: bool) -> None:
        self._db.execute(
            "UPDATE threads SET rollout_path=?, archived=? WHERE id=?",
            (str(rollout_path), int(archived), thread_id),
        )

    def delete(self, thread_id: str) -> None:
        self._db.execute("DELETE FROM threads WHERE id=?", (thread_id,))

    # --- reads --------------------------------------------------------------------------

    def get(self, thread_id: str) -> ThreadRow | None:
        cur = self._db.execute(f"SELECT {','.join(_COLUMNS)} FROM threads WHERE id=?", (thread_id,))
        found = cur.fetchone()
        return _row(found) if found else None

    def find(self, id_or_name: str) -> ThreadRow | None:
        """By id first (ids take precedence), else the newest thread with that name."""
        row = self.get(id_or_name.lower()) or self.get(id_or_name)
        if row is not None:
            return row
        cur = self._db.execute(
            f"SELECT {','.join(_COLUMNS)} FROM threads WHERE name=? "
            "ORDER BY updated_at DESC, id DESC LIMIT 1",
            (id_or_name,),
        )
        found = cur.fetchone()
        return _row(found) if found else None

    def all_rows(self) -> list[ThreadRow]:
        cur = self._db.execute(f"SELECT {','.join(_COLUMNS)} FROM threads ORDER BY id")
        return [_row(r) for r in cur.fetchall()]

    def list(
        self,
        *,
        sort: SortKey = "created_at",
        limit: int = 50,
        cursor: str | None = None,
        cwd: str | None = None,
        provider: str | None = None,
        source: str | None = None,
        archived: bool | None = False,
        search: str | None = None,
    ) -> ThreadPage:
        """Newest first by `sort`; `archived=None` lists both. `search` matches title or name."""
        if sort not in ("created_at", "updated_at"):
            raise ValueError(f"unknown sort key {sort!r}")
        where: list[str] = []
        args: list[Any] = []
        if archived is not None:
            where.append("archived=?")
            args.append(int(archived))
        if cwd is not None:
            where.append("cwd=?")
            args.append(cwd)
        if provider is not None:
            where.append("provider=?")
            args.append(provider)
        if source is not None:
            where.append("source=?")
            args.append(source)
        if search:
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(title LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')")
            args.extend([pattern, pattern])
        if cursor:
            value, after_id = decode_cursor(cursor)
            where.append(f"({sort} < ? OR ({sort} = ? AND id < ?))")
            args.extend([value, value, after_id])
        sql = f"SELECT {','.join(_COLUMNS)} FROM threads"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {sort} DESC, id DESC LIMIT ?"
        args.append(max(limit, 0) + 1)
        rows = [_row(r) for r in self._db.execute(sql, args).fetchall()]
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = encode_cursor(getattr(last, sort), last.id)
        return ThreadPage(rows, next_cursor)


def _values(row: ThreadRow) -> tuple[Any, ...]:
    return tuple(int(v) if isinstance(v, bool) else v for v in (getattr(row, c) for c in _COLUMNS))


def _row(values: Sequence[Any]) -> ThreadRow:
    row = ThreadRow(*values)
    row.archived = bool(row.archived)
    return row


class ThreadIndexer:
    """Keeps one thread's row current as its recorder writes lines.

    Called only from the recorder's writer thread (it owns the SQLite connection). Index
    failures never reach the rollout: the record is the file, the index can be rebuilt.
    """

    def __init__(
        self,
        home: Path,
        rollout_path: Path,
        *,
        archived: bool = False,
        seed: RowBuilder | None = None,
        name: str | None = None,
    ) -> None:
        self.home = home
        self.builder = seed or RowBuilder(rollout_path, archived=archived, name=name)
        self._index: ThreadIndex | None = None
        self._dirty = False
        self._failed = False

    def observe(self, kind: str, payload: dict[str, Any], timestamp: str) -> None:
        self.builder.apply(kind, payload, timestamp)
        self._dirty = True

    def commit(self) -> None:
        if not self._dirty or self._failed:
            return
        row = self.builder.current()
        if row is None:
            return
        try:
            if self._index is None:
                self._index = ThreadIndex(self.home)
            self._index.upsert(row)
            self._dirty = False
        except (sqlite3.Error, OSError):
            self._failed = True

    def close(self) -> None:
        self.commit()
        if self._index is not None:
            with contextlib.suppress(sqlite3.Error):
                self._index.close()
            self._index = None


def thread_id_from_path(path: Path) -> str | None:
    parsed = parse_rollout_name(path.name)
    return parsed[1] if parsed else None
