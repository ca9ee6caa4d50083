"""Helpers for driving the engine through its queue pair in tests."""

from __future__ import annotations

import asyncio
from typing import Any

from pycodex.core.thread_manager import CodexThread
from pycodex.protocol.events import EventMsg
from pycodex.protocol.ops import UserInputOp
from pycodex.protocol.user_input import TextInput
from tests.support.mock_model import function_call


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
