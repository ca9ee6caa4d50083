"""Stale marks: the threads whose index row is known to be behind their rollout.

When the live indexer cannot write a thread's row (the database locked beyond the busy
timeout, read-only, unopenable, the disk full), the rollout still has every line and the
index does not. So that no listing passes such a row off as current, the indexer leaves a
mark: a small file in `state.stale/` naming the thread and its rollout. A
:class:`~pycodex.rollout.thread_index.ThreadIndex` opened for reading re-reads the marked
rollouts and writes their rows before it answers.

A mark is *held* by its writer with an exclusive `flock` for as long as its session runs
and its writes keep failing. A held mark stays after a reader's refresh (the rollout is
still growing); an unheld one — its session recovered, ended or crashed — is removed
once its row has been written. The lock is the kernel's, so a crashed session never
leaves a mark that looks held, and a mark only ever appears already held (it is locked
before it is renamed into place).

On the cold path of `pycodex threads list`: the stdlib and msgspec (which the reader
loads anyway) only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

import msgspec

STALE_DIR = "state.stale"
# A mark is a few hundred bytes; anything longer is not one of ours.
_MAX_MARK_BYTES = 64 * 1024


class StaleMark(msgspec.Struct, frozen=True):
    """What a mark says: whose row is behind, and where its record is."""

    thread_id: str
    rollout_path: Path


class HeldMark:
    """A mark its writer holds until the row is written (`clear`) or it stops (`release`)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    def clear(self) -> None:
        """The row is current again: the mark goes (unlinked before the lock is dropped,
        so no reader ever sees it unheld and refreshes for nothing)."""
        with contextlib.suppress(OSError):  # gone already; or a reader removes it later
            self.path.unlink()
        self.release()

    def release(self) -> None:
        """Stop holding the mark and leave it for the next reader to settle. Idempotent."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def place_mark(home: Path, mark: StaleMark) -> HeldMark:
    """Mark a thread's row stale, held by the caller. Raises OSError (e.g. disk full)."""
    folder = home / STALE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    # Unique per writer: a reader removes only the marks it saw unheld, never a newer one.
    stem = f"{mark.thread_id}.{os.getpid()}.{os.urandom(4).hex()}"
    draft = folder / f".{stem}.tmp"
    fd = os.open(draft, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        body = {"id": mark.thread_id, "rollout_path": str(mark.rollout_path)}
        os.write(fd, json.dumps(body).encode("utf-8"))
        final = folder / f"{stem}.json"
        os.rename(draft, final)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            draft.unlink()
        raise
    return HeldMark(final, fd)


class PendingMark:
    """A mark as a reader sees it: held by a live writer or not, and what it says."""

    def __init__(self, path: Path, fd: int, held: bool, mark: StaleMark | None) -> None:
        self.path = path
        self.held = held
        # None when the file is not a mark we can read: there is nothing to refresh.
        self.mark = mark
        self._fd = fd

    def settle(self, refreshed: bool) -> None:
        """Done with the mark: remove it if its row was refreshed and nobody holds it."""
        if refreshed and not self.held:
            # A mark that cannot be removed only costs the next reader one more re-read.
            with contextlib.suppress(OSError):
                self.path.unlink()
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def read_marks(home: Path) -> list[PendingMark]:
    """Every mark under `home`, each locked by the caller unless its writer holds it.

    The caller must `settle` or `close` each one (that drops the lock). Re-read the
    rollout only after this returns: an unheld mark's writer is then gone for good.
    """
    folder = home / STALE_DIR
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    marks: list[PendingMark] = []
    for name in names:
        if name.endswith(".json") and not name.startswith("."):  # ".…tmp": being written
            pending = _open_mark(folder / name)
            if pending is not None:
                marks.append(pending)
    return marks


def _open_mark(path: Path) -> PendingMark | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:  # settled by another reader meanwhile
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held = False
    except OSError:  # EWOULDBLOCK: its writer holds it; anything else: assume it does
        held = True
    try:
        body = json.loads(os.read(fd, _MAX_MARK_BYTES))
        mark = StaleMark(str(body["id"]), Path(body["rollout_path"]))
    except (OSError, ValueError, KeyError, TypeError):
        mark = None
    return PendingMark(path, fd, held, mark)
