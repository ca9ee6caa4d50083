"""Write computed changes to disk, as close to all-or-nothing as POSIX allows.

Every new file body is first written to a temporary file next to its destination
("staging"), creating missing parent directories on the way; only when all of them are
staged, and their data is on disk (durable.py says how, with one sync for many files),
are they renamed into place and the deletions done, in patch order. A failure while
staging removes the temporary files and the directories it created, leaving the tree
untouched. Renames and unlinks can still fail midway (say, a directory's permissions
change under us); that is reported like Codex reports it.
"""

from __future__ import annotations

import os

from pycodex.apply_patch.changes import FileChange
from pycodex.apply_patch.durable import SyncError, SyncPlan

TYPE_CHECKING = False  # not typing's: see record.py on what imports cost here
if TYPE_CHECKING:
    from pathlib import Path


class PatchApplyError(Exception):
    """Writing the changes failed. `str()` is the message Codex prints."""


class ApplyResult:
    """What changed, grouped the way Codex's summary reports it (one entry per hunk)."""

    __slots__ = ("_affected", "added", "deleted", "modified")

    def __init__(self) -> None:
        self.added: list[str] = []
        self.modified: list[str] = []
        self.deleted: list[str] = []
        self._affected: list[str] = []

    @property
    def affected_paths(self) -> list[Path]:
        """Absolute paths whose content or existence changed, in patch order, once each."""
        from pathlib import Path

        return [Path(p) for p in self._affected]

    @property
    def summary(self) -> str:
        lines = ["Success. Updated the following files:"]
        lines += [f"A {p}" for p in self.added]
        lines += [f"M {p}" for p in self.modified]
        lines += [f"D {p}" for p in self.deleted]
        return "\n".join(lines) + "\n"


class _Write:
    __slots__ = ("data", "mode", "path", "temp")

    def __init__(self, path: str, data: bytes, mode: int | None) -> None:
        self.path = path
        self.data = data
        self.mode = mode
        self.temp: str | None = None


class _Unlink:
    __slots__ = ("error", "path")

    def __init__(self, path: str, error: str) -> None:
        self.path = path
        # Codex's wording differs between a Delete hunk and the source of a move.
        self.error = error


def apply_changes(changes: list[FileChange]) -> ApplyResult:
    ops = _plan(changes)
    writes = [op for op in ops if isinstance(op, _Write)]
    sync = SyncPlan(len(ops))
    created: list[str] = []
    try:
        for write in writes:
            _stage_early(write, created, sync)
        try:
            sync.barrier(_parent(w.path) for w in writes if w.temp is not None)
        except SyncError as err:
            raise PatchApplyError(_first_failure(writes, err.directory)) from err
    except BaseException:
        _discard(writes)
        _remove_dirs(created)
        raise
    try:
        for op in ops:
            _commit(op, sync, created)
    finally:
        _discard(writes)
    # New directories' own entries live in their parents; everything else in op.path's.
    touched = [_parent(op.path) for op in ops] + [_parent(d) for d in created]
    try:
        sync.settle(touched)
    except SyncError as err:
        raise PatchApplyError(_first_failure(ops, err.directory)) from err
    return _result(changes)


def _parent(path: str) -> str:
    return os.path.dirname(path) or "."


def _plan(changes: list[FileChange]) -> list[_Write | _Unlink]:
    ops: list[_Write | _Unlink] = []
    for change in changes:
        if change.kind == "delete":
            ops.append(_Unlink(change.abs_path, f"Failed to delete file {change.abs_path}"))
            continue
        assert change.new_content is not None
        data = change.new_content.encode("utf-8")
        ops.append(_Write(_write_target(change.abs_target), data, change.mode))
        if change.abs_move_path is not None and change.abs_move_path != change.abs_path:
            ops.append(_Unlink(change.abs_path, f"Failed to remove original {change.abs_path}"))
    return ops


def _write_target(path: str) -> str:
    # Writing through a symlink updates its target (as Codex's fs::write does) instead
    # of replacing the link with a regular file.
    return os.path.realpath(path) if os.path.islink(path) else path


def _stage_early(op: _Write, created: list[str], sync: SyncPlan) -> None:
    """Stage `op` now unless its parent cannot exist yet (a file this patch deletes
    first stands in the way); then `_commit` stages it in patch order."""
    missing = _missing_parents(op.path)
    if missing is None:
        return
    try:
        for directory in missing:
            os.mkdir(directory)
            created.append(directory)
    except OSError as err:
        raise PatchApplyError(f"Failed to create parent directories for {op.path}") from err
    try:
        _stage(op, fsync=sync.per_file)
    except OSError as err:
        raise PatchApplyError(f"Failed to write file {op.path}") from err


def _missing_parents(path: str) -> list[str] | None:
    """The directories to create, outermost first, for `path`'s parent to exist; None
    when something other than a directory is in the way."""
    missing: list[str] = []
    parent = _parent(path)
    while not os.path.isdir(parent):
        if os.path.lexists(parent) or parent == os.path.dirname(parent):
            return None
        missing.append(parent)
        parent = os.path.dirname(parent)
    return missing[::-1]


def _stage(op: _Write, *, fsync: bool) -> None:
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
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _commit(op: _Write | _Unlink, sync: SyncPlan, created: list[str]) -> None:
    if isinstance(op, _Unlink):
        try:
            os.unlink(op.path)
        except OSError as err:
            raise PatchApplyError(op.error) from err
        return
    if op.temp is None:
        # Its parent only became creatable now that earlier ops ran. Past barrier 1, so
        # this one file's data must reach the disk on its own before the rename.
        missing = _missing_parents(op.path) or []
        try:
            os.makedirs(_parent(op.path), exist_ok=True)
        except OSError as err:
            raise PatchApplyError(f"Failed to create parent directories for {op.path}") from err
        created += missing
        try:
            _stage(op, fsync=True)
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
            try:  # noqa: SIM105 -- contextlib would cost the CLI ~3 ms of imports
                os.unlink(op.temp)
            except OSError:
                pass  # already gone, or the directory went away; nothing left to undo
            op.temp = None


def _remove_dirs(created: list[str]) -> None:
    for directory in reversed(created):  # innermost first
        try:  # noqa: SIM105 -- as above
            os.rmdir(directory)
        except OSError:
            pass  # something else appeared in it meanwhile: keep it


def _first_failure(ops: list[_Write] | list[_Write | _Unlink], directory: str) -> str:
    """Codex's message for the first op whose file is in `directory` (where a sync
    failed: those files may not be on disk)."""
    for op in ops:
        if _parent(op.path) == directory:
            return op.error if isinstance(op, _Unlink) else f"Failed to write file {op.path}"
    return f"Failed to write file {ops[0].path}"


def _result(changes: list[FileChange]) -> ApplyResult:
    result = ApplyResult()
    seen: set[str] = set()
    for change in changes:
        if change.kind == "add":
            result.added.append(change.display_path)
        elif change.kind == "delete":
            result.deleted.append(change.display_path)
        else:
            result.modified.append(change.display_target)
        for p in (change.abs_path, change.abs_target):
            if p not in seen:
                seen.add(p)
                result._affected.append(p)
    return result
