"""The thread index: one SQLite row per rollout in `$PYCODEX_HOME/state.sqlite`, and
listing it a page at a time.

Rollout files are the record; this index is derived from them, only for fast listing and
lookup (newest 50 of 10,000 threads without opening a file), and can always be thrown
away. Opening it repairs whatever it can before answering:
* missing, or from an older schema (`schema_version` table): rebuilt from the rollouts;
* corrupt (not a database, malformed): moved aside to `state.sqlite.corrupt` and rebuilt,
  with a one-line warning;
* behind on some threads (stale marks left by a live writer that failed, see
  :mod:`pycodex.rollout.stale`): those rollouts are re-read and their rows written.
What it cannot repair (locked, read-only, a directory in its place) raises
:class:`ThreadIndexError`, or, for the stale rows, becomes a warning in `warnings`.

The stdlib and msgspec (which the reader loads anyway) only: `pycodex threads list`
must start cold in well under 300 ms.
"""

from __future__ import annotations

import base64
import contextlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec

from .discovery import is_archived, iter_rollout_files, read_names
from .rows import COLUMNS, ThreadRow, row_from_rollout
from .stale import PendingMark, read_marks

INDEX_FILE = "state.sqlite"
CORRUPT_SUFFIX = ".corrupt"
SCHEMA_VERSION = 1
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

_SELECT = f"SELECT {','.join(COLUMNS)} FROM threads"
# What a rollout says about a thread; its location and name are the index's own.
_UPSERT = (
    f"INSERT INTO threads ({','.join(COLUMNS)}) VALUES ({','.join('?' for _ in COLUMNS)}) "
    "ON CONFLICT(id) DO UPDATE SET updated_at=excluded.updated_at, cwd=excluded.cwd, "
    "model=excluded.model, provider=excluded.provider, source=excluded.source, "
    "title=excluded.title, preview=excluded.preview, git_branch=excluded.git_branch, "
    "git_commit=excluded.git_commit, tokens_used=excluded.tokens_used, "
    "forked_from=excluded.forked_from"
)

# SQLite's primary result codes: another connection has the lock; the file is damaged.
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_corrupt(exc: sqlite3.Error) -> bool:
    """Whether SQLite says the file itself is damaged (as opposed to busy, read-only...)."""
    return _primary_code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether the statement failed only because another connection holds the lock."""
    return _primary_code(exc) in (_SQLITE_BUSY, _SQLITE_LOCKED)


class ThreadIndexError(Exception):
    """The index cannot be opened: a one-line reason naming the file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"thread index {path}: {reason}")
        self.path = path
        self.reason = reason


class ThreadPage(msgspec.Struct):
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
    """A connection to the index, brought up to date (or rebuilt) on opening.

    `on_warning` hears each one-line warning as it happens; `warnings` keeps them all.
    `refresh_stale=False` skips re-reading stale threads (for the live writer, which
    writes its own row next and must not re-read its own growing rollout each time).
    """

    def __init__(
        self,
        home: Path,
        *,
        timeout_ms: int = BUSY_TIMEOUT_MS,
        on_warning: Callable[[str], None] | None = None,
        refresh_stale: bool = True,
    ) -> None:
        self.home = home
        self.path = home / INDEX_FILE
        self.warnings: list[str] = []
        self._on_warning = on_warning
        # Row count when this open rebuilt the index from the rollouts, else None.
        self.rebuilt: int | None = None
        self._timeout_ms = timeout_ms
        try:
            home.mkdir(parents=True, exist_ok=True)
            self._open()
        except (sqlite3.Error, OSError) as exc:
            raise ThreadIndexError(self.path, str(exc) or type(exc).__name__) from exc
        self._settle_stale(refresh=refresh_stale)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ThreadIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._on_warning is not None:
            self._on_warning(message)

    def replaced(self) -> bool:
        """Whether the file this connection writes was deleted or replaced since opening
        (the connection would go on writing into a file nobody reads)."""
        try:
            return _identity(self.path) != self._identity
        except OSError:
            return True

    def close_detached(self) -> None:
        """Close a connection whose file was deleted or replaced (see `replaced`).

        SQLite leaves such a connection's WAL files behind, under the names the file now
        at the path uses: they describe the old database and would be read as part of
        the new one. So they go too, if they are still the ones this connection used.
        """
        self._db.close()
        for suffix, identity in self._sidecars.items():
            sidecar = f"{self.path}{suffix}"
            if identity is not None and _identity_or_none(sidecar) == identity:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(sidecar)

    @property
    def busy_timeout_ms(self) -> int:
        """How long a write waits for another writer's lock, as SQLite has it."""
        return int(self._db.execute("PRAGMA busy_timeout").fetchone()[0])

    def set_busy_timeout(self, timeout_ms: int) -> None:
        """How long a write waits for another writer's lock before it fails."""
        self._timeout_ms = timeout_ms
        self._db.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")

    # --- opening and repair -------------------------------------------------------------

    def _open(self) -> None:
        try:
            self._connect()
        except sqlite3.DatabaseError as exc:
            if not is_corrupt(exc):
                raise
            self._replace_corrupt(str(exc))

    def _connect(self) -> None:
        db = sqlite3.connect(self.path, timeout=self._timeout_ms / 1000, isolation_level=None)
        self._db = db
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self.ensure_current()
            # Which files this connection uses: a later delete or replace is detectable.
            self._identity = _identity(self.path)
            self._sidecars = {suffix: _identity_or_none(f"{self.path}{suffix}")
                              for suffix in ("-wal", "-shm")}
        except BaseException:
            db.close()
            raise

    def _replace_corrupt(self, damage: str) -> None:
        """The rollouts are the record: keep the damaged file for a post-mortem, rebuild."""
        self._db.close()
        aside = self._move_aside()
        self._connect()
        # (Not rebuilt: another process had moved it aside and rebuilt it meanwhile.)
        how = "reopened" if self.rebuilt is None else f"rebuilt it from {self.rebuilt} rollouts"
        self._warn(f"thread index {self.path} was unreadable ({damage}); moved it to "
                   f"{aside.name} and {how}")

    def _run(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """One statement, all its rows. If it finds the file damaged past the header that
        opening reads, the index is moved aside, rebuilt, and the statement run again."""
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            if not is_corrupt(exc) or self._db.in_transaction:
                raise
            self._replace_corrupt(str(exc))
        return self._db.execute(sql, args).fetchall()

    def _move_aside(self) -> Path:
        """Move the database and its WAL files to `state.sqlite.corrupt*` (replacing an
        older corpse: one is enough to look at, and they must not pile up)."""
        aside = self.path.with_name(self.path.name + CORRUPT_SUFFIX)
        for suffix in ("", "-wal", "-shm"):
            try:
                os.replace(f"{self.path}{suffix}", f"{aside}{suffix}")
            except FileNotFoundError:
                # No such file beside this database: drop the old corpse's, so that
                # what lies at `aside` is one consistent set.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{aside}{suffix}")
        return aside

    def _settle_stale(self, *, refresh: bool) -> None:
        """Bring rows that a failed live writer left behind up to date (see `stale`)."""
        if self.rebuilt is None and not refresh:
            return
        try:
            marks = read_marks(self.home)
        except OSError as exc:
            self._warn(f"thread index {self.path}: cannot read its stale marks ({exc}); "
                       "listings may show old data")
            return
        behind = 0
        error: sqlite3.Error | None = None
        try:
            for pending in marks:
                refreshed = self.rebuilt is not None  # a rebuild read every rollout
                if not refreshed and error is None:
                    try:
                        refreshed = self._refresh(pending)
                    except sqlite3.Error as exc:
                        error = exc  # locked or read-only: the next ones would fail alike
                if error is not None and not refreshed:
                    behind += 1
                pending.settle(refreshed)
        finally:
            for pending in marks:
                pending.close()
        if error is not None:
            self._warn(
                f"thread index {self.path} is out of date for {behind} thread(s) and cannot "
                f"be updated ({error}); listings may show old data"
            )

    def _refresh(self, pending: PendingMark) -> bool:
        """Rewrite one stale thread's row from its rollout. False if it cannot be found
        yet (a live writer's first lines still in flight)."""
        mark = pending.mark
        if mark is None:
            return True  # not a readable mark: nothing to refresh
        path = mark.rollout_path
        known = self.get(mark.thread_id)
        if not path.is_file() and known is not None:
            path = Path(known.rollout_path)  # archived or unarchived since
        row = row_from_rollout(path, archived=is_archived(self.home, path))
        if row is None:
            return not pending.held  # deleted thread, or a header not written yet
        if known is None:
            row.name = read_names(self.home).get(row.id)
        # Never older than what is there: a healthy writer may have written meanwhile.
        self._run(_UPSERT + " WHERE excluded.updated_at >= threads.updated_at", _values(row))
        return True

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
            self.rebuilt = self._recreate()
            self._db.execute("INSERT INTO schema_version(version) VALUES (?)", (SCHEMA_VERSION,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return True

    def _recreate(self) -> int:
        tables = [r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            if not table.startswith("sqlite_"):
                self._db.execute(f'DROP TABLE IF EXISTS "{table}"')
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)
        return self._populate()

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
        self.rebuilt = count
        self._settle_stale(refresh=False)
        return count

    # --- writes -------------------------------------------------------------------------

    def _insert_many(self, rows: Sequence[ThreadRow]) -> None:
        placeholders = ",".join("?" for _ in COLUMNS)
        self._db.executemany(
            f"INSERT OR REPLACE INTO threads ({','.join(COLUMNS)}) VALUES ({placeholders})",
            [_values(row) for row in rows],
        )

    def upsert(self, row: ThreadRow) -> None:
        """Insert a thread, or update what its rollout says (never its location or name)."""
        self._run(_UPSERT, _values(row))

    def set_name(self, thread_id: str, name: str | None) -> None:
        self._run("UPDATE threads SET name=? WHERE id=?", (name or None, thread_id))

    def set_location(self, thread_id: str, rollout_path: Path, archived: bool) -> None:
        self._run(
            "UPDATE threads SET rollout_path=?, archived=? WHERE id=?",
            (str(rollout_path), int(archived), thread_id),
        )

    def delete(self, thread_id: str) -> None:
        self._run("DELETE FROM threads WHERE id=?", (thread_id,))

    # --- reads --------------------------------------------------------------------------

    def get(self, thread_id: str) -> ThreadRow | None:
        found = self._run(f"{_SELECT} WHERE id=?", (thread_id,))
        return _row(found[0]) if found else None

    def find(self, id_or_name: str) -> ThreadRow | None:
        """By id first (ids take precedence), else the newest thread with that name."""
        row = self.get(id_or_name.lower()) or self.get(id_or_name)
        if row is not None:
            return row
        found = self._run(
            f"{_SELECT} WHERE name=? ORDER BY updated_at DESC, id DESC LIMIT 1", (id_or_name,)
        )
        return _row(found[0]) if found else None

    def all_rows(self) -> list[ThreadRow]:
        return [_row(r) for r in self._run(f"{_SELECT} ORDER BY id")]

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
        where, args = _filters(archived=archived, cwd=cwd, provider=provider, source=source,
                               search=search)
        if cursor:
            value, after_id = decode_cursor(cursor)
            where.append(f"({sort} < ? OR ({sort} = ? AND id < ?))")
            args.extend([value, value, after_id])
        sql = _SELECT
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {sort} DESC, id DESC LIMIT ?"
        args.append(max(limit, 0) + 1)
        rows = [_row(r) for r in self._run(sql, args)]
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = encode_cursor(getattr(last, sort), last.id)
        return ThreadPage(rows, next_cursor)


def _filters(
    *, archived: bool | None, cwd: str | None, provider: str | None, source: str | None,
    search: str | None,
) -> tuple[list[str], list[Any]]:
    """SQL conditions (and their arguments) of a listing's filters."""
    where: list[str] = []
    args: list[Any] = []
    for column, value in (("archived", archived), ("cwd", cwd), ("provider", provider),
                          ("source", source)):
        if value is not None:
            where.append(f"{column}=?")
            args.append(int(value) if isinstance(value, bool) else value)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("(title LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')")
        args.extend([pattern, pattern])
    return where, args


def _identity(path: Path | str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _identity_or_none(path: Path | str) -> tuple[int, int] | None:
    try:
        return _identity(path)
    except OSError:
        return None


def _values(row: ThreadRow) -> tuple[Any, ...]:
    return tuple(int(v) if isinstance(v, bool) else v for v in (getattr(row, c) for c in COLUMNS))


def _row(values: Sequence[Any]) -> ThreadRow:
    row = ThreadRow(*values)
    row.archived = bool(row.archived)
    return row
