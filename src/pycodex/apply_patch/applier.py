"""Write computed changes to disk, as close to all-or-nothing as POSIX allows.

Every new file body is first written and fsynced to a temporary file next to its
destination ("staging"); only when all of them are staged are they renamed into place
and the deletions done, in patch order. A failure while staging removes the temporary
files and leaves the tree untouched. Renames and unlinks can still fail midway (say, a
directory's permissions change under us); that is reported like Codex reports it.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from pycodex.apply_patch.changes import FileChange


class PatchApplyError(Exception):
    """Writing the changes failed. `str()` is the message Codex prints."""


@dataclass(frozen=True)
class ApplyResult:
    """What changed, grouped the way Codex's summary reports it (one entry per hunk)."""

    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    # Absolute paths whose content or existence changed, in patch order, no duplicates.
    affected_paths: list[Path] = field(default_factory=list)

    @property
    def summary(self) -> str:
        lines = ["Success. Updated the following files:"]
        lines += [f"A {p}" for p in self.added]
        lines += [f"M {p}" for p in self.modified]
        lines += [f"D {p}" for p in self.deleted]
        return "\n".join(lines) + "\n"


@dataclass
class _Write:
    path: str
    data: bytes
    mode: int | None
    temp: str | None = None


@dataclass
class _Unlink:
    path: str
    # Codex's wording differs between a Delete hunk and the source of a move.
    error: str


def apply_changes(changes: list[FileChange]) -> ApplyResult:
    ops = _plan(changes)
    writes = [op for op in ops if isinstance(op, _Write)]
    for write in writes:
        if os.path.isdir(os.path.dirname(write.path)):
            try:
                _stage(write)
            except OSError as err:
                _discard(writes)
                raise PatchApplyError(f"Failed to write file {write.path}") from err
    try:
        for op in ops:
            _commit(op)
    finally:
        _discard(writes)
    return _result(changes)


def _plan(changes: list[FileChange]) -> list[_Write | _Unlink]:
    ops: list[_Write | _Unlink] = []
    for change in changes:
        if change.kind == "delete":
            ops.append(_Unlink(str(change.path), f"Failed to delete file {change.path}"))
            continue
        assert change.new_content is not None
        data = change.new_content.encode("utf-8")
        ops.append(_Write(_write_target(change.target_path), data, change.mode))
        if change.move_path is not None and change.move_path != change.path:
            ops.append(_Unlink(str(change.path), f"Failed to remove original {change.path}"))
    return ops


def _write_target(path: Path) -> str:
    # Writing through a symlink updates its target (as Codex's fs::write does) instead
    # of replacing the link with a regular file.
    text = str(path)
    return os.path.realpath(text) if os.path.islink(text) else text


def _stage(op: _Write) -> None:
    directory, name = os.path.split(op.path)
    temp = os.path.join(directory, f".{name}.{os.urandom(6).hex()}.apply_patch.tmp")
    # 0o666 lets the umask decide a new file's mode, as a plain create would.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    op.temp = temp
    try:
        if op.mode is not None:
            os.fchmod(fd, op.mode)
        view = memoryview(op.data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(op: _Write | _Unlink) -> None:
    if isinstance(op, _Unlink):
        try:
            os.unlink(op.path)
        except OSError as err:
            raise PatchApplyError(op.error) from err
        return
    if op.temp is None:
        parent = os.path.dirname(op.path)
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as err:
            raise PatchApplyError(f"Failed to create parent directories for {op.path}") from err
        try:
            _stage(op)
        except OSError as err:
            raise PatchApplyError(f"Failed to write file {op.path}") from err
    assert op.temp is not None
    try:
        os.replace(op.temp, op.path)
    except OSError as err:
        raise PatchApplyError(f"Failed to write file {op.path}") from err
    op.temp = None


def _discard(writes: list[_Write]) -> None:
    for op in writes:
        if op.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(op.temp)
            op.temp = None


def _result(changes: list[FileChange]) -> ApplyResult:
    result = ApplyResult()
    seen: set[Path] = set()
    for change in changes:
        if change.kind == "add":
            result.added.append(change.display_path)
        elif change.kind == "delete":
            result.deleted.append(change.display_path)
        else:
            result.modified.append(change.display_target)
        for p in (change.path, change.target_path):
            if p not in seen:
                seen.add(p)
                result.affected_paths.append(p)
    return result
