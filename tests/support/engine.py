"""Helpers for driving the engine through its queue pair in tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

from pycodex.core.thread_manager import CodexThread
from pycodex.protocol.events import EventMsg
from pycodex.protocol.ops import UserInputOp
from pycodex.protocol.user_input import TextInput
from tests.support.mock_model import MockModelServer, function_call


async def submit_text(thread: CodexThread, text: str) -> str:
    return await thread.submit(UserInputOp(items=[TextInput(text=text)]))


async def until(thread: CodexThread, kind: type[Any], timeout: float = 10) -> list[EventMsg]:
    """Every event up to and including the first of type `kind`."""
    seen: list[EventMsg] = []
    async with asyncio.timeout(timeout):
        while True:
            event = await thread.next_event()
            seen.append(event.msg)
            if isinstance(event.msg, kind):
                return seen


def shell(cmd: str, call_id: str) -> Any:
    """A `shell` function call running `cmd` with bash."""
    return function_call("shell", {"command": ["bash", "-c", cmd]}, call_id=call_id)


async def read_until(thread: CodexThread, kind: type[Any], timeout: float = 30) -> list[EventMsg]:
    """`until` on the thread's default reader (`next_event()`), with a roomier bound."""
    return await until(thread, kind, timeout)


async def start_thread(
    mock: MockModelServer,
    tmp_path: Path,
    provider: str = "",
    *,
    sandbox_mode: str = "danger-full-access",
    approval_policy: str = "never",
) -> CodexThread:
    """A fresh thread on the mock model (a git workspace under `tmp_path`, no approvals);
    `provider` adds lines to the mock provider's table. Its SessionConfigured is read."""
    from pycodex.config.config import ConfigOverrides, load_config
    from pycodex.core.thread_manager import ThreadManager, ThreadOptions
    from pycodex.protocol.events import SessionConfiguredEvent

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'model_provider = "mock"\n[model_providers.mock]\nname = "mock"\nbase_url = "{mock.url}"\n'
        f'env_key = "MOCK_KEY"\nrequest_max_retries = 0\n{provider}\n'
    )
    ws = tmp_path / "ws"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    env = {"PYCODEX_HOME": str(home), "HOME": str(tmp_path), "MOCK_KEY": "x",
           "PATH": os.environ["PATH"], "SHELL": "/bin/bash"}
    config = load_config(
        ConfigOverrides(cwd=ws, sandbox_mode=sandbox_mode, approval_policy=approval_policy), env=env
    )
    thread = await ThreadManager(ThreadOptions(env=env)).start_thread(config)
    assert isinstance((await thread.next_event()).msg, SessionConfiguredEvent)
    return thread
