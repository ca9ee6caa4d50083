"""`exec_command` and `write_stdin`: commands that may keep running between tool calls.

`exec_command` starts `[shell, -lc|-c, cmd]` (on a PTY with `tty`) through the same
approval and sandbox orchestration as `shell`, and returns when the process exits or
after `yield_time_ms` with what it printed so far. A process still running gets a session
id; `write_stdin` types into it (or, with empty `chars`, just waits for more output).
Output as the model sees it (Codex's format):

    Chunk ID: 1a2b3c
    Wall time: 0.5012 seconds
    Process exited with code 0            | Process running with session ID 4242
    Original token count: 12
    Output:
    ...
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from pycodex.apply_patch.invocation import maybe_parse_apply_patch_invocation
from pycodex.process.runtime import ShellRuntime
from pycodex.process.sessions import ProcessSession, start_session
from pycodex.process.shell import resolve_shell
from pycodex.process.spawn import ExecResult, SpawnError
from pycodex.process.truncation import approx_tokens, truncate_to_token_budget
from pycodex.protocol.event_payloads import (
    ExecCommandBeginEvent,
    ExecCommandEndEvent,
    ExecCommandOutputDeltaEvent,
    ExecOutputStream,
)
from pycodex.protocol.events import RustDuration
from pycodex.protocol.items import ExecCommandSource
from pycodex.tools.base import RespondToModel, ToolCall, ToolContext, ToolOutput, json_arguments
from pycodex.tools.handlers.apply_patch import run_apply_patch
from pycodex.tools.handlers.shell import ShellHandler, escalation_requested
from pycodex.tools.orchestrator import ExecPlan, prefix_rule_of, run_with_approvals
from pycodex.tools.specs import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    DEFAULT_WRITE_YIELD_MS,
    DEFAULT_YIELD_MS,
    EXEC_COMMAND_SPEC,
    MAX_POLL_YIELD_MS,
    MAX_YIELD_MS,
    MIN_POLL_YIELD_MS,
    MIN_YIELD_MS,
    WRITE_STDIN_SPEC,
)

# What every session's environment says: no colours, no pagers waiting for a key press.
SESSION_ENV = {
    "NO_COLOR": "1",
    "TERM": "dumb",
    "COLORTERM": "",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "GH_PAGER": "cat",
    "CODEX_CI": "1",
}

class LocalShellHandler(ShellHandler):
    """The `shell` handler offered as the Responses API's built-in `local_shell` tool."""

    def spec(self) -> dict[str, Any]:
        return {"type": "local_shell"}


# --- arguments ---------------------------------------------------------------------------


def _number(args: dict[str, Any], key: str, default: int) -> int:
    value = args.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RespondToModel(f"failed to parse function arguments: `{key}` must be a number")
    return int(value)


def _bool(args: dict[str, Any], key: str, default: bool) -> bool:
    value = args.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RespondToModel(f"failed to parse function arguments: `{key}` must be a boolean")
    return value


def _max_tokens(args: dict[str, Any]) -> int:
    return max(_number(args, "max_output_tokens", DEFAULT_MAX_OUTPUT_TOKENS), 0)


# --- output --------------------------------------------------------------------------------


def format_process_output(
    *,
    wall_s: float,
    exit_code: int | None,
    session_id: int,
    text: str,
    total_bytes: int,
    max_tokens: int,
    omitted_bytes: int = 0,
    notes: tuple[str, ...] = (),
) -> str:
    body = truncate_to_token_budget(
        text, max_tokens, total_bytes=total_bytes, omitted_bytes=omitted_bytes
    )
    status = (
        f"Process exited with code {exit_code}"
        if exit_code is not None
        else f"Process running with session ID {session_id}"
    )
    lines = [
        f"Chunk ID: {secrets.token_hex(3)}",
        f"Wall time: {wall_s:.4f} seconds",
        status,
        f"Original token count: {approx_tokens(total_bytes)}",
        *notes,
    ]
    return "\n".join(lines) + "\nOutput:\n" + body


def _pruned_note(pruned: ProcessSession | None, limit: int) -> tuple[str, ...]:
    if pruned is None:
        return ()
    cmd = pruned.command[-1] if pruned.command else "?"
    return (
        f"Note: session {pruned.id} (`{cmd[:80]}`) was killed to stay within the limit of "
        f"{limit} open sessions; close sessions you no longer need.",
    )


class ExecCommandHandler:
    name = "exec_command"

    def __init__(self, runtime: ShellRuntime) -> None:
        self.runtime = runtime

    def spec(self) -> dict[str, Any]:
        return EXEC_COMMAND_SPEC

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        args = json_arguments(call)
        cmd = args.get("cmd")
        if not isinstance(cmd, str) or not cmd.strip():
            raise RespondToModel("failed to parse function arguments: `cmd` must be a non-empty string")
        workdir = args.get("workdir")
        cwd = ctx.resolve_path(workdir if isinstance(workdir, str) else None)
        requested_shell = args.get("shell")
        shell = resolve_shell(
            requested_shell if isinstance(requested_shell, str) else None, self.runtime.user_shell
        )
        login = _bool(args, "login", True)
        tty = _bool(args, "tty", False)
        yield_ms = min(max(_number(args, "yield_time_ms", DEFAULT_YIELD_MS), MIN_YIELD_MS), MAX_YIELD_MS)
        max_tokens = _max_tokens(args)
        display = shell.argv(cmd, login=login)

        invocation = maybe_parse_apply_patch_invocation(display)
        if invocation is not None:
            # A patch sent through the shell is applied in process, under the patch policy.
            patch_cwd = cwd / invocation.workdir if invocation.workdir else cwd
            return await run_apply_patch(call.call_id, invocation.patch, patch_cwd, ctx)

        argv, env = await self.runtime.command_argv(
            shell, cmd, login=login, env=ctx.command_env, cwd=cwd
        )
        justification = args.get("justification")
        plan = ExecPlan(
            call_id=call.call_id,
            argv=argv,
            cwd=cwd,
            escalation_requested=escalation_requested(args),
            justification=justification if isinstance(justification, str) else None,
            prefix_rule=prefix_rule_of(args),
        )
        run_ctx = msgspec.structs.replace(ctx, command_env=env) if env is not ctx.command_env else ctx
        manager = self.runtime.processes

        async def runner(spawn_argv: list[str], spawn_env: Mapping[str, str]) -> tuple[ToolOutput, ExecResult]:
            session_id = manager.allocate_id()
            begin = ExecCommandBeginEvent(
                call_id=call.call_id, process_id=str(session_id), turn_id=ctx.turn_id,
                command=display, cwd=str(cwd), source=ExecCommandSource.UNIFIED_EXEC_STARTUP,
            )
            ctx.emit(begin)
            started = time.monotonic()
            try:
                session = await start_session(
                    session_id=session_id, argv=spawn_argv, display=display, cwd=cwd,
                    env={**spawn_env, **SESSION_ENV}, tty=tty, call_id=call.call_id,
                    turn_id=ctx.turn_id, on_output=_delta_emitter(ctx, call.call_id),
                    on_exit=_end_emitter(ctx, begin), groups=manager.groups,
                )
            except SpawnError as exc:
                manager.release_id(session_id)
                message = f"{exc}\n"
                formatted = format_process_output(
                    wall_s=0.0, exit_code=127, session_id=session_id, text=message,
                    total_bytes=len(message.encode()), max_tokens=max_tokens,
                )
                ctx.emit(_end_event(begin, message, 127, 0.0, formatted))
                return ToolOutput(formatted, success=False), _result(127, message, 0.0, False)
            pruned = manager.add(session)
            finished = await session.wait(yield_ms / 1000 - (time.monotonic() - started))
            text, total, omitted = session.take_output()
            if finished:
                manager.remove(session_id)
            wall = time.monotonic() - started
            exit_code = session.exit_code if finished else None
            formatted = format_process_output(
                wall_s=wall, exit_code=exit_code, session_id=session_id, text=text,
                total_bytes=total, max_tokens=max_tokens, omitted_bytes=omitted,
                notes=_pruned_note(pruned, manager.max_sessions),
            )
            ok = exit_code is None or exit_code == 0
            return ToolOutput(formatted, success=ok), _result(exit_code or 0, text, wall, not finished)

        return await run_with_approvals(plan, run_ctx, runner)


class WriteStdinHandler:
    name = "write_stdin"

    def __init__(self, runtime: ShellRuntime) -> None:
        self.runtime = runtime

    def spec(self) -> dict[str, Any]:
        return WRITE_STDIN_SPEC

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        args = json_arguments(call)
        raw_id = args.get("session_id")
        if isinstance(raw_id, str) and raw_id.strip().isdigit():
            raw_id = int(raw_id)
        if isinstance(raw_id, bool) or not isinstance(raw_id, int | float):
            raise RespondToModel("failed to parse function arguments: `session_id` must be a number")
        session_id = int(raw_id)
        chars = args.get("chars") or ""
        if not isinstance(chars, str):
            raise RespondToModel("failed to parse function arguments: `chars` must be a string")
        max_tokens = _max_tokens(args)
        manager = self.runtime.processes
        session = manager.get(session_id)
        if session is None:
            raise RespondToModel(f"write_stdin failed: Unknown process id {session_id}")
        requested = max(_number(args, "yield_time_ms", DEFAULT_WRITE_YIELD_MS), MIN_YIELD_MS)
        if chars:
            if not session.tty:
                raise RespondToModel(
                    "write_stdin failed: stdin is closed for this session; "
                    "rerun exec_command with tty=true to keep stdin open"
                )
            yield_ms = min(requested, MAX_YIELD_MS)
        else:
            yield_ms = min(max(requested, MIN_POLL_YIELD_MS), MAX_POLL_YIELD_MS)
        started = time.monotonic()
        if chars:
            # If it exited meanwhile, the answer below says so.
            with contextlib.suppress(OSError):
                await session.write(chars.encode("utf-8"))
        finished = await session.wait(yield_ms / 1000 - (time.monotonic() - started))
        text, total, omitted = session.take_output()
        if finished:
            manager.remove(session_id)
        return ToolOutput(
            format_process_output(
                wall_s=time.monotonic() - started,
                exit_code=session.exit_code if finished else None,
                session_id=session_id, text=text, total_bytes=total, max_tokens=max_tokens,
                omitted_bytes=omitted,
            )
        )


# --- events --------------------------------------------------------------------------------


def _delta_emitter(ctx: ToolContext, call_id: str) -> Any:
    def on_output(data: bytes) -> None:
        ctx.emit(ExecCommandOutputDeltaEvent.from_bytes(call_id, ExecOutputStream.STDOUT, data))

    return on_output


def _end_event(
    begin: ExecCommandBeginEvent, output: str, exit_code: int, duration_s: float, formatted: str
) -> ExecCommandEndEvent:
    return ExecCommandEndEvent(
        call_id=begin.call_id, process_id=begin.process_id, turn_id=begin.turn_id,
        command=begin.command, cwd=begin.cwd, source=begin.source, stdout=output, stderr="",
        aggregated_output=output, exit_code=exit_code,
        duration=RustDuration.from_seconds(duration_s), formatted_output=formatted,
    )


def _end_emitter(ctx: ToolContext, begin: ExecCommandBeginEvent) -> Any:
    def on_exit(session: ProcessSession) -> None:
        output = session.transcript.render()
        formatted = truncate_to_token_budget(output, DEFAULT_MAX_OUTPUT_TOKENS)
        ctx.emit(
            _end_event(begin, output, session.exit_code or 0,
                       time.monotonic() - session.started, formatted)
        )

    return on_exit


def _result(exit_code: int, text: str, wall: float, running: bool) -> ExecResult:
    return ExecResult(
        exit_code=exit_code, stdout=text, stderr="", aggregated=text, duration_s=wall,
        timed_out=False, output_bytes=len(text), still_running=running,
    )
