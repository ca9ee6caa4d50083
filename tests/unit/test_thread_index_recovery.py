"""The thread index never goes stale silently.

Real failures only, injected from outside the way they happen to users: another process
holding SQLite's write lock, a read-only database file, a directory where the database
should be, garbage in place of the database, the database deleted under a live session.
Each test shows the one-line warning and that the row is current once the cause is gone.
A "session" here is the real recorder driving the real indexer on its writer thread.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pycodex.rollout.discovery import ARCHIVED_DIR, SESSIONS_DIR, append_name
from pycodex.rollout.indexer import ThreadIndexer
from pycodex.rollout.recorder import RolloutLine, RolloutRecorder, rollout_path_for
from pycodex.rollout.stale import STALE_DIR
from pycodex.rollout.thread_index import INDEX_FILE, ThreadIndex, ThreadIndexError

TID = "01a1fee1-0000-7000-8000-000000000001"


class Session:
    """A recording thread whose index writes never wait on a lock (timeout 0)."""

    def __init__(self, home: Path, thread_id: str = TID, *, timeout_ms: int = 0) -> None:
        self.home = home
        self.path = rollout_path_for(home, thread_id, dt.datetime(2026, 1, 1, 12))
        self.indexer = ThreadIndexer(home, self.path, timeout_ms=timeout_ms)
        self.recorder = RolloutRecorder(self.path, indexer=self.indexer)
        self.recorder.record([
            RolloutLine("session_meta", {"id": thread_id, "timestamp": "2026-01-01T12:00:00.000Z",
                                         "cwd": "/w", "source": "exec", "model_provider": "mock"}),
            RolloutLine("event_msg", {"type": "user_message", "message": "the task"}),
        ])
        self.recorder.flush()

    def say(self, text: str, tokens: int) -> None:
        """One agent message and its token count, flushed (the indexer commits)."""
        self.recorder.record([
            RolloutLine("event_msg", {"type": "agent_message", "message": text}),
            RolloutLine("event_msg", {"type": "token_count", "info": {
                "total_token_usage": {"total_tokens": tokens}}}),
        ])
        self.recorder.flush()

    def close(self) -> None:
        self.recorder.close()


def row_of(home: Path, thread_id: str = TID) -> tuple[str, int]:
    with ThreadIndex(home) as index:
        row = index.get(thread_id)
    assert row is not None
    return row.preview, row.tokens_used


def marks(home: Path) -> list[str]:
    folder = home / STALE_DIR
    return sorted(os.listdir(folder)) if folder.is_dir() else []


@contextlib.contextmanager
def write_lock(home: Path) -> Iterator[None]:
    """Another connection holding the database's write lock (as a long rebuild would)."""
    other = sqlite3.connect(home / INDEX_FILE, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` made unwritable for real: mode 0444, or, as root (which ignores modes),
    the immutable attribute."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        try:
            yield
        finally:
            os.chmod(path, 0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode:
        pytest.skip("running as root without a working chattr: cannot make a file read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


# --- the live writer -------------------------------------------------------------------

def test_a_locked_index_warns_once_marks_the_thread_and_catches_up(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.say("first answer", 10)
    assert session.indexer.take_warnings() == []
    with write_lock(tmp_path):
        session.say("second answer", 20)
        warnings = session.indexer.take_warnings()
        assert len(warnings) == 1 and "database is locked" in warnings[0]
        assert str(tmp_path / INDEX_FILE) in warnings[0]
        assert session.indexer.failing and len(marks(tmp_path)) == 1
        session.say("third answer", 30)
        assert session.indexer.take_warnings() == []  # once per session, not per write
        # A listing meanwhile cannot write the fresh row either, and says so.
        with ThreadIndex(tmp_path, timeout_ms=0) as index:
            old = index.get(TID)
            assert old is not None and old.preview == "first answer"
            assert len(index.warnings) == 1 and "out of date for 1 thread" in index.warnings[0]
    session.say("fourth answer", 40)  # the first commit after the lock is gone
    assert not session.indexer.failing and session.indexer.take_warnings() == []
    assert row_of(tmp_path) == ("fourth answer", 40)
    assert marks(tmp_path) == []
    session.close()


def test_while_the_lock_stays_taken_commits_only_try_it(tmp_path: Path) -> None:
    # The thread that commits also writes the rollout: after one full wait for the lock it
    # must not wait again at every line until the lock is released. Driven by hand here
    # (SQLite connections stay on the thread that made them), white box: SQLite's setting.
    indexer = ThreadIndexer(tmp_path, tmp_path / "rollout.jsonl", timeout_ms=1)
    indexer.observe("session_meta", {"id": TID, "timestamp": "2026-01-01T12:00:00.000Z"}, "")
    indexer.commit()
    index = indexer._index
    assert index is not None and index.busy_timeout_ms == 1
    with write_lock(tmp_path):
        indexer.observe("event_msg", {"type": "agent_message", "message": "first answer"}, "")
        indexer.commit()
        assert indexer.failing and index.busy_timeout_ms == 0
    indexer.commit()
    assert not indexer.failing and indexer._index is index and index.busy_timeout_ms == 1
    indexer.close()
    assert row_of(tmp_path) == ("first answer", 0)


def test_a_listing_rereads_a_thread_whose_live_writer_failed(tmp_path: Path) -> None:
    from pycodex.cli.threads_cmd import threads_command

    session = Session(tmp_path)
    session.say("first answer", 10)
    with write_lock(tmp_path):
        session.say("second answer", 20)
    # The session is idle (no commit since), yet `threads list` shows its latest state.
    for _ in range(2):  # and again: the writer still holds its mark, it stays
        result = CliRunner().invoke(threads_command, ["list", "--json"],
                                    env={"PYCODEX_HOME": str(tmp_path)})
        assert result.exit_code == 0, result.output
        [listed] = json.loads(result.stdout)["data"]
        assert (listed["preview"], listed["tokens_used"]) == ("second answer", 20)
        assert len(marks(tmp_path)) == 1
    session.close()  # its last commit succeeds and clears the mark
    assert marks(tmp_path) == []
    assert row_of(tmp_path) == ("second answer", 20)


def test_a_session_that_ends_failing_leaves_the_thread_for_the_next_open(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.say("first answer", 10)
    with write_lock(tmp_path):
        session.say("last answer", 50)
        session.close()  # the final commit fails too
    assert len(marks(tmp_path)) == 1
    with ThreadIndex(tmp_path) as index:
        row = index.get(TID)
        assert row is not None and (row.preview, row.tokens_used) == ("last answer", 50)
        assert index.warnings == []
    assert marks(tmp_path) == []  # its writer is gone and the row is current: settled


def test_a_directory_where_the_database_should_be(tmp_path: Path) -> None:
    (tmp_path / INDEX_FILE).mkdir()
    session = Session(tmp_path)
    session.say("first answer", 10)
    [warning] = session.indexer.take_warnings()
    assert "unable to open database file" in warning and str(tmp_path / INDEX_FILE) in warning
    with pytest.raises(ThreadIndexError, match=r"state\.sqlite: unable to open database file"):
        ThreadIndex(tmp_path)
    (tmp_path / INDEX_FILE).rmdir()
    session.say("second answer", 20)
    assert not session.indexer.failing and session.indexer.take_warnings() == []
    assert row_of(tmp_path) == ("second answer", 20) and marks(tmp_path) == []
    session.close()


def test_a_read_only_database(tmp_path: Path) -> None:
    earlier = "01a1fee1-0000-7000-8000-000000000002"
    Session(tmp_path, earlier).close()  # the database exists, in WAL mode, and nobody has it open
    with read_only(tmp_path / INDEX_FILE):
        session = Session(tmp_path)
        session.say("first answer", 10)
        [warning] = session.indexer.take_warnings()
        assert "readonly database" in warning
        with ThreadIndex(tmp_path) as index:  # still readable; says what it cannot fix
            assert index.get(TID) is None and index.get(earlier) is not None
            assert len(index.warnings) == 1 and "cannot be updated" in index.warnings[0]
    session.say("second answer", 20)
    assert not session.indexer.failing
    assert row_of(tmp_path) == ("second answer", 20) and marks(tmp_path) == []
    session.close()


def test_when_the_thread_cannot_be_marked_the_warning_says_to_reindex(tmp_path: Path) -> None:
    (tmp_path / STALE_DIR).write_text("a file where the marks directory goes")
    session = Session(tmp_path)
    with write_lock(tmp_path):
        session.say("first answer", 10)
    [warning] = session.indexer.take_warnings()
    assert "database is locked" in warning and "pycodex threads reindex" in warning
    session.say("second answer", 20)  # and it still catches up by itself
    assert row_of(tmp_path) == ("second answer", 20)
    session.close()


def test_the_database_deleted_under_a_live_session(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.say("first answer", 10)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / INDEX_FILE}{suffix}").unlink(missing_ok=True)
    assert row_of(tmp_path) == ("first answer", 10)  # a reader rebuilds it from the rollouts
    session.say("second answer", 20)  # not into the deleted file: into the one readers see
    [warning] = session.indexer.take_warnings()
    assert "was deleted or replaced during this session" in warning
    assert row_of(tmp_path) == ("second answer", 20)
    session.close()


def test_garbage_in_place_of_the_database_under_a_live_session(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.say("first answer", 10)
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"this is not sqlite" * 300)
    os.replace(garbage, tmp_path / INDEX_FILE)
    session.say("second answer", 20)
    [warning] = session.indexer.take_warnings()  # one line for one event
    assert "file is not a database" in warning and "moved it to state.sqlite.corrupt" in warning
    assert "rebuilt it from 1 rollouts" in warning
    assert (tmp_path / "state.sqlite.corrupt").read_bytes() == b"this is not sqlite" * 300
    assert row_of(tmp_path) == ("second answer", 20)
    session.close()


# --- readers ---------------------------------------------------------------------------

def test_a_corrupt_database_is_moved_aside_and_rebuilt_with_one_warning(tmp_path: Path) -> None:
    Session(tmp_path).close()
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp_path / INDEX_FILE}{suffix}").unlink(missing_ok=True)
    (tmp_path / INDEX_FILE).write_bytes(b"\0garbage" * 512)
    heard: list[str] = []
    with ThreadIndex(tmp_path, on_warning=heard.append) as index:
        assert [r.id for r in index.all_rows()] == [TID]
        assert index.warnings == heard and len(heard) == 1
    assert heard[0] == (
        f"thread index {tmp_path / INDEX_FILE} was unreadable (file is not a database); "
        "moved it to state.sqlite.corrupt and rebuilt it from 1 rollouts"
    )
    assert (tmp_path / "state.sqlite.corrupt").read_bytes() == b"\0garbage" * 512


def test_damage_past_the_header_is_found_by_a_query_and_repaired(tmp_path: Path) -> None:
    for i in range(40):
        Session(tmp_path, f"01a1fee1-0000-7000-8000-0000000001{i:02d}").close()
    db = sqlite3.connect(tmp_path / INDEX_FILE)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    [root] = db.execute("SELECT rootpage FROM sqlite_master WHERE name='threads'").fetchone()
    db.close()
    assert not Path(f"{tmp_path / INDEX_FILE}-wal").exists()  # all of it is in the file
    with open(tmp_path / INDEX_FILE, "r+b") as fh:  # the table's root page only
        fh.seek((root - 1) * page_size)
        fh.write(b"\xff" * page_size)
    with ThreadIndex(tmp_path) as index:  # the header and schema_version are intact
        assert index.warnings == []
        assert len(index.list(limit=100).items) == 40
        [warning] = index.warnings
    assert "malformed" in warning and "rebuilt it from 40 rollouts" in warning


def test_a_refresh_never_replaces_a_newer_row(tmp_path: Path) -> None:
    session = Session(tmp_path)
    with write_lock(tmp_path):
        session.say("stale answer", 10)
        session.close()
    assert len(marks(tmp_path)) == 1
    with ThreadIndex(tmp_path, refresh_stale=False) as index:
        # Meanwhile a later session of the thread wrote a newer row.
        row = index.get(TID)
        assert row is not None
        row.preview, row.updated_at = "newer answer", row.updated_at + 60_000
        index.upsert(row)
    assert row_of(tmp_path) == ("newer answer", 0) and marks(tmp_path) == []


def test_reindex_settles_marks_left_behind(tmp_path: Path) -> None:
    session = Session(tmp_path)
    with write_lock(tmp_path):
        session.say("last answer", 10)
        session.close()
    with ThreadIndex(tmp_path, refresh_stale=False) as index:
        assert len(marks(tmp_path)) == 1
        assert index.rebuild() == 1
        assert marks(tmp_path) == []
        row = index.get(TID)
        assert row is not None and row.preview == "last answer"


def test_a_stale_thread_archived_since_is_refreshed_where_it_is_now(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.say("first answer", 10)
    with write_lock(tmp_path):
        session.say("last answer", 20)
        session.close()
    # `pycodex threads archive` meanwhile: the file moves, the index follows.
    archived = tmp_path / ARCHIVED_DIR / session.path.relative_to(tmp_path / SESSIONS_DIR)
    archived.parent.mkdir(parents=True)
    session.path.rename(archived)
    with ThreadIndex(tmp_path, refresh_stale=False) as index:
        index.set_location(TID, archived, True)
    with ThreadIndex(tmp_path) as index:
        row = index.get(TID)
    assert row is not None and (row.preview, row.archived, row.rollout_path) == (
        "last answer", True, str(archived))
    assert marks(tmp_path) == []


def test_a_thread_the_index_never_had_is_added_with_its_name(tmp_path: Path) -> None:
    Session(tmp_path, "01a1fee1-0000-7000-8000-000000000002").close()
    with write_lock(tmp_path):
        session = Session(tmp_path)  # not one of its writes gets through
        session.say("first answer", 10)
        session.close()
    append_name(tmp_path, TID, "the named one")
    with ThreadIndex(tmp_path) as index:
        row = index.get(TID)
    assert row is not None and (row.name, row.preview) == ("the named one", "first answer")
