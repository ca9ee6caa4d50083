"""The user's own `!cmd` (`Op::RunUserShellCommand`): run outside the model's turn.

It runs in the user's shell (login environment, from the snapshot when there is one),
under the session's sandbox policy but without an approval prompt (the user typed it),
with begin/delta/end events whose `source` is `user_shell`. Its command and output are
recorded in the history as a user message, so the model sees them in its next request
(Codex keeps them local; telling the model what the user just ran is more useful).
An `Interrupt` stops it: the command's process group is killed.
"""

from __future__ import annotations

import asyncio
import time
from xml.sax.saxutils import escape

from pycodex.ids import uuid7
from pycodex.process.env import build_command_env
from pycodex.process.spawn import ExecResult
from pycodex.process.truncation import truncate_middle
from pycodex.protocol.event_payloads import ExecCommandBeginEvent, ExecCommandEndEvent
from pycodex.protocol.events import (
    RustDuration,
    TaskCompleteEvent,
    TaskStartedEvent,
    TurnAbortedEvent,
    TurnAbortReason,
)
from pycodex.protocol.items import ExecCommandSource
from pycodex.protocol.models import InputText, MessageItem
from pycodex.sandbox.launcher import SandboxUnavailable, prepare_command
from pycodex.tools.base import ToolContext
from pycodex.tools.handlers.shell import run_shell_command_result
from pycodex.tools.output_format import MODEL_OUTPUT_MAX_BYTES

from .session import Session
from .turn_context import TurnContext


def user_shell_record(command: str, result: ExecResult) -> MessageItem:
    """What the model is told about a command the user ran himself."""
    output, _ = truncate_middle(result.aggregated, MODEL_OUTPUT_MAX_BYTES)
    text = (
        "<user_shell_command>\n"
        "The user ran this command in their shell (not a request to you):\n"
        f"<command>{escape(command)}</command>\n"
        f"<exit_code>{result.exit_code}</exit_code>\n"
        f"<duration_seconds>{result.duration_s:.3f}</duration_seconds>\n"
        f"<output>\n{escape(output)}</output>\n"
        "</user_shell_command>"
    )
    return MessageItem(role="user", content=[InputText(text=text)])


async def run_user_shell_command(
    sess: Session, turn: TurnContext, command: str, *, standalone: bool
) -> None:
    """Run `command`; `standalone` when no model turn is running (then it is reported as a
    task of its own: TaskStarted, TaskComplete or TurnAborted on Interrupt)."""
    started = time.time()
    if standalone:
        sess.emit(turn.sub_id, TaskStartedEvent(turn_id=turn.turn_id, started_at=int(started),
                                                model_context_window=turn.context_window))
    ctx = sess.tool_context(turn)
    call_id = f"user_shell_{uuid7()}"
    shell = sess.shell.user_shell
    display = shell.argv(command, login=True)
    try:
        base = build_command_env(sess.services.env_policy, sess.services.base_env)
        argv, env = await sess.shell.command_argv(shell, command, login=True, env=base, cwd=turn.cwd)
        try:
            # In a worker thread: the first command of a process probes what sandboxing the
            # machine offers (helper processes, up to seconds), which must not stall the loop.
            prepared = await asyncio.to_thread(
                prepare_command, argv, policy=turn.settings.sandbox_policy, cwd=turn.cwd, env=env
            )
        except SandboxUnavailable as exc:
            _report_not_run(ctx, turn, call_id, display, f"command not run: {exc}")
        else:
            for warning in prepared.warnings:
                ctx.emit_warning(warning)
            _, result = await run_shell_command_result(
                call_id, display, turn.cwd, None, ctx, spawn_argv=prepared.argv,
                env=prepared.env, source=ExecCommandSource.USER_SHELL,
                groups=sess.shell.processes.groups,
            )
            record = user_shell_record(command, result)
            active = sess.active
            if active is not None and not active.task.done():
                active.pending_input.append(record)
            else:
                sess.record_items([record])
    except asyncio.CancelledError:
        sess.end_items(turn)
        if standalone:
            sess.emit(turn.sub_id, TurnAbortedEvent(turn_id=turn.turn_id, reason=TurnAbortReason.INTERRUPTED))
            await sess.flush()
        raise
    sess.end_items(turn)
    if standalone:
        sess.emit(
            turn.sub_id,
            TaskCompleteEvent(
                turn_id=turn.turn_id, last_agent_message=None, started_at=int(started),
                completed_at=int(time.time()), duration_ms=int((time.time() - started) * 1000),
            ),
        )
    await sess.flush()


def _report_not_run(ctx: ToolContext, turn: TurnContext, call_id: str, display: list[str], message: str) -> None:
    ctx.emit(ExecCommandBeginEvent(
        call_id=call_id, turn_id=turn.turn_id, command=display, cwd=str(turn.cwd),
        source=ExecCommandSource.USER_SHELL))
    ctx.emit(ExecCommandEndEvent(
        call_id=call_id, turn_id=turn.turn_id, command=display, cwd=str(turn.cwd),
        source=ExecCommandSource.USER_SHELL, stdout="", stderr=message, aggregated_output=message,
        exit_code=1, duration=RustDuration.from_seconds(0.0), formatted_output=message))
