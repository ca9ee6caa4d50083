"""The `shell` tool: run an argv as a real subprocess and report the result.

Until the sandbox lands, a command runs only when the user chose both
`approval_policy = never` and `sandbox = danger-full-access`; otherwise the model is told
plainly that the command was not run and why. Pretending to sandbox would be worse than
refusing.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from pycodex.process.spawn import ExecRequest, ExecResult, SpawnError, run_command
from pycodex.protocol.event_payloads import (
    ExecCommandBeginEvent,
    ExecCommandEndEvent,
    ExecCommandOutputDeltaEvent,
    ExecOutputStream,
)
from pycodex.protocol.events import RustDuration
from pycodex.protocol.models import LocalShellExecAction
from pycodex.tools.base import RespondToModel, ToolCall, ToolContext, ToolOutput
from pycodex.tools.output_format import format_exec_output

# Longer than Codex's 10 s: test suites and builds routinely need more, and a model that
# knows better passes `timeout_ms` anyway.
DEFAULT_TIMEOUT_MS = 60_000
MAX_TIMEOUT_MS = 60 * 60 * 1000

SHELL_TOOL_SPEC: dict[str, Any] = {
    "type": "function",
    "name": "shell",
    "description": (
        "Run a command and return its exit code and output. `command` is an argv list, "
        'e.g. ["bash", "-lc", "ls -la"]. Set `workdir` instead of using `cd`.'
    ),
    "strict": False,
    "parameters": {
        "type": "object",
        "properties": {
            "command": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The command to run, as an argv list.",
            },
            "workdir": {
                "type": "string",
                "description": "Directory to run the command in (default: the session's).",
            },
            "timeout_ms": {
                "type": "number",
                "description": f"Kill the command after this many ms (default {DEFAULT_TIMEOUT_MS}).",
            },
            "justification": {
                "type": "string",
                "description": "Why the command is needed, shown to the user if approval is asked.",
            },
        },
        "required": ["command"],
        "additionalProperties": False,
    },
}


def commands_allowed(ctx: ToolContext) -> str | None:
    """None when commands may run; otherwise the reason they may not."""
    if ctx.approval_policy == "never" and ctx.sandbox_mode == "danger-full-access":
        return None
    return (
        "command not run: this version of pycodex cannot enforce the "
        f"`{ctx.sandbox_mode}` sandbox or the `{ctx.approval_policy}` approval policy yet, "
        "so it runs commands only with sandbox `danger-full-access` and approval `never` "
        "(e.g. `pycodex exec --dangerously-bypass-approvals-and-sandbox`). Tell the user "
        "which command you wanted to run instead."
    )


def parse_shell_arguments(call: ToolCall) -> dict[str, Any]:
    """The shell arguments of a `shell` function call or a `local_shell_call` action."""
    try:
        raw = json.loads(call.payload or "{}")
    except json.JSONDecodeError as exc:
        raise RespondToModel(f"failed to parse function arguments: {exc}") from exc
    if not isinstance(raw, dict):
        raise RespondToModel("failed to parse function arguments: expected a JSON object")
    if call.kind == "local_shell":
        action = LocalShellExecAction.model_validate(raw)
        return {
            "command": action.command,
            "workdir": action.working_directory,
            "timeout_ms": action.timeout_ms,
        }
    return raw


def _argv(args: dict[str, Any]) -> list[str]:
    command = args.get("command")
    # Some models send a string; treat it as a script for bash rather than failing.
    if isinstance(command, str) and command.strip():
        return ["bash", "-lc", command]
    if (
        not isinstance(command, list)
        or not command
        or not all(isinstance(part, str) for part in command)
    ):
        raise RespondToModel("failed to parse function arguments: `command` must be a non-empty list of strings")
    return list(command)


def _timeout_ms(args: dict[str, Any]) -> int:
    value = args.get("timeout_ms")
    if value is None:
        return DEFAULT_TIMEOUT_MS
    if not isinstance(value, int | float) or value <= 0:
        raise RespondToModel("failed to parse function arguments: `timeout_ms` must be a positive number")
    return min(int(value), MAX_TIMEOUT_MS)


class ShellHandler:
    name = "shell"

    def spec(self) -> dict[str, Any]:
        return SHELL_TOOL_SPEC

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        args = parse_shell_arguments(call)
        argv = _argv(args)
        timeout_ms = _timeout_ms(args)
        workdir = args.get("workdir")
        cwd = ctx.resolve_path(workdir if isinstance(workdir, str) else None)
        refusal = commands_allowed(ctx)
        if refusal is not None:
            ctx.emit_warning(f"refused to run `{shlex.join(argv)}`: sandboxing is not available yet")
            raise RespondToModel(refusal)
        return await run_shell_command(call.call_id, argv, cwd, timeout_ms, ctx)


async def run_shell_command(
    call_id: str, argv: list[str], cwd: Path, timeout_ms: int, ctx: ToolContext
) -> ToolOutput:
    """Run `argv` with begin/delta/end events around it; the result as the model sees it."""
    ctx.emit(
        ExecCommandBeginEvent(call_id=call_id, turn_id=ctx.turn_id, command=argv, cwd=str(cwd))
    )

    def on_output(stream: str, chunk: bytes) -> None:
        ctx.emit(
            ExecCommandOutputDeltaEvent.from_bytes(
                call_id, ExecOutputStream(stream), chunk
            )
        )

    try:
        result = await run_command(
            ExecRequest(argv=argv, cwd=cwd, env=ctx.command_env, timeout_s=timeout_ms / 1000),
            on_output,
        )
    except SpawnError as exc:
        result = ExecResult(
            exit_code=127, stdout="", stderr=str(exc), aggregated=f"{exc}\n",
            duration_s=0.0, timed_out=False, output_bytes=len(str(exc)) + 1,
        )
    formatted = format_exec_output(result, timeout_ms)
    ctx.emit(
        ExecCommandEndEvent(
            call_id=call_id,
            turn_id=ctx.turn_id,
            command=argv,
            cwd=str(cwd),
            stdout=result.stdout,
            stderr=result.stderr,
            aggregated_output=result.aggregated,
            exit_code=result.exit_code,
            duration=RustDuration.from_seconds(result.duration_s),
            formatted_output=formatted,
        )
    )
    return ToolOutput(text=formatted, success=result.exit_code == 0)
