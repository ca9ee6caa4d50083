"""`$PYCODEX_HOME/history.jsonl`: the prompts a user typed, across sessions (like a shell's).

One line per prompt, `{"session_id", "ts", "text"}` (Codex's format). The file is created
mode 0600 (prompts can hold secrets) and every access takes an advisory `flock` — exclusive
to append or trim, shared to read — so concurrent pycodex processes never interleave or
read a half-trimmed file. `[history] persistence = "none"` turns writing off;
`history.max_bytes` keeps the file at most that big by dropping the oldest whole lines
(rewritten in place, so the inode — the `log_id` clients hold — stays the same).

Clients address entries by `(log_id, offset)`: the file's inode and the 0-based line
number, as handed out in `SessionConfigured.history_log_id` / `history_entry_count`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

HISTORY_FILE = "history.jsonl"
FILE_MODE = 0o600


class HistoryMetadata(msgspec.Struct, frozen=True):
    log_id: int  # inode; 0 when the file does not exist
    entry_count: int


@contextlib.contextmanager
def _locked(fd: int, mode: int) -> Iterator[None]:
    fcntl.flock(fd, mode)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


class PromptHistory(msgspec.Struct, frozen=True):
    home: Path
    persistence: str = "save-all"
    max_bytes: int | None = None

    @property
    def path(self) -> Path:
        return self.home / HISTORY_FILE

    @property
    def enabled(self) -> bool:
        return self.persistence != "none"

    def append(self, session_id: str, text: str, *, ts: int | None = None) -> bool:
        """Append one entry (False when persistence is off). Raises `OSError`."""
        if not self.enabled:
            return False
        entry = {"session_id": session_id, "ts": int(time.time()) if ts is None else ts, "text": text}
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
                os.fchmod(fd, FILE_MODE)
            with _locked(fd, fcntl.LOCK_EX):
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                if self.max_bytes is not None and os.fstat(fd).st_size > self.max_bytes:
                    self._trim(self.max_bytes)
        finally:
            os.close(fd)
        return True

    def _trim(self, max_bytes: int) -> None:
        """Drop the oldest whole lines until the file fits (caller holds the lock)."""
        # A second descriptor without O_APPEND: on Linux pwrite ignores the offset under
        # O_APPEND.
        fd = os.open(self.path, os.O_RDWR)
        try:
            data = _read_all(fd)
            start = 0
            while len(data) - start > max_bytes:
                nl = data.find(b"\n", start)
                if nl < 0:
                    start = len(data)
                    break
                start = nl + 1
            kept = data[start:]
            os.pwrite(fd, kept, 0)
            os.ftruncate(fd, len(kept))
        finally:
            os.close(fd)

    def metadata(self) -> HistoryMetadata:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return HistoryMetadata(0, 0)
        try:
            with _locked(fd, fcntl.LOCK_SH):
                ino = os.fstat(fd).st_ino
                return HistoryMetadata(ino, _read_all(fd).count(b"\n"))
        finally:
            os.close(fd)

    def lookup(self, log_id: int, offset: int) -> dict[str, Any] | None:
        """The entry at line `offset` if the file is still the one `log_id` names."""
        if offset < 0:
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            with _locked(fd, fcntl.LOCK_SH):
                if os.fstat(fd).st_ino != log_id:
                    return None
                data = _read_all(fd)
        finally:
            os.close(fd)
        lines = data.split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()
        else:
            lines = lines[:-1]  # a line still being written is not an entry yet
        if offset >= len(lines):
            return None
        try:
            entry = json.loads(lines[offset])
        except ValueError:
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            return None
        return entry


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    chunks: list[bytes] = []
    pos = 0
    while True:
        chunk = os.pread(fd, max(size - pos, 65536), pos)
        if not chunk:
            break
        chunks.append(chunk)
        pos += len(chunk)
    return b"".join(chunks)
