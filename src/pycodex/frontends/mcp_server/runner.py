"""Threads and turns for `codex` / `codex-reply`, on the engine (no MCP SDK here).

Each `codex` call starts an ordinary recorded thread (resumable with `pycodex resume`,
listed by `pycodex threads`) and runs its first turn; `codex-reply` runs the next turn of a
thread started here, or of any recorded thread (it is resumed from its rollout). Calls on
different threads run concurrently; two calls on one thread take turns. What the turn does
is reported as it happens (:meth:`Reporter.progress`); an approval the engine asks for goes
to :meth:`Reporter.approve`, and a reporter that cannot ask gets the non-interactive
answer: denied, with a note saying so. The questions of the thread's own MCP servers (an
`elicitation/create`, an MCP tool's approval) go to the reporter of the call running on
that thread (:meth:`Reporter.elicit`), and are declined when there is none or it cannot ask.

A call the client abandons (cancelled, or the connection closed) interrupts its turn: the
turn is drained to its end in the background, and the next call on that thread waits for
that, so it never reads the abandoned turn's events as its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from pycodex.config import Config
from pycodex.core import (
    CodexThread,
    InternalAgentDied,
    ThreadManager,
    ThreadNotFoundError,
    ThreadOptions,
    join_command,
)
from pycodex.frontends.mcp_server.tools import CodexArgs, ReplyArgs, ToolArgumentError
from pycodex.mcp.elicitation import ElicitationRequest, ElicitationResponse
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
    WarningEvent,
)
from pycodex.protocol.ops import InterruptOp, Op, UserInputOp
from pycodex.protocol.policies import ReviewDecision
from pycodex.protocol.user_input import TextInput

log = logging.getLogger(__name__)

NO_ELICITATION = "the MCP client cannot be asked (no elicitation capability): denied"
# How long an abandoned turn may take to stop before its thread takes calls again anyway.
ABANDONED_TURN_STOP_S = 30.0

Level = Literal["info", "warning", "error"]


class Reporter(Protocol):
    async def progress(self, thread_id: str, message: str, level: Level = "info") -> None: ...

    async def approve(self, question: str) -> bool | None:
        """True / False as the user answered; None when no one can be asked."""
        ...

    async def elicit(self, request: ElicitationRequest) -> ElicitationResponse | None:
        """The user's answer to an MCP server's question; None when no one can be asked."""
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
        self._resuming = asyncio.Lock()  # one resume at a time: a thread is never opened twice
        self._abandoned: set[asyncio.Task[None]] = set()
        self._reporters: dict[str, Reporter] = {}  # thread id -> the call running a turn there

    async def start(self, args: CodexArgs, reporter: Reporter) -> TurnResult:
        config = await self._config(args)
        thread = await self._manager.start_thread(config)
        await thread.next_event()  # SessionConfigured
        self._route_questions(thread)
        await reporter.progress(thread.thread_id, f"thread {thread.thread_id} started")
        for warning in config.warnings:
            await reporter.progress(thread.thread_id, f"warning: {warning}", "warning")
        return await self._turn(thread, args.prompt, reporter)

    async def reply(self, args: ReplyArgs, reporter: Reporter) -> TurnResult:
        async with self._resuming:
            thread = self._manager.get_thread(args.thread_id) or await self._resume(args.thread_id)
        return await self._turn(thread, args.prompt, reporter)

    async def close(self) -> None:
        await self._manager.close_all()
        if self._abandoned:
            await asyncio.gather(*self._abandoned, return_exceptions=True)

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
        try:
            thread = await self._manager.resume_thread(await self._config(None), thread_id)
        except ThreadNotFoundError:
            raise ToolArgumentError(f"no thread with id {thread_id!r} (start one with the codex tool)") from None
        await thread.next_event()  # SessionConfigured
        self._route_questions(thread)
        return thread

    def _route_questions(self, thread: CodexThread) -> None:
        """The thread's MCP servers ask the client of the call running on it."""
        thread_id = thread.thread_id

        async def elicit(request: ElicitationRequest) -> ElicitationResponse:
            reporter = self._reporters.get(thread_id)
            answer = None if reporter is None else await reporter.elicit(request)
            if answer is not None:
                return answer
            if reporter is not None:
                note = f"MCP server `{request.server}` asked: {request.message or request.tool} {NO_ELICITATION}"
                await reporter.progress(thread_id, note, "warning")
            return ElicitationResponse(action="decline")

        thread.set_elicitor(elicit)

    async def _turn(self, thread: CodexThread, prompt: str, reporter: Reporter) -> TurnResult:
        lock = self._locks.setdefault(thread.thread_id, asyncio.Lock())
        await lock.acquire()
        abandoned = False
        self._reporters[thread.thread_id] = reporter
        try:
            await thread.submit(UserInputOp(items=[TextInput(text=prompt)]))
            return await _pump(thread, reporter)
        except InternalAgentDied as exc:
            return TurnResult(thread.thread_id, "", f"the thread stopped: {exc}")
        except asyncio.CancelledError:
            abandoned = True
            task = asyncio.get_running_loop().create_task(_abandon(thread, lock))
            self._abandoned.add(task)
            task.add_done_callback(self._abandoned.discard)
            raise
        finally:
            del self._reporters[thread.thread_id]
            if not abandoned:
                lock.release()


async def _pump(thread: CodexThread, reporter: Reporter) -> TurnResult:
    """Events until the turn ends; approvals answered on the way."""
    error: str | None = None
    last_message = ""
    thread_id = thread.thread_id
    while True:
        msg = (await thread.next_event()).msg
        answer = await _approval(thread_id, msg, reporter)
        if answer is not None:
            await thread.submit(answer)
            continue
        if isinstance(msg, AgentMessageEvent):
            last_message = msg.message
        if isinstance(msg, ErrorEvent):
            error = msg.message
        if isinstance(msg, TaskCompleteEvent):
            content = msg.last_agent_message if msg.last_agent_message is not None else last_message
            return TurnResult(thread_id, content, error if not content else None)
        if isinstance(msg, TurnAbortedEvent):
            return TurnResult(thread_id, last_message, "the turn was interrupted")
        note = _describe(msg)
        if note is not None:
            await reporter.progress(thread_id, *note)


async def _abandon(thread: CodexThread, lock: asyncio.Lock) -> None:
    """Interrupt the turn of a call the client gave up on and read it to its end (denying
    what it still asks), then let the thread take calls again."""
    try:
        await thread.submit(InterruptOp())
        async with asyncio.timeout(ABANDONED_TURN_STOP_S):
            while True:
                msg = (await thread.next_event()).msg
                if isinstance(msg, ExecApprovalRequestEvent | ApplyPatchApprovalRequestEvent):
                    await thread.submit(msg.answer(ReviewDecision.DENIED))
                if isinstance(msg, TaskCompleteEvent | TurnAbortedEvent):
                    return
    except (InternalAgentDied, TimeoutError) as exc:
        log.warning("abandoned turn of thread %s did not end cleanly: %r", thread.thread_id, exc)
    finally:
        lock.release()


async def _approval(thread_id: str, msg: EventMsg, reporter: Reporter) -> Op | None:
    if isinstance(msg, ExecApprovalRequestEvent):
        question = f"Allow pycodex to run `{join_command(msg.command)}` in {msg.cwd}?"
        if msg.reason:
            question += f" ({msg.reason})"
        return msg.answer(await _ask(thread_id, reporter, question))
    if isinstance(msg, ApplyPatchApprovalRequestEvent):
        question = f"Allow pycodex to change {msg.files()}?"
        if msg.reason:
            question += f" ({msg.reason})"
        return msg.answer(await _ask(thread_id, reporter, question))
    return None


async def _ask(thread_id: str, reporter: Reporter, question: str) -> ReviewDecision:
    answer = await reporter.approve(question)
    if answer is None:
        await reporter.progress(thread_id, f"{question} {NO_ELICITATION}", "warning")
        return ReviewDecision.DENIED
    await reporter.progress(thread_id, f"{question} {'approved' if answer else 'denied'}")
    return ReviewDecision.APPROVED if answer else ReviewDecision.DENIED


def _describe(msg: EventMsg) -> tuple[str, Level] | None:
    """One line of progress for the events worth telling (not the deltas)."""
    if isinstance(msg, ExecCommandBeginEvent):
        return f"running `{join_command(msg.command)}`", "info"
    if isinstance(msg, ExecCommandEndEvent):
        return f"`{join_command(msg.command)}` exited with {msg.exit_code}", "info"
    if isinstance(msg, PatchApplyBeginEvent):
        return f"editing {', '.join(sorted(msg.changes))}", "info"
    if isinstance(msg, McpToolCallBeginEvent):
        return f"calling {msg.invocation.server}/{msg.invocation.tool}", "info"
    if isinstance(msg, AgentMessageEvent):
        return f"agent: {msg.message}", "info"
    if isinstance(msg, WarningEvent):
        return f"warning: {msg.message}", "warning"
    if isinstance(msg, ErrorEvent):
        return f"error: {msg.message}", "error"
    return None
