"""Where threads live on disk: rollout files under the home, and the names file.

Rollouts sit in `sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`; archiving a thread
moves its file under `archived_sessions/`, so "archived" is where the file is. What the
rollouts do not hold — thread names — lives in `session_index.jsonl` (Codex's file and
format: `{"id","thread_name","updated_at"}` per line, last line wins).

On the cold path of `pycodex threads list`: nothing beyond the stdlib and the reader.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

from .reader import parse_rollout_name, whole_lines

SESSIONS_DIR = "sessions"
ARCHIVED_DIR = "archived_sessions"
NAMES_FILE = "session_index.jsonl"


def iter_rollout_files(home: Path) -> Iterator[tuple[Path, bool]]:
    """(path, archived) of every rollout under `home`, `sessions/` before the archive."""
    for sub, archived in ((SESSIONS_DIR, False), (ARCHIVED_DIR, True)):
        root = home / sub
        if not root.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                if name.startswith("rollout-") and name.endswith(".jsonl"):
                    yield Path(dirpath) / name, archived


def is_archived(home: Path, path: Path) -> bool:
    """Whether `path` is a rollout in `home`'s archive."""
    return path.is_relative_to(home / ARCHIVED_DIR)


def thread_id_from_path(path: Path) -> str | None:
    """The thread id in a rollout file name (lower case), or None if not a rollout name."""
    parsed = parse_rollout_name(path.name)
    return parsed[1] if parsed else None


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
    # One O_APPEND write per line: processes naming threads at once never interleave.
    fd = os.open(home / NAMES_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
