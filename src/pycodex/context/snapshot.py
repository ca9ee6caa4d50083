"""Working-tree snapshots, taken before and after a turn changes files, so `undo` can put
back exactly what the turn changed.

Two backends share one small interface (:class:`Snapshotter`):

* in a git repository, a *ghost commit* (:mod:`.snapshot_git`): the tree is written with a
  private copy of the index and committed with `git commit-tree`, then kept alive by a ref
  under ``refs/pycodex/snapshots/`` — the user's index, HEAD and branches are never touched;
* elsewhere, a content-addressed copy (:mod:`.snapshot_copy`) under
  ``$PYCODEX_HOME/snapshots/files``: a manifest per snapshot, each file's bytes stored once.

A snapshot is read back as :class:`Entry` per path (relative to the backend's root):
a digest of the content and a git-style mode. :mod:`.snapshot_restore` compares three
states — before the turn, after it, and now — to undo only the turn's own changes.
Blocking (files, git): the engine calls these from worker threads.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import NamedTuple, Protocol

# Files bigger than this are not snapshotted (and so never undone): a build artefact
# or a dataset must not make every turn copy it.
MAX_FILE_BYTES = 10 * 1024 * 1024
MODE_FILE = 0o100644
MODE_EXECUTABLE = 0o100755
MODE_SYMLINK = 0o120000


class SnapshotError(Exception):
    """A snapshot could not be taken or read back."""


class Entry(NamedTuple):
    digest: str
    mode: int


class Snapshotter(Protocol):
    kind: str
    root: Path

    def take(self, label: str) -> str:
        """Snapshot the tree now; the snapshot's id. `label` names it (thread/turn)."""
        ...

    def entries(self, snapshot: str) -> dict[str, Entry]: ...

    def read(self, snapshot: str, path: str, entry: Entry) -> bytes: ...

    def digest_file(self, path: Path) -> str | None:
        """The digest the file at `path` has now (None: no such file)."""
        ...


def git_root(cwd: Path) -> Path | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True,
            timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def snapshotter_for(cwd: Path, store: Path) -> Snapshotter:
    """The git backend inside a repository (its root), the copy backend at `cwd` elsewhere."""
    root = git_root(cwd)
    return open_snapshotter("git" if root else "copy", root or cwd, store)


def open_snapshotter(kind: str, root: Path, store: Path) -> Snapshotter:
    if kind == "git":
        from .snapshot_git import GitSnapshotter

        return GitSnapshotter(root)
    if kind == "copy":
        from .snapshot_copy import CopySnapshotter

        return CopySnapshotter(root, store / "files")
    raise SnapshotError(f"unknown snapshot kind {kind!r}")


def read_link_or_file(path: Path) -> bytes | None:
    """What a snapshot stores of `path`: a symlink's target or a file's bytes (None when
    there is nothing there, or a directory)."""
    try:
        if path.is_symlink():
            return str(path.readlink()).encode()
        if not path.is_file():
            return None
        return path.read_bytes()
    except OSError:
        return None
