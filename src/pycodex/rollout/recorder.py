"""`RolloutRecorder`: appends a thread's record to its JSONL rollout file.

One JSON object per line: `{"timestamp", "ordinal", "type", "payload"}` with types
`session_meta`, `response_item`, `event_msg`, `turn_context`. Writing happens on a
background thread so the agent loop never waits on the disk; `flush()` waits until every
line recorded so far is written and fsync'ed (turn end, shutdown).

Each line goes out in a single `write()` of the complete line, so a crash can at worst
leave one truncated last line, which readers skip.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SESSIONS_DIR = "sessions"


@dataclass(frozen=True)
class RolloutLine:
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

    def __init__(self, path: Path, *, next_ordinal: int = 0) -> None:
        self.path = path
        self._ordinal = next_ordinal
        self._queue: queue.Queue[Any] = queue.Queue()
        self._error: OSError | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: concurrent appends (a resumed thread in two processes) never interleave
        # inside a line.
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._thread = threading.Thread(target=self._run, name="rollout-writer", daemon=True)
        self._thread.start()

    def record(self, lines: Iterable[RolloutLine]) -> None:
        """Queue lines for writing; returns at once."""
        for line in lines:
            obj = {
                "timestamp": utc_timestamp(),
                "ordinal": self._ordinal,
                "type": line.type,
                "payload": line.payload,
            }
            self._ordinal += 1
            self._queue.put((json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8"))

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
                return
            if isinstance(entry, threading.Event):
                self._sync()
                entry.set()
                continue
            if self._error is None:
                try:
                    view = memoryview(entry)
                    while view:
                        view = view[os.write(self._fd, view) :]
                except OSError as exc:  # disk full, file removed...: report at flush
                    self._error = exc

    def _sync(self) -> None:
        if self._error is None:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self._error = exc
