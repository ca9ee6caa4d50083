"""Two threads in one process, each running a long command: stopping one never touches the
other's (issue 12, "many threads in one process").

Real engine (one `ThreadManager`, two threads), mock model over HTTP answering each thread
by the text of its request, real processes. Commands write their pid to a file; "gone"
and "alive" are read from /proc, waited for by polling with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from pycodex.config.config import ConfigOverrides, load_config
from pycodex.core.thread_manager import CodexThread, ThreadManager, ThreadOptions
from pycodex.protocol.event_payloads import ExecCommandBeginEvent, ExecCommandEndEvent
from pycodex.protocol.events import (
    EventMsg,
    SessionConfiguredEvent,
    TaskCompleteEvent,
    TurnAbortedEvent,
)
from pycodex.protocol.ops import InterruptOp
from tests.support.engine import submit_text, until
from tests.support.mock_model import (
    MockModelServer,
    RecordedRequest,
    Reply,
    function_call,
    message,
    response,
)

DEADLINE_S = 10.0


def pid_alive(pid: int) -> bool:
    """Running (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def read_pid(path: Path, started: list[int]) -> int:
    await wait_for(lambda: path.exists() and path.read_text().strip() != "", f"{path.name}")
    pid = int(path.read_text())
    started.append(pid)
    return pid


def tool_call(tool: str, script: str, call_id: str, *, yield_ms: int = 30_000) -> dict[str, Any]:
    if tool == "shell":
        return function_call("shell", {"command": ["bash", "-c", script], "timeout_ms": 60_000},
                             call_id=call_id)
    return function_call("exec_command", {"cmd": script, "yield_time_ms": yield_ms, "login": False},
                         call_id=call_id)


def router(scripts: dict[str, dict[str, Any]]) -> Callable[[RecordedRequest], Reply]:
    """Answers each thread by the marker in its user message: its tool call first, then,
    once the request carries the call's output, a closing message."""
    def reply(request: RecordedRequest) -> Reply:
        text = json.dumps(request.body["input"])
        marker = next(m for m in scripts if m in text)
        if any(item["type"] == "function_call_output" for item in request.body["input"]):
            return response(message(f"{marker} done"))
        return response(scripts[marker])

    return reply


class Threads:
    def __init__(self, mock: MockModelServer, tmp_path: Path) -> None:
        home = tmp_path / "home"
        home.mkdir()
        (home / "config.toml").write_text(
            'model = "gpt-5.5"\nmodel_provider = "mock"\n'
            f'[model_providers.mock]\nname = "mock"\nbase_url = "{mock.url}"\n'
            'env_key = "MOCK_KEY"\nrequest_max_retries = 0\nstream_max_retries = 0\n'
        )
        self.ws = tmp_path / "ws"
        self.ws.mkdir()
        subprocess.run(["git", "init", "-q", str(self.ws)], check=True)
        self.env = {"PYCODEX_HOME": str(home), "HOME": str(tmp_path), "MOCK_KEY": "x",
                    "PATH": os.environ["PATH"], "SHELL": "/bin/bash", "LANG": "C.UTF-8"}
        self.manager = ThreadManager(ThreadOptions(env=self.env))
        self.started: list[CodexThread] = []
        self.pids: list[int] = []  # the commands' pids, killed at teardown if still there

    async def start(self) -> CodexThread:
        config = load_config(ConfigOverrides(cwd=self.ws, sandbox_mode="danger-full-access",
                                             approval_policy="never"), env=self.env)
        thread = await self.manager.start_thread(config)
        first = await thread.next_event()
        assert isinstance(first.msg, SessionConfiguredEvent)
        self.started.append(thread)
        return thread


@pytest.fixture
async def threads(mock_model: MockModelServer, tmp_path: Path) -> AsyncIterator[Threads]:
    world = Threads(mock_model, tmp_path)
    yield world
    # A failing test (the engine left a command running) must fail, not hang in shutdown.
    for pid in world.pids:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    for thread in world.started:
        await thread.shutdown()


@pytest.mark.parametrize("tool", ["shell", "exec_command"])
async def test_interrupting_one_thread_kills_its_command_and_not_the_other_threads(
    threads: Threads, mock_model: MockModelServer, tmp_path: Path, tool: str
) -> None:
    pid_a, pid_b, go = tmp_path / "a.pid", tmp_path / "b.pid", tmp_path / "go"
    # B waits for the test's say-so, then finishes normally.
    script_b = f"echo $$ > {pid_b}; until [ -e {go} ]; do sleep 0.02; done; echo b-finished"
    mock_model.enqueue(*[router({
        "THREAD-ALPHA": tool_call(tool, f"echo $$ > {pid_a}; exec sleep 30", "call_a"),
        "THREAD-BRAVO": tool_call(tool, script_b, "call_b"),
    })] * 4)
    a, b = await threads.start(), await threads.start()
    await submit_text(a, "THREAD-ALPHA")
    await submit_text(b, "THREAD-BRAVO")
    await until(a, ExecCommandBeginEvent)
    await until(b, ExecCommandBeginEvent)
    alpha, bravo = await read_pid(pid_a, threads.pids), await read_pid(pid_b, threads.pids)
    assert pid_alive(alpha) and pid_alive(bravo)

    await a.submit(InterruptOp())
    await until(a, TurnAbortedEvent)
    await wait_for(lambda: not pid_alive(alpha), "thread A's command to die with its turn")
    assert pid_alive(bravo), "interrupting thread A killed thread B's command"

    go.touch()
    events: list[EventMsg] = await until(b, TaskCompleteEvent, timeout=DEADLINE_S)
    [end] = [e for e in events if isinstance(e, ExecCommandEndEvent)]
    assert end.exit_code == 0 and "b-finished" in end.aggregated_output
    outputs = [i["output"] for r in mock_model.requests for i in r.body["input"]
               if i["type"] == "function_call_output" and i["call_id"] == "call_b"]
    assert outputs and "b-finished" in outputs[-1]


async def test_closing_one_thread_kills_its_sessions_and_not_the_other_threads(
    threads: Threads, mock_model: MockModelServer, tmp_path: Path
) -> None:
    pid_a, pid_b = tmp_path / "a.pid", tmp_path / "b.pid"
    # Sessions that outlive their turns (short yield): only their thread's end stops them.
    mock_model.enqueue(*[router({
        "THREAD-ALPHA": tool_call("exec_command", f"echo $$ > {pid_a}; exec sleep 60", "call_a",
                                  yield_ms=250),
        "THREAD-BRAVO": tool_call("exec_command", f"echo $$ > {pid_b}; exec sleep 60", "call_b",
                                  yield_ms=250),
    })] * 4)
    a, b = await threads.start(), await threads.start()
    for thread, marker in ((a, "THREAD-ALPHA"), (b, "THREAD-BRAVO")):
        await submit_text(thread, marker)
        await until(thread, TaskCompleteEvent, timeout=DEADLINE_S)
    alpha, bravo = await read_pid(pid_a, threads.pids), await read_pid(pid_b, threads.pids)
    assert pid_alive(alpha) and pid_alive(bravo)

    await a.shutdown()
    await wait_for(lambda: not pid_alive(alpha), "thread A's session to die with the thread")
    assert pid_alive(bravo), "closing thread A killed thread B's session"
    await b.shutdown()
    await wait_for(lambda: not pid_alive(bravo), "thread B's session to die with the thread")
