"""The command runner: exit codes, capture, timeouts, process-group cleanup, cancellation.

Every test runs twice: commands forked by the process zygote (the default on Linux) and
spawned directly by asyncio (the fallback where the zygote cannot run).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from pycodex.process import zygote
from pycodex.process.spawn import ExecRequest, SpawnError, run_command


@pytest.fixture(autouse=True, params=["zygote", "direct"])
def spawn_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "direct":
        monkeypatch.setenv(zygote.ENV_SWITCH, "off")
    else:
        monkeypatch.delenv(zygote.ENV_SWITCH, raising=False)
        if not zygote.available():
            pytest.skip("the process zygote cannot start here")
    return str(request.param)


def _req(script: str, tmp_path: Path, **kw: object) -> ExecRequest:
    return ExecRequest(argv=["bash", "-c", script], cwd=tmp_path, env=dict(os.environ), **kw)  # type: ignore[arg-type]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes only once reaped,
    # but an unreaped grandchild is re-parented to init and reaped there.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def test_captures_stdout_stderr_and_exit_code(tmp_path: Path) -> None:
    result = await run_command(_req("echo out; echo err >&2; exit 3", tmp_path))
    assert result.exit_code == 3
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"
    assert sorted(result.aggregated.splitlines()) == ["err", "out"]
    assert not result.timed_out


async def test_runs_in_requested_cwd_with_requested_env(tmp_path: Path) -> None:
    req = ExecRequest(argv=["bash", "-c", "pwd; echo $ONLY_THIS"], cwd=tmp_path,
                      env={"ONLY_THIS": "yes", "PATH": os.environ["PATH"]})
    result = await run_command(req)
    assert result.stdout.splitlines() == [str(tmp_path), "yes"]


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # Far short of the 60 s sleep: if the timeout did not kill the group, this fails.
    async with asyncio.timeout(30):
        result = await run_command(
            _req(f"sleep 60 & echo $! > {pidfile}; wait", tmp_path, timeout_s=0.5)
        )
    assert result.timed_out
    assert result.exit_code == 128 + signal.SIGKILL
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 2
    while _alive(child) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not _alive(child), "the backgrounded grandchild survived the timeout"


async def test_leader_exit_does_not_wait_for_background_children(tmp_path: Path) -> None:
    pidfile = tmp_path / "bg.pid"
    # Waiting for the background `sleep 60` would hit this bound and fail the test.
    async with asyncio.timeout(30):
        result = await run_command(_req(f"sleep 60 & echo $! > {pidfile}; echo started", tmp_path))
    assert result.exit_code == 0
    assert result.stdout == "started\n"
    # Nothing the command started outlives it.
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 2
    while _alive(child) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not _alive(child)


async def test_cancellation_kills_the_group_and_propagates(tmp_path: Path) -> None:
    pidfile = tmp_path / "leader.pid"
    task = asyncio.create_task(run_command(_req(f"echo $$ > {pidfile}; sleep 60", tmp_path)))
    while not pidfile.exists() or not pidfile.read_text().strip():
        await asyncio.sleep(0.02)
    leader = int(pidfile.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not _alive(leader)


async def test_output_is_bounded_but_counted(tmp_path: Path) -> None:
    result = await run_command(
        _req("head -c 3000000 /dev/zero | tr '\\0' a; echo; echo THE-END", tmp_path, capture_bytes=4096)
    )
    assert result.output_bytes == 3_000_000 + 1 + len("THE-END\n")
    assert len(result.stdout) < 8192
    assert result.stdout.startswith("aaaa")
    assert result.stdout.rstrip().endswith("THE-END")
    assert "bytes omitted" in result.stdout


async def test_streams_output_chunks_to_the_callback(tmp_path: Path) -> None:
    chunks: list[tuple[str, bytes]] = []
    await run_command(_req("echo one; echo two >&2", tmp_path), lambda s, c: chunks.append((s, c)))
    assert b"".join(c for s, c in chunks if s == "stdout") == b"one\n"
    assert b"".join(c for s, c in chunks if s == "stderr") == b"two\n"


async def test_missing_program_is_a_spawn_error(tmp_path: Path) -> None:
    with pytest.raises(SpawnError, match="command not found: no-such-program-xyz"):
        await run_command(ExecRequest(argv=["no-such-program-xyz"], cwd=tmp_path, env=dict(os.environ)))


async def test_missing_cwd_is_a_spawn_error(tmp_path: Path) -> None:
    with pytest.raises(SpawnError, match="working directory does not exist"):
        await run_command(ExecRequest(argv=["true"], cwd=tmp_path / "nope", env=dict(os.environ)))


async def test_kill_all_process_groups_reaches_running_commands(tmp_path: Path) -> None:
    from pycodex.process import groups, spawn

    pidfile = tmp_path / "leader.pid"
    task = asyncio.create_task(run_command(_req(f"echo $$ > {pidfile}; sleep 60", tmp_path)))
    while not pidfile.exists() or not pidfile.read_text().strip():
        await asyncio.sleep(0.02)
    leader = int(pidfile.read_text())
    assert leader in groups.UNOWNED  # started by no thread: only the safety net's
    spawn.kill_all_process_groups()  # what a second Ctrl-C does before os._exit
    result = await asyncio.wait_for(task, 5)
    assert result.exit_code == 128 + signal.SIGKILL
    assert leader not in groups.UNOWNED
