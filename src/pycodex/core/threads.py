"""Recorded threads at rest: list, look up, archive, unarchive, delete, name, reindex.

`ThreadStore` works on a home's rollout files and its SQLite index only (no engine, no
model client), so `pycodex threads list` starts cold in well under 300 ms; it is
blocking (files, SQLite): an async caller runs it in a worker thread, as
`ThreadManager` does. Its listing takes the app-server's `thread/list` parameters
(`ThreadListQuery`); a thread is named by its id or, failing that, by its name (ids take
precedence). Threads that are *open* (a live session recording into them) are the
`ThreadManager`'s business: it closes one before archiving or deleting it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import msgspec

from pycodex.rollout.discovery import (
    ARCHIVED_DIR,
    SESSIONS_DIR,
    append_name,
    iter_rollout_files,
    thread_id_from_path,
)
from pycodex.rollout.reader import parse_rollout_name
from pycodex.rollout.rows import ThreadRow, row_from_rollout
from pycodex.rollout.thread_index import ThreadIndex, ThreadIndexError, ThreadPage, encode_cursor

# What the engine hands out about a recorded thread, and a page of them (`next_cursor`
# continues the listing): the index's own types, so a 10,000-thread listing copies nothing.
ThreadSummary = ThreadRow
ThreadSummaryPage = ThreadPage

# `excludedThreadIds` above this is rejected, never truncated (app-server contract).
MAX_EXCLUDED_IDS = 100


class ThreadNotFoundError(LookupError):
    """No rollout for this thread id / name."""


class ThreadStoreError(Exception):
    """The store cannot do it: a file is in the way, cannot be moved..."""


class ThreadIndexUnavailableError(ThreadStoreError):
    """The index cannot be opened (locked, read-only, a directory in its place)."""


class ThreadQueryError(ValueError):
    """A listing query the store cannot answer (bad cursor, unsupported sort...)."""


class ThreadListQuery(msgspec.Struct, frozen=True, kw_only=True):
    """`thread/list`'s parameters (ThreadListParams), snake_cased.

    Multi-valued filters match any of their values; None or empty means no filter.
    `archived=None` lists archived and unarchived threads alike (`threads list --all`).
    """

    cursor: str | None = None
    limit: int = 25
    sort_key: Literal["created_at", "updated_at"] = "created_at"
    # Newest first; "asc" needs ascending scans from the index (not there yet).
    sort_direction: Literal["asc", "desc"] = "desc"
    archived: bool | None = False
    cwd: str | Sequence[str] | None = None
    model_providers: Sequence[str] | None = None
    source_kinds: Sequence[str] | None = None
    search_term: str | None = None
    excluded_thread_ids: Sequence[str] = ()


class ThreadStore:
    """The recorded threads of one home (`$PYCODEX_HOME`). Blocking."""

    def __init__(self, home: Path, *, on_warning: Callable[[str], None] | None = None) -> None:
        self.home = home
        self._on_warning = on_warning

    @contextlib.contextmanager
    def _index(self) -> Iterator[ThreadIndex]:
        try:
            index = ThreadIndex(self.home, on_warning=self._on_warning)
        except ThreadIndexError as exc:
            raise ThreadIndexUnavailableError(str(exc)) from None
        with index:
            yield index

    # --- lookup ------------------------------------------------------------------------

    def find(self, id_or_name: str) -> ThreadSummary | None:
        """The thread `id_or_name` names; a rollout the index does not know yet is indexed."""
        with self._index() as index:
            return _lookup(index, id_or_name)

    def get(self, id_or_name: str) -> ThreadSummary:
        """Like `find`; raises `ThreadNotFoundError`."""
        found = self.find(id_or_name)
        if found is None:
            raise ThreadNotFoundError(f"no session found for {id_or_name}")
        return found

    def locate(self, id_or_name: str) -> Path | None:
        """The rollout file of a thread. Never fails on the index: it is a cache, and a
        broken or lagging one falls back to scanning file names."""
        return find_rollout(self.home, id_or_name)

    def newest(self, *, cwd: str | None) -> Path | None:
        """The rollout of the most recently updated unarchived thread (in `cwd` unless None)."""
        with self._index() as index:
            page = index.list(sort="updated_at", limit=1, cwd=cwd, archived=False)
        for row in page.items:
            if Path(row.rollout_path).is_file():
                return Path(row.rollout_path)
        return None

    # --- listing -----------------------------------------------------------------------

    def list(self, query: ThreadListQuery | None = None) -> ThreadSummaryPage:
        """A page of threads, newest first by `query.sort_key`. Raises `ThreadQueryError`."""
        q = query or ThreadListQuery()
        _check(q)
        cwds, providers, sources = _values(q.cwd), _values(q.model_providers), _values(q.source_kinds)
        excluded = {t.lower() for t in q.excluded_thread_ids}
        one = {
            "cwd": cwds[0] if len(cwds) == 1 else None,
            "provider": providers[0] if len(providers) == 1 else None,
            "source": sources[0] if len(sources) == 1 else None,
        }
        with self._index() as index:
            if len(cwds) <= 1 and len(providers) <= 1 and len(sources) <= 1 and not excluded:
                return _page(index, q, q.cursor, q.limit, **one)

            def keep(row: ThreadSummary) -> bool:
                return (
                    (not cwds or row.cwd in cwds)
                    and (not providers or row.provider in providers)
                    and (not sources or row.source in sources)
                    and row.id not in excluded
                )

            return _filtered_page(index, q, keep, one)

    # --- changes -----------------------------------------------------------------------

    def archive(self, id_or_name: str) -> ThreadSummary:
        """Move the rollout under `archived_sessions/` (already archived: unchanged)."""
        with self._index() as index:
            row = _require(index, id_or_name)
            if not row.archived:
                src = Path(row.rollout_path)
                dest = self.home / ARCHIVED_DIR / src.name
                _move(src, dest)
                index.set_location(row.id, dest, True)
                row.rollout_path, row.archived = str(dest), True
            return row

    def unarchive(self, id_or_name: str) -> ThreadSummary:
        """Move the rollout back under `sessions/YYYY/MM/DD/` (not archived: unchanged)."""
        with self._index() as index:
            row = _require(index, id_or_name)
            if row.archived:
                src = Path(row.rollout_path)
                parsed = parse_rollout_name(src.name)
                if parsed is None:
                    raise ThreadStoreError(f"unexpected file name {src.name}")
                when = parsed[0]
                dest = self.home / SESSIONS_DIR / f"{when:%Y}" / f"{when:%m}" / f"{when:%d}" / src.name
                _move(src, dest)
                index.set_location(row.id, dest, False)
                row.rollout_path, row.archived = str(dest), False
            return row

    def delete(self, id_or_name: str) -> ThreadSummary:
        """Remove the rollout and its index row, for good."""
        with self._index() as index:
            row = _require(index, id_or_name)
            Path(row.rollout_path).unlink(missing_ok=True)
            index.delete(row.id)
            return row

    def set_name(self, id_or_name: str, name: str | None) -> ThreadSummary:
        """Name a thread (None or blank: remove its name); kept in Codex's names file too."""
        clean = (name or "").strip() or None
        with self._index() as index:
            row = _require(index, id_or_name)
            append_name(self.home, row.id, clean)
            index.set_name(row.id, clean)
            row.name = clean
            return row

    def reindex(self) -> int:
        """Rebuild the index from the rollout files; the number of threads indexed."""
        with self._index() as index:
            return index.rebuild()


def find_rollout(home: Path, id_or_name: str) -> Path | None:
    """The rollout of a thread: by id or name through the index, else by scanning file
    names (an index that is behind must not hide a thread)."""
    try:
        with ThreadIndex(home) as index:
            row = index.find(id_or_name)
    except Exception:  # the index is a cache; any failure falls back to the files
        row = None
    if row is not None and Path(row.rollout_path).is_file():
        return Path(row.rollout_path)
    wanted = id_or_name.lower()
    for path, _archived in iter_rollout_files(home):  # sessions/ first, then the archive
        if thread_id_from_path(path) == wanted:
            return path
    return None


def _lookup(index: ThreadIndex, id_or_name: str) -> ThreadSummary | None:
    row = index.find(id_or_name)
    if row is not None and Path(row.rollout_path).is_file():
        return row
    wanted = id_or_name.lower()
    for path, archived in iter_rollout_files(index.home):
        if thread_id_from_path(path) == wanted:
            found = row_from_rollout(path, archived=archived)
            if found is not None:
                if row is not None:
                    found.name = row.name
                index.upsert(found)
                index.set_location(found.id, path, archived)
                return found
    return None


def _require(index: ThreadIndex, id_or_name: str) -> ThreadSummary:
    row = _lookup(index, id_or_name)
    if row is None:
        raise ThreadNotFoundError(f"no session found for {id_or_name}")
    return row


def _move(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        raise ThreadStoreError(f"{dest} already exists")
    try:
        os.replace(src, dest)
    except OSError as exc:
        raise ThreadStoreError(f"cannot move {src} to {dest}: {exc.strerror}") from None


def _values(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _check(q: ThreadListQuery) -> None:
    if q.sort_direction != "desc":
        raise ThreadQueryError(f"sort direction {q.sort_direction!r} is not supported (only 'desc')")
    if q.sort_key not in ("created_at", "updated_at"):
        raise ThreadQueryError(f"unknown sort key {q.sort_key!r}")
    if q.limit < 1:
        raise ThreadQueryError(f"limit must be at least 1, got {q.limit}")
    if len(q.excluded_thread_ids) > MAX_EXCLUDED_IDS:
        raise ThreadQueryError(
            f"at most {MAX_EXCLUDED_IDS} excluded thread ids, got {len(q.excluded_thread_ids)}"
        )


def _page(
    index: ThreadIndex, q: ThreadListQuery, cursor: str | None, limit: int,
    *, cwd: str | None, provider: str | None, source: str | None,
) -> ThreadSummaryPage:
    try:
        return index.list(
            sort=q.sort_key, limit=limit, cursor=cursor, cwd=cwd, provider=provider,
            source=source, archived=q.archived, search=q.search_term,
        )
    except ValueError as exc:  # a cursor that is not one of ours
        raise ThreadQueryError(str(exc)) from None


def _filtered_page(
    index: ThreadIndex,
    q: ThreadListQuery,
    keep: Callable[[ThreadSummary], bool],
    one: dict[str, str | None],
) -> ThreadSummaryPage:
    """A page under filters SQL does not express here (several values, exclusions):
    index pages are read and filtered until the page is full or the index ends."""
    rows: list[ThreadSummary] = []
    cursor = q.cursor
    while True:
        page = _page(index, q, cursor, max(q.limit * 2, 50), **one)
        for position, row in enumerate(page.items):
            if not keep(row):
                continue
            rows.append(row)
            if len(rows) == q.limit:
                at_end = position == len(page.items) - 1 and page.next_cursor is None
                return ThreadSummaryPage(rows, None if at_end else _cursor_after(row, q))
        if page.next_cursor is None:
            return ThreadSummaryPage(rows, None)
        cursor = page.next_cursor


def _cursor_after(row: ThreadSummary, q: ThreadListQuery) -> str:
    return encode_cursor(getattr(row, q.sort_key), row.id)
