"""Each thread's `ProcessManager` owns the process groups of the commands it started, by
turn: an interrupted turn or a closed thread kills its own commands, one-shot ones
included, and nothing of another thread's. The exit safety net still reaches them all."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from pycodex.process import groups
from pycodex.process.groups import ProcessGroups, kill_all_process_groups
from pycodex.process.sessions import ProcessManager, start_session
from pycodex.process.spawn import ExecRequest, ExecResult, run_command

ENV = {"PATH": os.environ["PATH"]}


def _alive(pid: int) -> bool:
    """Running: not gone, not a zombie (killed, not yet reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
KILLED = 128 + signal.SIGKILL


async def _poll(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def _one_shot(manager: ProcessManager, turn_id: str, tmp_path: Path,
                    name: str) -> tuple[asyncio.Task[ExecResult], int]:
    """A long one-shot command started by `manager`'s thread in `turn_id`, and its pid."""
    pidfile = tmp_path / f"{name}.pid"
    task = asyncio.create_task(run_command(
        ExecRequest(["sh", "-c", f"echo $$ > {pidfile}; exec sleep 30"], tmp_path, ENV),
        groups=manager.groups, turn_id=turn_id))
    await _poll(lambda: pidfile.exists() and pidfile.read_text().strip() != "", name)
    return task, int(pidfile.read_text())


async def test_an_interrupted_turn_kills_only_its_own_one_shot_commands(tmp_path: Path) -> None:
    mine, other_thread = ProcessManager(), ProcessManager()
    victim, victim_pid = await _one_shot(mine, "turn-1", tmp_path, "victim")
    later, later_pid = await _one_shot(mine, "turn-2", tmp_path, "later-turn")
    other, other_pid = await _one_shot(other_thread, "turn-1", tmp_path, "other-thread")
    try:
        assert victim_pid in mine.groups and other_pid in other_thread.groups
        assert other_pid not in mine.groups  # same turn id, another thread: not ours
        await mine.terminate_started_in("turn-1")
        assert (await asyncio.wait_for(victim, 10)).exit_code == KILLED
        assert victim_pid not in mine.groups  # forgotten once reaped
        # Killed at the same moment as the victim, they would be dead by now.
        assert _alive(later_pid) and _alive(other_pid)
        assert not later.done() and not other.done()
    finally:
        await mine.terminate_all()
        await other_thread.terminate_all()
    assert (await asyncio.wait_for(later, 10)).exit_code == KILLED
    assert (await asyncio.wait_for(other, 10)).exit_code == KILLED
    assert later_pid not in mine.groups and len(other_thread.groups) == 0


async def test_closing_a_thread_kills_its_sessions_and_one_shot_commands(tmp_path: Path) -> None:
    mine, other_thread = ProcessManager(), ProcessManager()
    one_shot, _ = await _one_shot(mine, "turn-1", tmp_path, "one-shot")
    session = await start_session(
        session_id=mine.allocate_id(), argv=["sleep", "30"], display=["sleep", "30"],
        cwd=tmp_path, env=ENV, tty=False, call_id="c1", turn_id="turn-1", groups=mine.groups)
    mine.add(session)
    survivor, survivor_pid = await _one_shot(other_thread, "turn-1", tmp_path, "survivor")
    try:
        assert session.pid in mine.groups
        await mine.terminate_all()
        assert (await asyncio.wait_for(one_shot, 10)).exit_code == KILLED
        assert not session.running and session.exit_code == KILLED
        assert len(mine.groups) == 0
        assert _alive(survivor_pid) and not survivor.done()
    finally:
        await other_thread.terminate_all()
    assert (await asyncio.wait_for(survivor, 10)).exit_code == KILLED


async def test_the_exit_safety_net_reaches_every_live_thread_and_forgets_dead_ones(
    tmp_path: Path,
) -> None:
    first, second = ProcessManager(), ProcessManager()
    a, _ = await _one_shot(first, "t", tmp_path, "a")
    b, _ = await _one_shot(second, "t", tmp_path, "b")
    kill_all_process_groups()  # a second Ctrl-C, before os._exit
    assert (await asyncio.wait_for(a, 10)).exit_code == KILLED
    assert (await asyncio.wait_for(b, 10)).exit_code == KILLED
    # A thread that is gone takes its table with it: the registry holds no strong reference.
    gone = ProcessGroups()
    assert gone in groups._REGISTRY
    ref = weakref.ref(gone)
    del gone
    gc.collect()
    assert ref() is None
