"""Commands that must be stopped: timeouts and Ctrl-C kill the command's whole process group.

Each test uses a `sleep` with a unique fractional duration so `pgrep -f` finds exactly the
processes this test started, and kills leftovers in `finally` so a failure leaks nothing.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.exec_cli import (
    ExecHarness,
    Result,
    call_outputs,
    kill_matching,
    pids_matching,
    read_rollout,
    shell_call,
    wait_until_gone,
)
from tests.support.mock_model import message, response

pytestmark = pytest.mark.e2e


@pytest.fixture
def sleep_marker() -> Iterator[str]:
    """`sleep 29.<random>`: a command line no other process on the machine has."""
    marker = f"sleep 29.{random.randrange(10**6):06d}"
    try:
        yield marker
    finally:
        kill_matching(marker)


def test_command_timeout_kills_the_process_group(
    harness: ExecHarness, sleep_marker: str
) -> None:
    # bash leads the group; the backgrounded sleep is pycodex's grandchild.
    script = f"{sleep_marker} & echo started; wait"
    harness.mock.enqueue(
        response(shell_call(script, timeout_ms=500)),
        response(message("It timed out.")),
    )

    r = harness.run("--json", "-s", "danger-full-access", "run something slow")

    assert r.rc == 0, r.stderr
    assert wait_until_gone(sleep_marker, timeout_s=1.0) == []
    assert r.elapsed_s < 10
    [done] = r.items("command_execution")
    assert done["status"] == "failed"
    assert done["exit_code"] == 128 + signal.SIGKILL
    assert done["aggregated_output"] == "started\n"
    [(_, output)] = call_outputs(harness.mock.model_requests()[1])
    assert "command timed out after 500 milliseconds" in output
    assert "started" in output
    assert r.last["type"] == "turn.completed"


class _Lines:
    """Reads a process's stdout on a thread, so the test can wait for a line with a timeout."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self._stream = proc.stdout
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        for line in self._stream:
            self._queue.put(line)
        self._queue.put("")  # EOF

    def wait_for(self, needle: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(needle in line for line in self.seen):
            line = self._queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            assert line, f"stdout ended before {needle!r}: {self.seen}"
            self.seen.append(line)

    def rest(self) -> str:
        self._thread.join(timeout=5)
        while not self._queue.empty():
            self.seen.append(self._queue.get_nowait())
        return "".join(self.seen)


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_stop_signal_mid_command_aborts_kills_the_command_and_exits_128_plus_n(
    harness: ExecHarness, sleep_marker: str, signum: signal.Signals, code: int
) -> None:
    """Ctrl-C, a supervisor's SIGTERM and a lost terminal's SIGHUP all stop the turn the
    same way: the command's process group dies, the rollout is complete and resumable."""
    harness.mock.enqueue(response(shell_call(f"{sleep_marker}; echo slept")))

    last_message = harness.root / "last.txt"
    args = ("--json", "-s", "danger-full-access", "-o", str(last_message), "[[slowcmd]]")
    started_at = time.monotonic()
    proc = harness.spawn(*args)
    stdout = _Lines(proc)
    stdout.wait_for('"command_execution"', timeout_s=10)
    deadline = time.monotonic() + 5
    while not pids_matching(sleep_marker):
        assert time.monotonic() < deadline, "the command never started"
        time.sleep(0.02)

    os.kill(proc.pid, signum)
    proc.wait(timeout=10)
    assert proc.stderr is not None
    r: Result = harness.result(proc, stdout.rest(), proc.stderr.read(), args, time.monotonic() - started_at)

    assert r.rc == code, r.stderr
    assert wait_until_gone(sleep_marker, timeout_s=1.0) == []
    # Only what happened so far: no completion of the command, no turn.completed/failed.
    assert r.pairs() == [
        ("thread.started", None),
        ("turn.started", None),
        ("item.started", "command_execution"),
    ]
    assert len(harness.mock.model_requests()) == 1
    assert not last_message.exists()

    [path] = harness.rollouts()
    lines_ = read_rollout(path)
    assert lines_[0]["type"] == "session_meta"
    assert lines_[-1]["type"] == "event_msg"
    assert lines_[-1]["payload"]["type"] == "turn_aborted"
    assert lines_[-1]["payload"]["reason"] == "interrupted"
    # The dangling call got an answer, so the thread stays resumable.
    outputs = [
        line["payload"] for line in lines_
        if line["type"] == "response_item" and line["payload"]["type"] == "function_call_output"
    ]
    assert [(o["call_id"], o["output"]) for o in outputs] == [("call_1", "aborted by user")]
