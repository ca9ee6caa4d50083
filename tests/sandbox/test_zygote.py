"""Sandboxed commands forked by the process zygote (pycodex's own spawn path).

* The zygote runs the shim's code in the child, without starting an interpreter, and holds
  the placeholders (`.codex` that does not exist yet) itself: no janitor process, and they
  are gone by the time the command's exit is reported.
* When pycodex is killed with SIGKILL, every process of a sandboxed command tree dies and
  is reaped, whatever its shape, and the placeholders are removed.
Processes are found by a unique `sleep` duration in their command line: inside bwrap's pid
namespace a command cannot tell its host pid.
"""

from __future__ import annotations

import fcntl
import os
import random
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pycodex.process import zygote
from pycodex.sandbox import launcher
from tests.sandbox.helpers import backend_skip_reason, policy_for, run_in_zygote
from tests.support.orphans import (
    Adopter,
    adopt_orphans,
    alive,
    children_of,
    cmdline,
    exists,
    wait_until,
)

PYTHON = os.path.realpath(sys.executable)


@pytest.fixture
def adopter() -> Iterator[Adopter]:
    with adopt_orphans() as adopter:
        yield adopter


@pytest.fixture
def marker() -> str:
    """`sleep 600.NNNNNN`: a command line no other process on the machine has."""
    return f"sleep 600.{random.randrange(10**6):06d}"


def _skip_unless(backend: str) -> None:
    reason = backend_skip_reason(backend)
    if reason:
        print(reason)
        pytest.skip(reason)
    if not zygote.available():
        pytest.skip("the process zygote cannot start here")


def _pids(command: str) -> list[int]:
    """Processes running exactly `command` (not those that merely mention it, like the
    shim or bwrap on their way to exec it)."""
    return [int(p) for p in os.listdir("/proc")
            if p.isdigit() and cmdline(int(p)).strip() == command]


def _descendants(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        kids = children_of(todo.pop())
        found += kids
        todo += kids
    return found


@pytest.mark.parametrize("backend", ["bwrap", "userns"])
async def test_zygote_holds_placeholders_without_a_janitor(
    tmp_path: Path, backend: str, marker: str
) -> None:
    _skip_unless(backend)
    ws = tmp_path / "ws"
    ws.mkdir()
    cmd = launcher.prepare_command(["sh", "-c", f"exec {marker}"],
                                   policy=policy_for("workspace-write"), cwd=ws,
                                   env=dict(os.environ), backend=backend)
    out_r, out_w = os.pipe()
    child = await zygote.spawn(cmd.argv, cwd=ws, env=cmd.env, stdin=None, stdout=out_w,
                               stderr=out_w)
    os.close(out_w)
    try:
        wait_until(lambda: _pids(marker), 10, "the sandboxed command to start")
        assert (ws / ".codex").is_dir()
        zygote_pid = zygote.zygote_pid()
        assert zygote_pid is not None
        # Neither a shim interpreter nor a placeholder janitor: only the command (and bwrap),
        # and the zygote's spare child, forked ahead of time for the next command.
        spare = cmdline(zygote_pid)
        wait_until(lambda: any(cmdline(p) == spare for p in children_of(zygote_pid)), 5,
                   "the zygote's spare child")
        pythons = [p for p in _descendants(zygote_pid) if os.path.realpath(
            f"/proc/{p}/exe") == PYTHON]
        assert len(pythons) == 1, [cmdline(p) for p in pythons]
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        await child.wait()
        os.close(out_r)
    assert not (ws / ".codex").exists()  # removed before the exit was reported


@pytest.mark.parametrize("backend", ["bwrap", "userns"])
def test_a_placeholder_locked_by_someone_else_fails_that_command_only(
    tmp_path: Path, backend: str
) -> None:
    """A confined command can open and flock `.codex` between commands; the zygote, which
    serves every command from one thread, gives up on that placeholder instead of hanging."""
    _skip_unless(backend)
    ws = tmp_path / "ws"
    ws.mkdir()
    marker = ws / "ran"
    cmd = launcher.prepare_command(["touch", str(marker)], policy=policy_for("workspace-write"),
                                   cwd=ws, env=dict(os.environ), backend=backend)
    (ws / ".codex").mkdir()  # after the policy was computed: still a placeholder
    fd = os.open(ws / ".codex", os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        done = run_in_zygote(cmd.argv, cmd.env, ws)
    finally:
        os.close(fd)
    assert done.returncode == launcher.SANDBOX_SETUP_FAILED_EXIT
    assert done.stderr == f"pycodex-sandbox: protected path {ws / '.codex'} is locked by " \
                          "another process\n"
    assert not marker.exists()
    again = run_in_zygote(cmd.argv, cmd.env, ws)  # the zygote still serves commands
    assert again.returncode == 0, again.stderr
    assert marker.exists()


FAKE_PYCODEX = textwrap.dedent("""
    import asyncio, json, os, sys
    from pathlib import Path
    from pycodex.process import zygote
    from pycodex.process.spawn import ExecRequest, run_command
    from pycodex.protocol.policies import ReadOnlyPolicy, WorkspaceWritePolicy
    from pycodex.sandbox import launcher

    async def main() -> None:
        backend, ws, script = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
        policy = WorkspaceWritePolicy(exclude_slash_tmp=True, exclude_tmpdir_env_var=True)
        cmd = launcher.prepare_command(["sh", "-c", script], policy=policy, cwd=ws,
                                       env=dict(os.environ), backend=backend)
        print(zygote.zygote_pid(), flush=True)
        await run_command(ExecRequest(cmd.argv, ws, cmd.env))

    asyncio.run(main())
""")


@pytest.mark.parametrize("backend", launcher.BACKENDS)
def test_killing_pycodex_kills_the_sandboxed_tree_and_removes_placeholders(
    tmp_path: Path, backend: str, marker: str, adopter: Adopter
) -> None:
    _skip_unless(backend)
    ws = tmp_path / "ws"
    ws.mkdir()
    # A background child, one in a session of its own, an orphan, and the leader.
    tree = f"{marker} & setsid {marker} & ({marker} &); exec {marker}"
    proc = subprocess.Popen([sys.executable, "-c", FAKE_PYCODEX, backend, str(ws), tree],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    pids: list[int] = []
    try:
        assert proc.stdout is not None
        zygote_pid = int(proc.stdout.readline())
        wait_until(lambda: len(_pids(marker)) == 4, 20, "the four sandboxed processes")
        pids = _pids(marker)
        assert all(alive(pid) for pid in pids)
        if backend != "landlock":  # landlock runs workspace-write read-only: nothing to hold
            assert (ws / ".codex").is_dir()
        proc.kill()
        proc.wait()
        wait_until(lambda: not any(exists(pid) for pid in pids), 10,
                   "every sandboxed process to be killed and reaped")
        assert adopter.reap(zygote_pid, 10) == 0
        assert not (ws / ".codex").exists()
    finally:
        proc.kill()
        proc.wait()
        adopter.kill_and_reap(pids + _pids(marker))
