"""config.toml `notify`: the program runs once per completed turn with Codex's payload."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.support.exec_cli import ExecHarness
from tests.support.mock_model import MockModelServer, http_error, message, response

pytestmark = pytest.mark.e2e

# Appends its last argument (the payload) as one line to the file named by its first.
RECORDER = "import sys\nwith open(sys.argv[1], 'a') as f:\n    f.write(sys.argv[-1] + '\\n')\n"


def configure(harness: ExecHarness, argv: list[str]) -> None:
    config = harness.home / "config.toml"
    config.write_text(f"notify = {json.dumps(argv)}\n" + config.read_text(encoding="utf-8"))


def wait_for_lines(path: Path, n: int, timeout_s: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and len(lines := path.read_text().splitlines()) >= n:
            return lines
        time.sleep(0.05)
    return path.read_text().splitlines() if path.exists() else []


def test_notify_program_gets_the_turn(harness: ExecHarness, mock_model: MockModelServer) -> None:
    script, out = harness.root / "notify.py", harness.root / "notified.jsonl"
    script.write_text(RECORDER)
    configure(harness, [sys.executable, str(script), str(out)])
    mock_model.enqueue(response(message("All done.")))

    r = harness.run("--json", "fix the bug")

    assert r.rc == 0, r.stderr
    [line] = wait_for_lines(out, 1)
    payload = json.loads(line)
    thread_id = r.events[0]["thread_id"] if r.events else None
    assert payload == {
        "type": "agent-turn-complete",
        "thread-id": thread_id,
        "turn-id": payload["turn-id"],
        "cwd": str(harness.workspace),
        "input-messages": ["fix the bug"],
        "last-assistant-message": "All done.",
    }
    assert payload["turn-id"]


def test_failed_turn_does_not_notify(harness: ExecHarness, mock_model: MockModelServer) -> None:
    script, out = harness.root / "notify.py", harness.root / "notified.jsonl"
    script.write_text(RECORDER)
    configure(harness, [sys.executable, str(script), str(out)])
    mock_model.enqueue(http_error(400))

    r = harness.run("--json", "hi")

    assert r.rc == 1
    time.sleep(0.5)  # a notifier would have been started before exit
    assert not out.exists()


def test_missing_notify_program_warns_and_the_turn_still_completes(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    configure(harness, [str(harness.root / "no-such-notifier")])
    mock_model.enqueue(response(message("ok")))

    r = harness.run("--json", "hi")

    assert r.rc == 0, r.stderr
    errors = [e["item"]["message"] for e in r.of_type("item.completed") if e["item"]["type"] == "error"]
    assert any("no-such-notifier" in m and "could not be started" in m for m in errors), r.stdout
    assert r.last["type"] == "turn.completed"
