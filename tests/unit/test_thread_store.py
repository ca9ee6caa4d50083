"""Rollout reading and repair, the SQLite thread index, and history.jsonl."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from pycodex.rollout.history_file import PromptHistory
from pycodex.rollout.index import (
    INDEX_FILE,
    ThreadIndex,
    ThreadIndexer,
    append_name,
    row_from_rollout,
)
from pycodex.rollout.reader import iter_records, read_rollout, read_session_meta
from pycodex.rollout.recorder import RolloutLine, RolloutRecorder, rollout_path_for

REFERENCE = Path("/work/shared/reference/state")


def write_thread(home: Path, thread_id: str, *, cwd: str = "/w", user: str = "hello", when_s: int = 0,
                 tokens: int = 10, provider: str = "mock") -> Path:
    import datetime as dt

    when = dt.datetime(2026, 1, 1, 12, 0, 0) + dt.timedelta(seconds=when_s)
    path = rollout_path_for(home, thread_id, when)
    rec = RolloutRecorder(path, indexer=ThreadIndexer(home, path))
    rec.record([
        RolloutLine("session_meta", {"id": thread_id, "timestamp": f"2026-01-01T12:{when_s // 60:02d}:{when_s % 60:02d}.000Z",
                                     "cwd": cwd, "source": "exec", "model_provider": provider,
                                     "git": {"branch": "main", "commit_hash": "abc"}}),
        RolloutLine("turn_context", {"model": "gpt-5.5", "cwd": cwd}),
        RolloutLine("event_msg", {"type": "user_message", "message": user}),
        RolloutLine("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": user}]}),
        RolloutLine("event_msg", {"type": "agent_message", "message": f"answer to {user}"}),
        RolloutLine("event_msg", {"type": "token_count", "info": {
            "total_token_usage": {"total_tokens": tokens}, "last_token_usage": {"total_tokens": tokens}}}),
    ])
    rec.close()
    return path


# --- reader and repair -----------------------------------------------------------------

def test_reader_ignores_a_partial_last_line_and_unknown_kinds(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(
        b'{"timestamp": "t", "ordinal": 0, "type": "session_meta", "payload": {"id": "x"}}\n'
        b'{"timestamp": "t", "ordinal": 1, "type": "brand_new_kind", "payload": {"a": 1}}\n'
        b'not json at all\n'
        b'{"timestamp": "t", "ordinal": 3, "type": "event_msg", "payload": {"type": "from_the_future"}}\n'
        b'{"timestamp": "t", "ordinal": 4, "type": "response_item", "payl'
    )
    rollout = read_rollout(path)
    assert [r.ordinal for r in rollout.records] == [0, 1, 3]
    assert rollout.partial_tail and rollout.skipped == 1
    assert rollout.next_ordinal == 4
    assert read_session_meta(path) == {"id": "x"}


LINES = [
    b'{"timestamp": "t0", "ordinal": 0, "type": "session_meta", "payload": {"id": "x"}}',
    b'{"type": "event_msg", "payload": {"type": "task_started", "turn_id": "u"}}',
    b'{"timestamp": 5, "ordinal": 7, "type": "response_item", "payload": {"type": "message"}}',
    b'{"type": "event_msg", "payload": [1, 2]}',
    b'',
    b'{"ordinal": 9, "type": "turn_context", "payload": {"model": "m"}}',
]


@pytest.mark.parametrize("damaged", [False, True], ids=["all-well-formed", "one-bad-line"])
def test_the_whole_file_reader_and_the_line_reader_agree(tmp_path: Path, damaged: bool) -> None:
    """Well-formed files are read in one decoder call; any odd line sends the whole file
    through the line-by-line reader, which keeps what it can. Both read the same records."""
    lines = [LINES[0], LINES[1], LINES[5]] if not damaged else LINES
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    rollout = read_rollout(path)
    got = [(r.ordinal, r.type, r.timestamp, r.payload) for r in rollout.records]
    by_line = [r for r in iter_records(b"\n".join(lines) + b"\n") if r is not None]
    assert got == [(r.ordinal, r.type, r.timestamp, r.payload) for r in by_line]
    if damaged:
        # A non-string timestamp is tolerated; a payload that is not an object is not.
        assert [o for o, *_ in got] == [0, 1, 7, 9]
        assert got[2][2] == "" and rollout.skipped == 1
    else:
        assert [o for o, *_ in got] == [0, 1, 9] and rollout.skipped == 0


def test_recorder_cuts_a_crash_fragment_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rec = RolloutRecorder(path)
    rec.record([RolloutLine("session_meta", {"id": "x"}), RolloutLine("event_msg", {"type": "a"})])
    rec.close()
    with open(path, "ab") as fh:
        fh.write(b'{"timestamp": "t", "ordinal": 2, "type": "resp')  # kill -9 mid-write
    rollout = read_rollout(path)
    again = RolloutRecorder(path, next_ordinal=rollout.next_ordinal)
    assert again.repaired_bytes > 0
    again.record([RolloutLine("event_msg", {"type": "b"})])
    again.close()
    lines = path.read_text().splitlines()
    assert [json.loads(line)["ordinal"] for line in lines] == [0, 1, 2]
    assert json.loads(lines[-1])["payload"] == {"type": "b"}


def test_reference_rollouts_read_and_index() -> None:
    files = sorted(REFERENCE.glob("rollout-*.jsonl"))
    assert len(files) == 2
    parent = read_rollout(files[0])
    assert parent.meta is not None and parent.next_ordinal == 43 and parent.skipped == 0
    row = row_from_rollout(files[1])
    assert row is not None
    assert row.forked_from == "01a1fee1-0c01-7441-9387-0e9cb13f5e2a"
    assert (row.title, row.preview, row.tokens_used, row.model) == (
        "[[text]] forked turn", "Just text, no tools.", 550, "gpt-5.5"
    )


# --- the index -------------------------------------------------------------------------

def test_live_index_equals_rebuilt_index(tmp_path: Path) -> None:
    for i in range(5):
        write_thread(tmp_path, f"01a1fee1-0000-7000-8000-00000000000{i}", user=f"task {i}", when_s=i, tokens=i)
    append_name(tmp_path, "01a1fee1-0000-7000-8000-000000000002", "important")
    with ThreadIndex(tmp_path) as index:
        index.set_name("01a1fee1-0000-7000-8000-000000000002", "important")
        live = index.all_rows()
        assert index.rebuild() == 5
        rebuilt = index.all_rows()
    assert live == rebuilt
    row = next(r for r in live if r.name)
    assert (row.title, row.preview, row.tokens_used, row.git_branch, row.model, row.cwd) == (
        "task 2", "answer to task 2", 2, "main", "gpt-5.5", "/w"
    )
    # Deleting the database file: the next open rebuilds it, names included.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / INDEX_FILE}{suffix}").unlink(missing_ok=True)
    with ThreadIndex(tmp_path) as index:
        assert index.all_rows() == live


def test_index_from_an_older_schema_is_rebuilt(tmp_path: Path) -> None:
    write_thread(tmp_path, "01a1fee1-0000-7000-8000-000000000001")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / INDEX_FILE}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(tmp_path / INDEX_FILE)
    db.executescript("CREATE TABLE schema_version (version INTEGER); INSERT INTO schema_version VALUES (0);"
                     "CREATE TABLE threads (id TEXT);")
    db.close()
    with ThreadIndex(tmp_path) as index:
        assert [r.id for r in index.all_rows()] == ["01a1fee1-0000-7000-8000-000000000001"]
        journal = index._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_a_corrupt_index_is_replaced(tmp_path: Path) -> None:
    write_thread(tmp_path, "01a1fee1-0000-7000-8000-000000000001")
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp_path / INDEX_FILE}{suffix}").unlink(missing_ok=True)
    (tmp_path / INDEX_FILE).write_bytes(b"this is not sqlite" * 100)
    with ThreadIndex(tmp_path) as index:
        assert len(index.all_rows()) == 1


def test_listing_order_filters_search_and_pages(tmp_path: Path) -> None:
    ids = [f"01a1fee1-0000-7000-8000-0000000000{i:02d}" for i in range(12)]
    for i, tid in enumerate(ids):
        write_thread(tmp_path, tid, cwd="/a" if i % 2 else "/b", user=f"fix bug {i}" if i < 3 else f"task {i}",
                     when_s=i, provider="p1" if i < 6 else "p2")
    with ThreadIndex(tmp_path) as index:
        page = index.list(sort="created_at", limit=5)
        assert [r.id for r in page.items] == ids[::-1][:5]
        seen = [r.id for r in page.items]
        while page.next_cursor:
            page = index.list(sort="created_at", limit=5, cursor=page.next_cursor)
            seen += [r.id for r in page.items]
        assert seen == ids[::-1]
        assert {r.cwd for r in index.list(cwd="/a").items} == {"/a"}
        assert len(index.list(provider="p2").items) == 6
        assert [r.title for r in index.list(search="BUG").items] == ["fix bug 2", "fix bug 1", "fix bug 0"]
        assert index.list(search="100%").items == []
        assert len(index.list(sort="updated_at", limit=3).items) == 3
        index.set_location(ids[0], Path("/x/archived_sessions/f.jsonl"), True)
        assert ids[0] not in [r.id for r in index.list(limit=50).items]
        assert [r.id for r in index.list(archived=True).items] == [ids[0]]
        assert len(index.list(archived=None, limit=50).items) == 12
        with pytest.raises(ValueError):
            index.list(cursor="!!!")


def test_index_tracks_updated_at_and_tokens_on_every_write(tmp_path: Path) -> None:
    path = write_thread(tmp_path, "01a1fee1-0000-7000-8000-000000000001", tokens=5)
    with ThreadIndex(tmp_path) as index:
        before = index.get("01a1fee1-0000-7000-8000-000000000001")
    assert before is not None
    rollout = read_rollout(path)
    indexer = ThreadIndexer(tmp_path, path)
    for r in rollout.records:
        indexer.builder.apply(r.type, r.payload, r.timestamp)
    rec = RolloutRecorder(path, next_ordinal=rollout.next_ordinal, indexer=indexer)
    rec.record([RolloutLine("event_msg", {"type": "token_count", "info": {
        "total_token_usage": {"total_tokens": 99}, "last_token_usage": {"total_tokens": 94}}})])
    rec.flush()
    with ThreadIndex(tmp_path) as index:
        after = index.get("01a1fee1-0000-7000-8000-000000000001")
        assert after is not None and after.tokens_used == 99 and after.updated_at >= before.updated_at
        rec.close()
        live = index.all_rows()
        index.rebuild()
        assert index.all_rows() == live


# --- history.jsonl ---------------------------------------------------------------------

def test_history_append_mode_and_lookup(tmp_path: Path) -> None:
    history = PromptHistory(tmp_path)
    assert history.metadata().entry_count == 0
    history.append("s1", "first", ts=1)
    history.append("s2", "second\nline", ts=2)
    assert stat.S_IMODE(os.stat(history.path).st_mode) == 0o600
    meta = history.metadata()
    assert meta.entry_count == 2 and meta.log_id == os.stat(history.path).st_ino
    assert history.lookup(meta.log_id, 1) == {"session_id": "s2", "ts": 2, "text": "second\nline"}
    assert history.lookup(meta.log_id, 2) is None
    assert history.lookup(meta.log_id + 1, 0) is None


def test_history_persistence_none_writes_nothing(tmp_path: Path) -> None:
    assert PromptHistory(tmp_path, persistence="none").append("s", "secret") is False
    assert not (tmp_path / "history.jsonl").exists()


def test_history_max_bytes_drops_oldest_whole_lines_keeping_the_inode(tmp_path: Path) -> None:
    history = PromptHistory(tmp_path, max_bytes=200)
    for i in range(20):
        history.append("s", f"entry {i:02d}", ts=i)
    data = history.path.read_bytes()
    assert len(data) <= 200 and data.endswith(b"\n")
    texts = [json.loads(line)["text"] for line in data.splitlines()]
    assert texts[-1] == "entry 19" and texts == [f"entry {i:02d}" for i in range(20 - len(texts), 20)]
    ino = history.path.stat().st_ino
    history.append("s", "more", ts=99)
    assert history.path.stat().st_ino == ino


def _append_many(home: str, start: int) -> None:
    h = PromptHistory(Path(home))
    for i in range(100):
        h.append("p", f"{start + i} " + "x" * 300)


def test_history_appends_from_processes_never_interleave(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), k * 1000)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(20)
    lines = (tmp_path / "history.jsonl").read_text().splitlines()
    assert len(lines) == 300
    assert all(json.loads(line)["text"].endswith("x" * 300) for line in lines)


def test_history_append_waits_for_the_lock(tmp_path: Path) -> None:
    import threading
    import time

    history = PromptHistory(tmp_path)
    history.append("s", "first")
    fd = os.open(history.path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (history.append("s", "second"), done.set()))
    worker.start()
    time.sleep(0.2)
    assert not done.is_set()  # blocked by the other holder
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    worker.join(5)
    assert done.is_set() and history.metadata().entry_count == 2
