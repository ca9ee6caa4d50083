"""`TurnDiffTracker`: one git-style unified diff of everything the patches of a task changed.

The tracker is told about a patch *before* it is written (`on_patch`). The first time a
path is touched in the task, the file's content and mode on disk are remembered as its
baseline; renames carry that baseline along to the new path. `unified_diff()` compares
each baseline with what is on disk now, so the diff shows the net effect of the task
(a file added then deleted again shows nothing) and stays right when a later patch of the
same task edits the same file again.

Paths are shown relative to the git repository that contains the turn's cwd (as `git
diff` would), else relative to the cwd, else absolute; the output applies with `git apply`
from that directory. Files changed by shell commands are not tracked (Codex does not
either): only patches say in advance which files they will touch.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from pycodex.apply_patch import FileChange


DEV_NULL = "/dev/null"
ZERO_OID = "0" * 40
REGULAR_MODE = "100644"
EXECUTABLE_MODE = "100755"
SYMLINK_MODE = "120000"
CONTEXT_LINES = 3


class _Snapshot(msgspec.Struct, frozen=True):
    """A file as seen at one moment (None content: the file did not exist)."""

    content: bytes | None
    mode: str = REGULAR_MODE

    @property
    def exists(self) -> bool:
        return self.content is not None

    @property
    def oid(self) -> str:
        """Git's blob id for the content, in full (as Codex prints it)."""
        if self.content is None:
            return ZERO_OID
        header = f"blob {len(self.content)}\0".encode()
        return hashlib.sha1(header + self.content, usedforsecurity=False).hexdigest()


_ABSENT = _Snapshot(None)


class _Tracked(msgspec.Struct):
    origin: Path  # where the file was when first touched
    baseline: _Snapshot
    current: Path | None  # where it is now (None: gone, e.g. overwritten by a move)


def read_snapshot(path: Path) -> _Snapshot:
    try:
        st = os.lstat(path)
    except OSError:
        return _ABSENT
    if stat.S_ISLNK(st.st_mode):
        try:
            return _Snapshot(os.readlink(path).encode(), SYMLINK_MODE)
        except OSError:
            return _ABSENT
    if not stat.S_ISREG(st.st_mode):
        return _ABSENT
    try:
        data = path.read_bytes()
    except OSError:
        return _ABSENT
    mode = EXECUTABLE_MODE if st.st_mode & 0o111 else REGULAR_MODE
    return _Snapshot(data, mode)


def find_repo_root(start: Path) -> Path | None:
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


class TurnDiffTracker:
    """Lives for one task; fed by the patch tool, read after each model response."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = Path(os.path.abspath(cwd))
        self._root = find_repo_root(self.cwd)
        self._files: list[_Tracked] = []
        self._by_current: dict[Path, _Tracked] = {}
        # Paths touched before: one that is no longer mapped was moved or deleted away
        # earlier in the task, so a later add there starts from nothing, not from disk.
        self._seen: set[Path] = set()
        self._last_emitted = ""

    # --- recording --------------------------------------------------------------------

    def on_patch(self, changes: Iterable[FileChange]) -> None:
        """Record baselines for a patch that is about to be written (call before writing)."""
        for change in changes:
            source = self._track(change.path)
            dest = change.move_path
            if dest is None or dest == change.path:
                continue
            displaced = self._by_current.get(dest)
            if displaced is None and dest not in self._seen:
                displaced = self._track(dest)
            if displaced is not None and displaced is not source:
                # The move overwrites whatever the destination held.
                displaced.current = None
                self._by_current.pop(dest, None)
            self._by_current.pop(change.path, None)
            source.current = dest
            self._by_current[dest] = source
            self._seen.add(dest)

    def _track(self, path: Path) -> _Tracked:
        tracked = self._by_current.get(path)
        if tracked is not None:
            return tracked
        baseline = _ABSENT if path in self._seen else read_snapshot(path)
        tracked = _Tracked(origin=path, baseline=baseline, current=path)
        self._files.append(tracked)
        self._by_current[path] = tracked
        self._seen.add(path)
        return tracked

    # --- reporting --------------------------------------------------------------------

    @property
    def touched(self) -> bool:
        """Whether any patch of the task has been recorded."""
        return bool(self._files)

    def unified_diff(self) -> str:
        """The task's changes so far as one git-style diff ('' when nothing differs)."""
        parts: list[tuple[bool, str, str]] = []
        for tracked in self._files:
            now = read_snapshot(tracked.current) if tracked.current is not None else _ABSENT
            text = self._file_diff(tracked, now)
            if text:
                shown = tracked.current if now.exists and tracked.current else tracked.origin
                parts.append((now.exists, self._display(shown), text))
        # Sorted by path, deletions first: a file moved onto a deleted file's path must
        # come after that deletion for `git apply`.
        parts.sort(key=lambda part: part[:2])
        return "".join(text for _, _, text in parts)

    def take_changed_diff(self) -> str | None:
        """The diff if it is non-empty and differs from the one last taken, else None."""
        diff = self.unified_diff()
        if not diff or diff == self._last_emitted:
            return None
        self._last_emitted = diff
        return diff

    def _display(self, path: Path) -> str:
        for base in (self._root, self.cwd):
            if base is not None and path.is_relative_to(base):
                return path.relative_to(base).as_posix()
        return path.as_posix()

    def _file_diff(self, tracked: _Tracked, now: _Snapshot) -> str:
        before = tracked.baseline
        old_path = self._display(tracked.origin)
        new_path = self._display(tracked.current) if tracked.current is not None else old_path
        if not before.exists and not now.exists:
            return ""
        if not before.exists:
            header = [f"diff --git a/{new_path} b/{new_path}", f"new file mode {now.mode}",
                      f"index {ZERO_OID}..{now.oid}"]
            return _with_body(header, None, now.content, DEV_NULL, f"b/{new_path}")
        if not now.exists:
            header = [f"diff --git a/{old_path} b/{old_path}", f"deleted file mode {before.mode}",
                      f"index {before.oid}..{ZERO_OID}"]
            return _with_body(header, before.content, None, f"a/{old_path}", DEV_NULL)
        renamed = old_path != new_path
        if not renamed and before == now:
            return ""
        header = [f"diff --git a/{old_path} b/{new_path}"]
        if before.mode != now.mode:
            header += [f"old mode {before.mode}", f"new mode {now.mode}"]
        if renamed:
            header += [f"similarity index {_similarity(before.content, now.content)}%",
                       f"rename from {old_path}", f"rename to {new_path}"]
        if before.content == now.content:
            return "\n".join(header) + "\n"
        # Codex's form: full ids and no mode on the index line (git adds it when unchanged).
        header.append(f"index {before.oid}..{now.oid}")
        return _with_body(header, before.content, now.content, f"a/{old_path}", f"b/{new_path}")


def _decode(data: bytes | None) -> str | None:
    if data is None:
        return ""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _with_body(
    header: list[str], old: bytes | None, new: bytes | None, old_name: str, new_name: str
) -> str:
    old_text, new_text = _decode(old), _decode(new)
    if old_text is None or new_text is None:
        return "\n".join([*header, f"Binary files {old_name} and {new_name} differ"]) + "\n"
    lines = [*header, f"--- {old_name}", f"+++ {new_name}"]
    from pycodex.apply_patch.changes import unified_diff  # only when a patch was applied

    hunks = unified_diff(old_text, new_text, context=CONTEXT_LINES)
    return "\n".join(lines) + "\n" + hunks


def _similarity(old: bytes | None, new: bytes | None) -> int:
    """Git's rename score, roughly: bytes of lines kept / size of the larger version."""
    old, new = old or b"", new or b""
    if not old and not new:
        return 100
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    import difflib  # only for a rename, not before every first request

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    kept = sum(len(line) for block in matcher.get_matching_blocks() for line in a[block.a : block.a + block.size])
    return kept * 100 // max(len(old), len(new))
