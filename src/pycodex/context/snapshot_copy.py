"""Snapshots outside git: a manifest of the tree plus each file's bytes, stored once.

The store (``$PYCODEX_HOME/snapshots/files``) holds ``objects/<sha256>`` (content) and
``manifests/<id>.json`` (path -> digest, mode, size, mtime). A file whose size and mtime
match the previous manifest is not read again, so the snapshot after a turn costs a walk
of the tree plus the files that changed. Caches, virtualenvs and VCS directories are
skipped, as are files over :data:`~.snapshot.MAX_FILE_BYTES`; a tree of more than
:data:`MAX_FILES` files is refused (undo would be a false promise there).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
from pathlib import Path

from .snapshot import MAX_FILE_BYTES, MODE_EXECUTABLE, MODE_FILE, MODE_SYMLINK, Entry, SnapshotError

MAX_FILES = 20_000
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".tox",
})


class CopySnapshotter:
    kind = "copy"

    def __init__(self, root: Path, store: Path) -> None:
        self.root = root
        self.store = store
        self._previous: dict[str, list[int | str]] = {}

    def take(self, label: str) -> str:
        manifest: dict[str, list[int | str]] = {}
        for rel, info in self._walk():
            mode = _mode(info)
            old = self._previous.get(rel)
            if old is not None and old[1:] == [mode, info.st_size, info.st_mtime_ns]:
                manifest[rel] = old
                continue
            data = _content(self.root / rel, info)
            if data is None:
                continue
            manifest[rel] = [self._store_object(data), mode, info.st_size, info.st_mtime_ns]
        snapshot = uuid.uuid4().hex
        path = self.store / "manifests" / f"{snapshot}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, json.dumps({"label": label, "root": str(self.root), "files": manifest}).encode())
        self._previous = manifest
        return snapshot

    def _walk(self) -> list[tuple[str, os.stat_result]]:
        found: list[tuple[str, os.stat_result]] = []
        for directory, dirs, files in os.walk(self.root):
            # Never the snapshot store itself (a PYCODEX_HOME inside the tree).
            dirs[:] = sorted(
                d for d in dirs if d not in SKIPPED_DIRS and Path(directory, d) != self.store.parent
            )
            for name in files:
                full = Path(directory, name)
                try:
                    info = full.lstat()
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_BYTES:
                    continue
                if stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
                    found.append((full.relative_to(self.root).as_posix(), info))
            if len(found) > MAX_FILES:
                raise SnapshotError(
                    f"{self.root} holds more than {MAX_FILES} files outside a git repository; "
                    "no snapshot taken (run pycodex inside a git repository to be able to undo)"
                )
        return found

    def _store_object(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.store / "objects" / digest[:2] / digest
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(path, data)
        return digest

    def entries(self, snapshot: str) -> dict[str, Entry]:
        try:
            data = json.loads((self.store / "manifests" / f"{snapshot}.json").read_bytes())
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"snapshot {snapshot} cannot be read: {exc}") from exc
        return {path: Entry(str(v[0]), int(v[1])) for path, v in data["files"].items()}

    def read(self, snapshot: str, path: str, entry: Entry) -> bytes:
        try:
            return (self.store / "objects" / entry.digest[:2] / entry.digest).read_bytes()
        except OSError as exc:
            raise SnapshotError(f"the snapshot of {path} is missing: {exc.strerror}") from exc

    def digest_file(self, path: Path) -> str | None:
        try:
            info = path.lstat()
        except OSError:
            return None
        data = _content(path, info)
        return hashlib.sha256(data).hexdigest() if data is not None else None


def _mode(info: os.stat_result) -> int:
    if stat.S_ISLNK(info.st_mode):
        return MODE_SYMLINK
    return MODE_EXECUTABLE if info.st_mode & 0o111 else MODE_FILE


def _content(path: Path, info: os.stat_result) -> bytes | None:
    try:
        if stat.S_ISLNK(info.st_mode):
            return os.readlink(path).encode()
        if stat.S_ISREG(info.st_mode):
            return path.read_bytes()
    except OSError:
        pass
    return None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
