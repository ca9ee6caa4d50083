"""`RolloutRecorder`: appends a thread's record to its JSONL rollout file.

One JSON object per line: `{"timestamp", "ordinal", "type", "payload"}` with types
`session_meta`, `response_item`, `event_msg`, `turn_context`. Writing happens on a
background thread so the agent loop never waits on the disk; `flush()` waits until every
line recorded so far is written and fsync'ed (turn end, shutdown).

Each line goes out in a single `write()` of the complete line, so a crash can at worst
leave one truncated last line, which readers skip and which the next recorder opening the
file cuts off before it appends (otherwise its first line would be glued to the fragment).

Oversized tool outputs are stored cut (`rollout.bounds`), and an optional
`ThreadIndexer` keeps the thread's row in the SQLite index current: it is fed every line
from the writer thread and commits whenever the queue runs dry and at every flush.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from .bounds import DEFAULT_MAX_ITEM_BYTES, bound_response_item
from .reader import valid_length

if TYPE_CHECKING:
    from .index import ThreadIndexer

SESSIONS_DIR = "sessions"


class RolloutLine(msgspec.Struct, frozen=True):
    type: str
    payload: dict[str, Any]


def utc_timestamp() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def rollout_path_for(home: Path, thread_id: str, when: dt.datetime | None = None) -> Path:
    """`home/sessions/YYYY/MM/DD/rollout-YYYY-MM-DDTHH-MM-SS-<id>.jsonl` (local time)."""
    when = when or dt.datetime.now()
    day = home / SESSIONS_DIR / f"{when:%Y}" / f"{when:%m}" / f"{when:%d}"
    return day / f"rollout-{when:%Y-%m-%dT%H-%M-%S}-{thread_id}.jsonl"


class RolloutRecorder:
    """Background, append-only writer of one rollout file."""

    _STOP = object()

    def __init__(
        self,
        path: Path,
        *,
        next_ordinal: int = 0,
        indexer: ThreadIndexer | None = None,
        max_item_bytes: int | None = DEFAULT_MAX_ITEM_BYTES,
    ) -> None:
        self.path = path
        self._ordinal = next_ordinal
        self._queue: queue.Queue[Any] = queue.Queue()
        self._error: OSError | None = None
        self._indexer = indexer
        self._max_item_bytes = max_item_bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: concurrent appends (a resumed thread in two processes) never interleave
        # inside a line.
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        self.repaired_bytes = self._repair_tail()
        self._thread = threading.Thread(target=self._run, name="rollout-writer", daemon=True)
        self._thread.start()


    def take_index_warnings(self) -> list[str]:
        """What went wrong keeping the thread index current since the last call (the
        index then catches up by itself); thread-safe."""
        return self._indexer.take_warnings() if self._indexer is not None else []

    def record(self, lines: Iterable[RolloutLine]) -> None:
        """Queue lines for writing; returns at once."""
        for line in lines:
            payload = line.payload
            if line.type == "response_item":
                payload = bound_response_item(payload, self._max_item_bytes)
            ts = utc_timestamp()
            obj = {"timestamp": ts, "ordinal": self._ordinal, "type": line.type, "payload": payload}
            self._ordinal += 1
            data = (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")
            self._queue.put((data, line.type, payload, ts) if self._indexer is not None else data)

    @property
    def next_ordinal(self) -> int:
        return self._ordinal

    def _repair_tail(self) -> int:
        """Cut a partial last line left by a crash; returns the bytes removed."""
        size, valid = valid_length(self._fd)
        if valid < size:
            os.ftruncate(self._fd, valid)
            return size - valid
        return 0

    def flush(self) -> None:
        """Block until everything recorded so far is on disk. Raises the writer's error."""
        done = threading.Event()
        self._queue.put(done)
        done.wait()
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Flush and stop the writer. Idempotent."""
        if self._thread.is_alive():
            self._queue.put(self._STOP)
            self._thread.join()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            entry = self._queue.get()
            if entry is self._STOP:
                self._sync()
                if self._indexer is not None:
                    self._indexer.close()
                return
            if isinstance(entry, threading.Event):
                self._sync()
                if self._indexer is not None:
                    self._indexer.commit()
                entry.set()
                continue
            data = entry
            if isinstance(entry, tuple):
                data, kind, payload, ts = entry
            if self._error is None:
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(self._fd, view) :]
                except OSError as exc:  # disk full, file removed...: report at flush
                    self._error = exc
            if self._indexer is not None and self._error is None:
                if isinstance(entry, tuple):
                    self._indexer.observe(kind, payload, ts)
                if self._queue.empty():
                    self._indexer.commit()

    def _sync(self) -> None:
        if self._error is None:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self._error = exc
