"""Write computed changes to disk, as close to all-or-nothing as POSIX allows.

Every new file body is first written to a temporary file next to its destination
("staging"), creating missing parent directories on the way; only when all of them are
staged, and their data is on disk (durable.py says how, with one sync for many files),
are they renamed into place and the deletions done, in patch order. A failure while
staging removes the temporary files and the directories it created, leaving the tree
untouched. A failure while committing (a later hunk's path became a directory, a
directory's permissions changed under us) is undone from a journal: replaced and deleted
files were kept aside as links until the end, so they are put back, new files and
directories removed — the tree is left as it was, and the error reported as Codex does.
"""

from __future__ import annotations

import os
import stat

from pycodex.apply_patch.changes import FileChange
from pycodex.apply_patch.durable import SyncError, SyncPlan
from pycodex.apply_patch.workers import run_each

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
        _stage_early(writes, created, sync)
        try:
            sync.barrier(_parent(w.path) for w in writes if w.temp is not None)
        except SyncError as err:
            raise PatchApplyError(_first_failure(writes, err.directory)) from err
    except BaseException:
        _discard(writes)
        _remove_dirs(created)
        raise
    journal = _Journal()
    try:
        for op in ops:
            _commit(op, sync, created, journal)
    except BaseException:
        _discard(writes)  # a staged file can keep a new directory from being removed
        journal.undo()
        _remove_dirs(created)
        raise
    finally:
        _discard(writes)
    # New directories' own entries live in their parents; everything else in op.path's.
    touched = [_parent(op.path) for op in ops] + [_parent(d) for d in created]
    try:
        sync.settle(touched)
    except SyncError as err:
        raise PatchApplyError(_first_failure(ops, err.directory)) from err
    finally:
        journal.forget()  # the new names are durable (or cannot be made so): drop the old
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


def _stage_early(writes: list[_Write], created: list[str], sync: SyncPlan) -> None:
    """Stage every write whose parent can exist now (creating missing directories in
    patch order); a write behind a file this patch deletes first is left to `_commit`,
    which stages it in patch order. The files themselves are written concurrently
    (workers.py); the first failure in patch order is the one reported."""
    stageable: list[_Write] = []
    parent_failure: PatchApplyError | None = None
    ready: set[str] = set()  # parents known to exist: one stat per directory, not per file
    for op in writes:
        parent = _parent(op.path)
        missing = [] if parent in ready else _missing_parents(op.path)
        if missing is None:
            continue
        try:
            for directory in missing:
                os.mkdir(directory)
                created.append(directory)
        except OSError as mkdir_error:
            parent_failure = PatchApplyError(f"Failed to create parent directories for {op.path}")
            parent_failure.__cause__ = mkdir_error
            break
        ready.add(parent)
        stageable.append(op)
    fsync = sync.per_file
    failure = run_each(lambda op: _stage(op, fsync=fsync), stageable)
    if failure is not None:
        index, write_error = failure
        raise PatchApplyError(f"Failed to write file {stageable[index].path}") from write_error
    if parent_failure is not None:
        raise parent_failure


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
    temp = _sibling(op.path, "tmp")
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


_NEW_DIR = "\0new directory"  # never a file name: marks a directory in the journal


class _Journal:
    """What the commit phase changed, in order, so that a failure can undo it."""

    __slots__ = ("_steps",)

    def __init__(self) -> None:
        # (path, kept): `path` now holds a new file (kept: the link to what it replaced,
        # None when it did not exist) or — for a deletion — is gone, `kept` being the file;
        # (path, _NEW_DIR): a directory this phase created.
        self._steps: list[tuple[str, str | None]] = []

    def keep(self, path: str) -> str | None:
        """A second name for the file at `path` (a hard link, else the file renamed), so it
        survives being replaced or deleted; None when there is no file there."""
        try:
            mode = os.lstat(path).st_mode
        except (OSError, ValueError):  # what os.path.lexists calls "does not exist"
            return None
        # One lstat answers for regular files (the common case); a link needs its target.
        if stat.S_ISDIR(mode) or (stat.S_ISLNK(mode) and os.path.isdir(path)):
            return None
        kept = _sibling(path, "keep")
        try:
            os.link(path, kept, follow_symlinks=False)
        except OSError:
            os.rename(path, kept)  # a filesystem without hard links
        return kept

    def record(self, path: str, kept: str | None) -> None:
        self._steps.append((path, kept))

    def record_dirs(self, directories: list[str]) -> None:
        self._steps.extend((d, _NEW_DIR) for d in directories)

    def undo(self) -> None:
        """Put every changed path back as it was, newest change first."""
        for path, kept in reversed(self._steps):
            try:
                if kept is _NEW_DIR:
                    os.rmdir(path)
                elif kept is None:
                    os.unlink(path)
                else:
                    os.replace(kept, path)
            except OSError:
                pass  # best effort: what cannot be restored stays reported by the error
        self._steps.clear()

    def forget(self) -> None:
        """The patch is in: drop the kept copies (concurrently, see workers.py)."""
        kept = [k for _, k in self._steps if k is not None and k is not _NEW_DIR]
        run_each(_unlink_quietly, kept)
        self._steps.clear()


def _unlink_quietly(path: str) -> None:
    try:  # noqa: SIM105 -- contextlib would cost the CLI ~3 ms of imports
        os.unlink(path)
    except OSError:
        pass  # best effort: a kept copy that cannot go is only a stray file


def _sibling(path: str, kind: str) -> str:
    directory, name = os.path.split(path)
    return os.path.join(directory, f".{name}.{os.urandom(6).hex()}.apply_patch.{kind}")


def _commit(op: _Write | _Unlink, sync: SyncPlan, created: list[str], journal: _Journal) -> None:
    if isinstance(op, _Unlink):
        try:
            kept = journal.keep(op.path)
            if kept is None or os.path.lexists(op.path):
                os.unlink(op.path)
        except OSError as err:
            raise PatchApplyError(op.error) from err
        journal.record(op.path, kept)
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
        journal.record_dirs(missing)
        try:
            _stage(op, fsync=True)
        except OSError as err:
            raise PatchApplyError(f"Failed to write file {op.path}") from err
    assert op.temp is not None
    try:
        kept = journal.keep(op.path)
    except OSError as err:
        raise PatchApplyError(f"Failed to write file {op.path}") from err
    try:
        os.replace(op.temp, op.path)
    except OSError as err:
        if kept is not None and not os.path.lexists(op.path):
            os.rename(kept, op.path)  # kept by renaming: put it back
        elif kept is not None:
            os.unlink(kept)
        raise PatchApplyError(f"Failed to write file {op.path}") from err
    journal.record(op.path, kept)
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
