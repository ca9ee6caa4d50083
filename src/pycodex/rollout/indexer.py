"""The live indexer: keeps one thread's index row current while its session records, and
never lets that row go stale silently.

The recorder feeds it every line it writes (from its writer thread, the only caller of
`observe`, `commit` and `close`) and asks it to commit whenever its queue runs dry and at
every flush. Index failures never reach the rollout — the record is the file, the index
can be rebuilt — but they are not swallowed either:
* the first failure of the session becomes a one-line warning, which the engine takes
  with :meth:`ThreadIndexer.take_warnings` (from any thread) and shows as a warning event;
* the thread is marked stale (:mod:`pycodex.rollout.stale`), so every listing re-reads its
  rollout until the index catches up;
* each later commit tries again — without waiting on a lock, since the same thread
  writes the rollout — and the first that succeeds writes the whole current row (the
  fold has seen every line) and clears the mark.
A database deleted or replaced under the open connection is noticed at the next commit
and reopened (rebuilt from the rollouts when missing), a corrupt one is moved aside and
rebuilt by :class:`~pycodex.rollout.thread_index.ThreadIndex`; each with a warning.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any

from .rows import RowBuilder, ThreadRow
from .stale import HeldMark, StaleMark, place_mark
from .thread_index import BUSY_TIMEOUT_MS, INDEX_FILE, ThreadIndex, ThreadIndexError, is_busy


class ThreadIndexer:
    """Keeps one thread's row current as its recorder writes lines."""

    def __init__(
        self,
        home: Path,
        rollout_path: Path,
        *,
        archived: bool = False,
        seed: RowBuilder | None = None,
        name: str | None = None,
        timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> None:
        self.home = home
        self.builder = seed or RowBuilder(rollout_path, archived=archived, name=name)
        self._timeout_ms = timeout_ms
        self._index: ThreadIndex | None = None
        self._dirty = False
        self._failing = False
        self._warned = False
        # Held while failing: listings re-read this thread until a commit succeeds.
        self._mark: HeldMark | None = None
        self._warnings: list[str] = []
        self._warnings_lock = threading.Lock()

    @property
    def failing(self) -> bool:
        """Whether the last commit failed (the row is behind its rollout)."""
        return self._failing

    def take_warnings(self) -> list[str]:
        """The warnings since the last call, oldest first. Safe from any thread."""
        with self._warnings_lock:
            taken, self._warnings = self._warnings, []
        return taken

    def _warn(self, message: str) -> None:
        with self._warnings_lock:
            self._warnings.append(message)

    def observe(self, kind: str, payload: dict[str, Any], timestamp: str) -> None:
        self.builder.apply(kind, payload, timestamp)
        self._dirty = True

    def commit(self) -> None:
        """Write the row if lines came since the last successful write. Never raises:
        it runs on the recorder's writer thread, which must go on writing the rollout."""
        if not self._dirty:
            return
        row = self.builder.current()
        if row is None:
            return
        try:
            self._connection().upsert(row)
        except (ThreadIndexError, sqlite3.Error, OSError) as exc:
            self._fail(row, exc)
            return
        self._dirty = False
        if self._failing:
            self._recover()

    def close(self) -> None:
        """Last commit, then let go. A mark still held is left for the next reader."""
        self.commit()
        if self._mark is not None:
            self._mark.release()
            self._mark = None
        self._disconnect()

    def _connection(self) -> ThreadIndex:
        index = self._index
        if index is not None and not index.replaced():
            return index
        replaced = index is not None
        if index is not None:
            self._index = None
            with contextlib.suppress(sqlite3.Error, OSError):
                index.close_detached()
        index = ThreadIndex(
            self.home,
            # While failing, a lock is not waited for: this thread also writes the rollout.
            timeout_ms=0 if self._failing else self._timeout_ms,
            on_warning=self._warn,
            # Re-reading other stale threads is the listings' job, not this writer's.
            refresh_stale=False,
        )
        self._index = index
        # Unless opening already said what happened (a corrupt file moved aside).
        if replaced and not index.warnings:
            how = "reopened it" if index.rebuilt is None else (
                f"rebuilt it from {index.rebuilt} rollouts")
            self._warn(f"thread index {index.path} was deleted or replaced during this "
                       f"session; {how}")
        return index

    def _disconnect(self) -> None:
        if self._index is not None:
            with contextlib.suppress(sqlite3.Error):
                self._index.close()
            self._index = None

    def _fail(self, row: ThreadRow, exc: Exception) -> None:
        self._failing = True
        if isinstance(exc, sqlite3.Error) and is_busy(exc) and self._index is not None:
            # The connection is sound, another one holds the lock: until it is released,
            # commits only try it, they do not wait (the rollout waits behind them).
            with contextlib.suppress(sqlite3.Error):
                self._index.set_busy_timeout(0)
        else:
            # Reopen next time: the file may have been fixed, replaced or made writable.
            self._disconnect()
        mark_error: OSError | None = None
        if self._mark is None:
            try:
                self._mark = place_mark(self.home, StaleMark(row.id, Path(row.rollout_path)))
            except OSError as err:  # disk full, read-only home...
                mark_error = err
        if self._warned:
            return  # once per session: the mark, not the user, tracks later failures
        self._warned = True
        path = self.home / INDEX_FILE
        reason = exc.reason if isinstance(exc, ThreadIndexError) else (str(exc) or repr(exc))
        if mark_error is None:
            self._warn(f"thread index {path} not updated ({reason}); listings re-read this "
                       "thread from its rollout until it is")
        else:
            self._warn(f"thread index {path} not updated ({reason}) and the thread cannot "
                       f"be marked stale ({mark_error}); run `pycodex threads reindex` once "
                       "this is fixed")

    def _recover(self) -> None:
        self._failing = False
        if self._mark is not None:
            self._mark.clear()
            self._mark = None
        if self._index is not None:
            with contextlib.suppress(sqlite3.Error):
                self._index.set_busy_timeout(self._timeout_ms)
