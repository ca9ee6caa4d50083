"""The `shell` tool: run an argv as a real subprocess and report the result.

Whether and how a command runs (sandboxed, after asking the user, not at all) is decided
by `pycodex.tools.orchestrator` from the approval policy, the sandbox policy, the user's
rules and the model's escalation request. A command that is really a patch (`apply_patch <<'EOF' ... EOF`) is not run at
all: it goes to the apply_patch tool's in-process path and policy.

The command's process group belongs to the thread that runs it: recorded, with the turn,
in that thread's `ShellRuntime.processes.groups`, so interrupting the turn
(`ProcessManager.terminate_started_in`) or closing the thread kills it, and only it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycodex.apply_patch.invocation import maybe_parse_apply_patch_invocation
from pycodex.process.spawn import ExecRequest, ExecResult, SpawnError, run_command
from pycodex.protocol.event_payloads import (
    ExecCommandBeginEvent,
    ExecCommandEndEvent,
    ExecCommandOutputDeltaEvent,
    ExecOutputStream,
)
from pycodex.protocol.events import RustDuration
from pycodex.protocol.items import ExecCommandSource
from pycodex.protocol.models import LocalShellExecAction
from pycodex.tools.base import RespondToModel, ToolCall, ToolContext, ToolOutput, json_arguments
from pycodex.tools.handlers.apply_patch import run_apply_patch
from pycodex.tools.orchestrator import ExecPlan, prefix_rule_of, run_with_approvals
from pycodex.tools.output_format import format_exec_output
from pycodex.tools.specs import (
    DEFAULT_TIMEOUT_MS,
    MAX_TIMEOUT_MS,
    shell_tool_spec,
)

if TYPE_CHECKING:
    from pycodex.process.groups import ProcessGroups
    from pycodex.process.runtime import ShellRuntime


def escalation_requested(args: dict[str, Any]) -> bool:
    return args.get("with_escalated_permissions") is True or (
        args.get("sandbox_permissions") == "require_escalated"
    )


def parse_shell_arguments(call: ToolCall) -> dict[str, Any]:
    """The shell arguments of a `shell` function call or a `local_shell_call` action."""
    raw = json_arguments(call)
    if call.kind == "local_shell":
        action = LocalShellExecAction.from_wire(raw)
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


def _join_lexically(base: Path, path: str | None) -> Path:
    """`path` (from a `cd DIR &&` prefix) against `base`, `..` folded without touching disk."""
    return Path(os.path.normpath(base / path)) if path else base


class ShellHandler:
    name = "shell"

    def __init__(
        self, escalation: bool = False, runtime: Callable[[], ShellRuntime] | None = None
    ) -> None:
        self.escalation = escalation
        # The thread's shell runtime (built on first use), which owns the commands run
        # here. None (a handler built without one): they are nobody's to stop but the
        # turn's own cancellation, and the exit safety net's.
        self._runtime = runtime

    def spec(self) -> dict[str, Any]:
        return shell_tool_spec(self.escalation)

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        args = parse_shell_arguments(call)
        argv = _argv(args)
        timeout_ms = _timeout_ms(args)
        workdir = args.get("workdir")
        cwd = ctx.resolve_path(workdir if isinstance(workdir, str) else None)
        invocation = maybe_parse_apply_patch_invocation(argv)
        if invocation is not None:
            # A patch sent through the shell: applied in process, under the patch policy.
            patch_cwd = _join_lexically(cwd, invocation.workdir)
            return await run_apply_patch(call.call_id, invocation.patch, patch_cwd, ctx)
        justification = args.get("justification")
        plan = ExecPlan(
            call_id=call.call_id,
            argv=argv,
            cwd=cwd,
            escalation_requested=escalation_requested(args),
            justification=justification if isinstance(justification, str) else None,
            prefix_rule=prefix_rule_of(args),
        )
        groups = self._runtime().processes.groups if self._runtime is not None else None

        async def runner(
            spawn_argv: list[str], env: Mapping[str, str]
        ) -> tuple[ToolOutput, ExecResult]:
            return await run_shell_command_result(
                call.call_id, argv, cwd, timeout_ms, ctx, spawn_argv=spawn_argv, env=env,
                groups=groups,
            )

        return await run_with_approvals(plan, ctx, runner)


async def run_shell_command(
    call_id: str, argv: list[str], cwd: Path, timeout_ms: int, ctx: ToolContext
) -> ToolOutput:
    """Run `argv` with begin/delta/end events around it; the result as the model sees it."""
    output, _ = await run_shell_command_result(call_id, argv, cwd, timeout_ms, ctx)
    return output


async def run_shell_command_result(
    call_id: str,
    argv: list[str],
    cwd: Path,
    timeout_ms: int | None,
    ctx: ToolContext,
    *,
    spawn_argv: list[str] | None = None,
    env: Mapping[str, str] | None = None,
    source: ExecCommandSource = ExecCommandSource.AGENT,
    groups: ProcessGroups | None = None,
) -> tuple[ToolOutput, ExecResult]:
    """Like `run_shell_command`, also returning the raw result.

    `spawn_argv`/`env` are what actually runs (e.g. the command wrapped for the sandbox);
    events and the model still see `argv`. `groups`: the process groups of the thread
    running it (`ShellRuntime.processes.groups`), where the command is recorded under
    `ctx.turn_id` while it runs.
    """
    ctx.emit(
        ExecCommandBeginEvent(
            call_id=call_id, turn_id=ctx.turn_id, command=argv, cwd=str(cwd), source=source
        )
    )

    def on_output(stream: str, chunk: bytes) -> None:
        ctx.emit(
            ExecCommandOutputDeltaEvent.from_bytes(
                call_id, ExecOutputStream(stream), chunk
            )
        )

    try:
        result = await run_command(
            ExecRequest(
                argv=spawn_argv if spawn_argv is not None else argv,
                cwd=cwd,
                env=env if env is not None else ctx.command_env,
                timeout_s=timeout_ms / 1000 if timeout_ms is not None else None,
            ),
            on_output,
            groups=groups,
            turn_id=ctx.turn_id,
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
            source=source,
            stdout=result.stdout,
            stderr=result.stderr,
            aggregated_output=result.aggregated,
            exit_code=result.exit_code,
            duration=RustDuration.from_seconds(result.duration_s),
            formatted_output=formatted,
        )
    )
    return ToolOutput(text=formatted, success=result.exit_code == 0), result
