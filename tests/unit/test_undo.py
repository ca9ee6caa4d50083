"""Undo through the engine: `Op::Undo` after a turn that changed files (a patch and a
shell command), a turn that only talks takes no snapshot, and repeated undos walk back."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pycodex.config.config import ConfigOverrides, load_config
from pycodex.context.snapshot import Entry
from pycodex.context.snapshot_restore import changed_paths
from pycodex.core.thread_manager import CodexThread, ThreadManager, ThreadOptions
from pycodex.protocol.events import TaskCompleteEvent, UndoCompletedEvent, UndoStartedEvent
from pycodex.protocol.ops import UndoOp
from tests.support.engine import shell, submit_text, until
from tests.support.mock_model import MockModelServer, custom_tool_call, message, response


def test_changed_paths_compares_content_and_mode() -> None:
    before = {"same": Entry("1", 0o100644), "edited": Entry("1", 0o100644), "chmod": Entry("2", 0o100644),
              "gone": Entry("3", 0o100644)}
    after = {"same": Entry("1", 0o100644), "edited": Entry("9", 0o100644), "chmod": Entry("2", 0o100755),
             "new": Entry("4", 0o100644)}
    assert changed_paths(before, after) == ["chmod", "edited", "gone", "new"]


class World:
    def __init__(self, tmp_path: Path, mock: MockModelServer, *, git: bool) -> None:
        self.home = tmp_path / "home"
        self.home.mkdir()
        (self.home / "config.toml").write_text(
            f'model_provider = "mock"\n[model_providers.mock]\nname = "mock"\nbase_url = "{mock.url}"\n'
            'request_max_retries = 0\nstream_max_retries = 0\n'
        )
        self.ws = tmp_path / "ws"
        self.ws.mkdir()
        if git:
            subprocess.run(["git", "init", "-q", str(self.ws)], check=True)
        (self.ws / "f.txt").write_text("v0\n")
        self.env = {"PYCODEX_HOME": str(self.home), "HOME": str(tmp_path), "PATH": os.environ["PATH"],
                    "SHELL": "/bin/bash"}

    async def start(self) -> CodexThread:
        config = load_config(
            ConfigOverrides(cwd=self.ws, sandbox_mode="danger-full-access", approval_policy="never"), env=self.env
        )
        thread = await ThreadManager(ThreadOptions(env=self.env)).start_thread(config)
        await thread.next_event()
        return thread


async def undo(thread: CodexThread) -> UndoCompletedEvent:
    await thread.submit(UndoOp())
    events = await until(thread, UndoCompletedEvent)
    assert any(isinstance(e, UndoStartedEvent) for e in events)
    done = events[-1]
    assert isinstance(done, UndoCompletedEvent)
    return done


async def test_undo_op_walks_back_turn_by_turn(tmp_path: Path, mock_model: MockModelServer) -> None:
    world = World(tmp_path, mock_model, git=True)
    thread = await world.start()
    patch = "*** Begin Patch\n*** Update File: f.txt\n@@\n-v0\n+v1\n*** End Patch"
    mock_model.enqueue(
        response(custom_tool_call("apply_patch", patch, call_id="p1")), response(message("one")),
        response(shell("echo v2 > f.txt; echo x > made.txt", "s1")), response(message("two")),
        response(message("three: just talk")),
    )
    for text in ("first", "second", "third"):
        await submit_text(thread, text)
        await until(thread, TaskCompleteEvent)
    assert (world.ws / "f.txt").read_text() == "v2\n"

    second = await undo(thread)  # the third turn changed nothing: the second is undone
    assert second.success, second.message
    assert (world.ws / "f.txt").read_text() == "v1\n" and not (world.ws / "made.txt").exists()
    first = await undo(thread)
    assert first.success and (world.ws / "f.txt").read_text() == "v0\n"
    none_left = await undo(thread)
    await thread.shutdown()
    assert not none_left.success and "nothing to undo" in (none_left.message or "")


async def test_a_turn_that_runs_no_tool_takes_no_snapshot(tmp_path: Path, mock_model: MockModelServer) -> None:
    world = World(tmp_path, mock_model, git=False)
    sys.modules.pop("pycodex.core.undo", None)
    thread = await world.start()
    mock_model.enqueue(response(message("hello")))
    await submit_text(thread, "hi")
    await until(thread, TaskCompleteEvent)
    await thread.shutdown()
    assert "pycodex.core.undo" not in sys.modules
    assert not (world.home / "snapshots").exists()


async def test_a_turn_interrupted_in_its_second_round_snapshots_its_end_state(
    tmp_path: Path, mock_model: MockModelServer
) -> None:
    """The "after" snapshot of a round starts early (while the next request runs); when the
    model calls more tools it is outdated, and an interrupted turn must not fall back on it:
    undo must see the second round's change as the turn's, not as the user's."""
    from pycodex.protocol.event_payloads import ExecCommandOutputDeltaEvent
    from pycodex.protocol.events import TurnAbortedEvent
    from pycodex.protocol.ops import InterruptOp

    world = World(tmp_path, mock_model, git=True)
    thread = await world.start()
    patch = "*** Begin Patch\n*** Update File: f.txt\n@@\n-v0\n+v1\n*** End Patch"

    def second_round_once_the_early_snapshot_exists(request: Any) -> Any:
        # The early snapshot of round one must be complete (its ref written) before round
        # two changes the file, or it would see round two's change by chance.
        deadline = time.monotonic() + 20
        while not _refs(world.ws, "after-1") and time.monotonic() < deadline:
            threading.Event().wait(0.01)
        assert _refs(world.ws, "after-1"), "round one's early snapshot never completed"
        return response(shell("echo v2 > f.txt; echo changed; exec sleep 60", "s1"))

    mock_model.enqueue(
        response(custom_tool_call("apply_patch", patch, call_id="p1")),
        second_round_once_the_early_snapshot_exists,
    )
    await submit_text(thread, "change it twice")
    while True:  # the second round's command has changed the file
        msg = (await until(thread, ExecCommandOutputDeltaEvent))[-1]
        assert isinstance(msg, ExecCommandOutputDeltaEvent)
        if b"changed" in base64.b64decode(msg.chunk):
            break
    await thread.submit(InterruptOp())
    await until(thread, TurnAbortedEvent)
    assert (world.ws / "f.txt").read_text() == "v2\n"

    done = await undo(thread)
    await thread.shutdown()
    assert done.success, done.message
    assert (world.ws / "f.txt").read_text() == "v0\n"


def _refs(ws: Path, suffix: str) -> list[str]:
    listed = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/pycodex"], cwd=ws,
                            capture_output=True, text=True, check=False).stdout
    return [ref for ref in listed.split() if ref.endswith(suffix)]
