from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

from pycodex.rollout.recorder import RolloutLine, RolloutRecorder, rollout_path_for


def test_path_layout(tmp_path: Path) -> None:
    when = dt.datetime(2026, 11, 21, 16, 12, 3)
    path = rollout_path_for(tmp_path, "abc", when)
    assert path == tmp_path / "sessions/2026/11/21/rollout-2026-11-21T16-12-03-abc.jsonl"


def test_lines_are_written_in_order_with_ordinals_and_flushed(tmp_path: Path) -> None:
    path = tmp_path / "sessions" / "r.jsonl"
    rec = RolloutRecorder(path)
    rec.record([RolloutLine("session_meta", {"id": "t"}), RolloutLine("response_item", {"n": 1})])
    rec.flush()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(o["ordinal"], o["type"], o["payload"]) for o in lines] == [
        (0, "session_meta", {"id": "t"}),
        (1, "response_item", {"n": 1}),
    ]
    assert lines[0]["timestamp"].endswith("Z")
    rec.record([RolloutLine("event_msg", {"type": "task_complete"})])
    rec.close()
    assert len(path.read_text().splitlines()) == 3
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_resumed_recorder_appends_and_continues_ordinals(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    first = RolloutRecorder(path)
    first.record([RolloutLine("a", {})])
    first.close()
    second = RolloutRecorder(path, next_ordinal=1)
    second.record([RolloutLine("b", {})])
    second.close()
    assert [json.loads(x)["ordinal"] for x in path.read_text().splitlines()] == [0, 1]


def test_non_ascii_payload_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rec = RolloutRecorder(path)
    rec.record([RolloutLine("response_item", {"text": "héllo — ✓\nline"})])
    rec.close()
    (line,) = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["payload"]["text"] == "héllo — ✓\nline"
