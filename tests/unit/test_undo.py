"""Undo through the engine: `Op::Undo` after a turn that changed files (a patch and a
shell command), a turn that only talks takes no snapshot, and repeated undos walk back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
