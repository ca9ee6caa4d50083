"""Threads and turns for `codex` / `codex-reply`, on the engine (no MCP SDK here).

Each `codex` call starts an ordinary recorded thread (resumable with `pycodex resume`,
listed by `pycodex threads`) and runs its first turn; `codex-reply` runs the next turn of a
thread started here, or of any recorded thread (it is resumed from its rollout). Calls on
different threads run concurrently; two calls on one thread take turns. What the turn does
is reported as it happens (:meth:`Reporter.progress`); an approval the engine asks for goes
to :meth:`Reporter.approve`, and a reporter that cannot ask gets the non-interactive
answer: denied, with a note saying so.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pycodex.config import Config
from pycodex.core import CodexThread, InternalAgentDied, ThreadManager, ThreadOptions, join_command
from pycodex.frontends.mcp_server.tools import CodexArgs, ReplyArgs, ToolArgumentError
from pycodex.protocol.event_payloads import (
    ApplyPatchApprovalRequestEvent,
    ExecApprovalRequestEvent,
    ExecCommandBeginEvent,
    ExecCommandEndEvent,
    McpToolCallBeginEvent,
    PatchApplyBeginEvent,
)
from pycodex.protocol.events import (
    AgentMessageEvent,
    ErrorEvent,
    EventMsg,
    TaskCompleteEvent,
    TurnAbortedEvent,
)
from pycodex.protocol.ops import ExecApprovalOp, Op, PatchApprovalOp, UserInputOp
from pycodex.protocol.policies import ReviewDecision
from pycodex.protocol.user_input import TextInput

NO_ELICITATION = "the MCP client cannot be asked (no elicitation capability): denied"


class Reporter(Protocol):
    async def progress(self, message: str) -> None: ...

    async def approve(self, question: str) -> bool | None:
        """True / False as the user answered; None when no one can be asked."""
        ...


@dataclass(frozen=True)
class TurnResult:
    thread_id: str
    content: str
    error: str | None = None


class Threads:
    """The threads this server runs, and the one turn at a time each of them allows."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = dict(env)
        options = ThreadOptions(originator="pycodex_mcp_server", source="mcp", env=self._env,
                                replay_events=False)
        self._manager = ThreadManager(options)
        self._locks: dict[str, asyncio.Lock] = {}

    async def start(self, args: CodexArgs, reporter: Reporter) -> TurnResult:
        config = await self._config(args)
        thread = await self._manager.start_thread(config)
        await thread.next_event()  # SessionConfigured
        await reporter.progress(f"thread {thread.thread_id} started")
        return await self._turn(thread, args.prompt, reporter)

    async def reply(self, args: ReplyArgs, reporter: Reporter) -> TurnResult:
        thread = self._manager.get_thread(args.thread_id)
        if thread is None:
            thread = await self._resume(args.thread_id)
        return await self._turn(thread, args.prompt, reporter)

    async def close(self) -> None:
        await self._manager.close_all()

    async def _config(self, args: CodexArgs | None) -> Config:
        from pycodex.config.errors import ConfigError
        from pycodex.config.request import load_request_config

        request: dict[str, object] = {"cwd": os.getcwd()}
        if args is not None:
            extra = dict(args.config)
            if args.compact_prompt is not None:
                extra["compact_prompt"] = args.compact_prompt
            request = {
                "cwd": args.cwd or os.getcwd(), "model": args.model, "profile": args.profile,
                "approval": args.approval_policy, "sandbox": args.sandbox, "config": extra,
                "base_instructions": args.base_instructions,
                "developer_instructions": args.developer_instructions,
            }
        try:
            return await load_request_config(self._env, **request)
        except (ConfigError, ValueError, OSError) as exc:
            raise ToolArgumentError(str(exc)) from None

    async def _resume(self, thread_id: str) -> CodexThread:
        path = self._manager.store.locate(thread_id)
        if path is None:
            raise ToolArgumentError(f"no thread with id {thread_id!r} (start one with the codex tool)")
        thread = self._manager.get_thread(thread_id)  # resumed meanwhile by a concurrent call
        if thread is not None:
            return thread
        thread = await self._manager.resume_thread(await self._config(None), path)
        await thread.next_event()  # SessionConfigured
        return thread

    async def _turn(self, thread: CodexThread, prompt: str, reporter: Reporter) -> TurnResult:
        lock = self._locks.setdefault(thread.thread_id, asyncio.Lock())
        async with lock:
            await thread.submit(UserInputOp(items=[TextInput(text=prompt)]))
            try:
                return await _pump(thread, reporter)
            except InternalAgentDied as exc:
                return TurnResult(thread.thread_id, "", f"the thread stopped: {exc}")


async def _pump(thread: CodexThread, reporter: Reporter) -> TurnResult:
    """Events until the turn ends; approvals answered on the way."""
    error: str | None = None
    last_message = ""
    while True:
        msg = (await thread.next_event()).msg
        answer = await _approval(msg, reporter)
        if answer is not None:
            await thread.submit(answer)
            continue
        if isinstance(msg, AgentMessageEvent):
            last_message = msg.message
        if isinstance(msg, ErrorEvent):
            error = msg.message
        if isinstance(msg, TaskCompleteEvent):
            content = msg.last_agent_message if msg.last_agent_message is not None else last_message
            return TurnResult(thread.thread_id, content, error if not content else None)
        if isinstance(msg, TurnAbortedEvent):
            return TurnResult(thread.thread_id, last_message, "the turn was interrupted")
        note = _describe(msg)
        if note is not None:
            await reporter.progress(note)


async def _approval(msg: EventMsg, reporter: Reporter) -> Op | None:
    if isinstance(msg, ExecApprovalRequestEvent):
        question = f"Allow pycodex to run `{join_command(msg.command)}` in {msg.cwd}?"
        if msg.reason:
            question += f" ({msg.reason})"
        approved = await _ask(reporter, question)
        decision = ReviewDecision.APPROVED if approved else ReviewDecision.DENIED
        return ExecApprovalOp(id=msg.effective_approval_id(), decision=decision)
    if isinstance(msg, ApplyPatchApprovalRequestEvent):
        files = ", ".join(sorted(msg.changes)) or "no files"
        approved = await _ask(reporter, f"Allow pycodex to change {files}?")
        decision = ReviewDecision.APPROVED if approved else ReviewDecision.DENIED
        return PatchApprovalOp(id=msg.call_id, decision=decision)
    return None


async def _ask(reporter: Reporter, question: str) -> bool:
    answer = await reporter.approve(question)
    if answer is None:
        await reporter.progress(f"{question} {NO_ELICITATION}")
        return False
    await reporter.progress(f"{question} {'approved' if answer else 'denied'}")
    return answer


def _describe(msg: EventMsg) -> str | None:
    """One line of progress for the events worth telling (not the deltas)."""
    if isinstance(msg, ExecCommandBeginEvent):
        return f"running `{join_command(msg.command)}`"
    if isinstance(msg, ExecCommandEndEvent):
        return f"`{join_command(msg.command)}` exited with {msg.exit_code}"
    if isinstance(msg, PatchApplyBeginEvent):
        return f"editing {', '.join(sorted(msg.changes))}"
    if isinstance(msg, McpToolCallBeginEvent):
        return f"calling {msg.invocation.server}/{msg.invocation.tool}"
    if isinstance(msg, AgentMessageEvent):
        return f"agent: {msg.message}"
    if isinstance(msg, ErrorEvent):
        return f"error: {msg.message}"
    return None
