"""Undo: put back what one turn changed, and nothing else.

Each turn that ran tools leaves a record in ``$PYCODEX_HOME/snapshots/threads/<thread>.jsonl``
(:func:`record_turn`): its snapshots *before* and *after*. Undoing it compares three states:

* the files the turn changed are those that differ between *before* and *after*
  (written by a patch or by any shell command alike);
* each of them must still be as the turn left it (*now* equals *after*); a file edited
  since — by the user or a later turn — is a conflict, and then nothing at all is
  restored: the answer lists the conflicting files;
* otherwise each is put back as it was *before* (deleted if the turn created it).

Files the turn did not change are never touched, so the user's own edits elsewhere
survive. An undone turn is marked in the log; the next undo goes one turn further back.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec

from .snapshot import MODE_SYMLINK, Entry, SnapshotError, Snapshotter, open_snapshotter


class UndoResult(msgspec.Struct, frozen=True):
    success: bool
    message: str
    restored: list[str] = msgspec.field(default_factory=list)
    conflicts: list[str] = msgspec.field(default_factory=list)


def snapshot_store(home: Path) -> Path:
    return home / "snapshots"


def _log_path(home: Path, thread_id: str) -> Path:
    return snapshot_store(home) / "threads" / f"{thread_id}.jsonl"


def record_turn(home: Path, thread_id: str, record: dict[str, Any]) -> None:
    """Append one turn's snapshots (kind, root, cwd, turn_id, before, after) to the log."""
    path = _log_path(home, thread_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({**record, "time": time.time()}) + "\n")


def _records(home: Path, thread_id: str, *, undone_too: bool = False) -> list[dict[str, Any]]:
    try:
        lines = _log_path(home, thread_id).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out: list[dict[str, Any]] = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a torn last line from a crash
    undone = set() if undone_too else {r["undone"] for r in out if "undone" in r}
    return [r for r in out if "before" in r and r.get("turn_id") not in undone]


def latest_thread_in(home: Path, cwd: Path) -> str | None:
    """The thread whose last snapshotted turn ran in `cwd` most recently."""
    best: tuple[float, str] | None = None
    for log in (snapshot_store(home) / "threads").glob("*.jsonl"):
        for record in reversed(_records(home, log.stem, undone_too=True)):
            if record.get("cwd") == str(cwd):
                if best is None or record["time"] > best[0]:
                    best = (record["time"], log.stem)
                break
    return best[1] if best else None


def changed_paths(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def undo_last_turn(home: Path, thread_id: str) -> UndoResult:
    """Undo the latest turn of the thread that changed files and is not undone yet."""
    for record in reversed(_records(home, thread_id)):
        try:
            snap = open_snapshotter(record["kind"], Path(record["root"]), snapshot_store(home))
            before, after = snap.entries(record["before"]), snap.entries(record["after"])
        except (SnapshotError, KeyError) as exc:
            return UndoResult(success=False, message=f"cannot undo: {exc}")
        changed = changed_paths(before, after)
        if not changed:
            continue  # a turn that changed nothing: look further back
        return _undo(home, thread_id, record, snap, before, after, changed)
    return UndoResult(success=False, message="nothing to undo: no turn of this thread changed files")


def _undo(
    home: Path, thread_id: str, record: dict[str, Any], snap: Snapshotter,
    before: dict[str, Entry], after: dict[str, Entry], changed: list[str],
) -> UndoResult:
    root = snap.root
    conflicts = [p for p in changed if snap.digest_file(root / p) != (after[p].digest if p in after else None)]
    if conflicts:
        return UndoResult(
            success=False,
            conflicts=conflicts,
            message="not undone, nothing was changed: these files were edited after the turn "
            f"and undoing would lose those edits: {', '.join(conflicts)}",
        )
    try:
        blobs = {p: snap.read(record["before"], p, before[p]) for p in changed if p in before}
    except SnapshotError as exc:
        return UndoResult(success=False, message=f"cannot undo: {exc}")
    for path in changed:
        target = root / path
        if path in before:
            _write(target, blobs[path], before[path].mode)
        else:
            _remove(target, root)
    with _log_path(home, thread_id).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"undone": record["turn_id"], "time": time.time()}) + "\n")
    return UndoResult(
        success=True,
        restored=changed,
        message=f"restored {len(changed)} file(s) changed by the last turn: {', '.join(changed)}",
    )


def _write(target: Path, data: bytes, mode: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.undo")
    if mode == MODE_SYMLINK:
        os.symlink(data.decode(), tmp)
    else:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o755 if mode & 0o111 else 0o644)
    os.replace(tmp, target)  # the file is either old or new, never half-written


def _remove(target: Path, root: Path) -> None:
    """Delete a file the turn created, then the directories it left empty."""
    try:
        target.unlink()
    except FileNotFoundError:
        return
    parent = target.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return  # not empty: someone else's files live there
        parent = parent.parent
