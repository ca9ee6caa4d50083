"""`command/exec`, `command/exec/write`, `command/exec/terminate`, `command/exec/resize`:
a command run outside any thread, under the request's sandbox policy or the config's.

Params are checked as Codex checks them, with its words and codes (conflicting options are
-32602, a missing `processId` for streaming -32600). The answer to `command/exec` comes when
the process has exited (see :mod:`..command_exec`); the follow-ups act on a running process
of the same connection.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path

from pycodex.core import (
    CommandStartError,
    StdinClosed,
    command_env,
    sandbox_policy_for,
    start_command,
)
from pycodex.frontends.app_server.command_exec import (
    DEFAULT_OUTPUT_CAP,
    DEFAULT_TIMEOUT_S,
    ExecRegistry,
    OutputPlan,
    RunningExec,
)
from pycodex.frontends.app_server.command_params import (
    CommandExecParams,
    CommandExecResizeParams,
    CommandExecTerminateParams,
    CommandExecWriteParams,
    TerminalSize,
)
from pycodex.frontends.app_server.deferred import Deferred
from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.errors import (
    INVALID_PARAMS,
    RpcError,
    internal_error,
    invalid_request,
)
from pycodex.frontends.app_server.thread_config import load_thread_config
from pycodex.protocol.policies import SandboxPolicy


def invalid_params(message: str) -> RpcError:
    return RpcError(INVALID_PARAMS, message)


def _check(params: CommandExecParams) -> None:
    """Refuse what Codex refuses, in its order and words."""
    if not params.command:
        raise invalid_request("command must not be empty")
    if params.size is not None and not params.tty:
        raise invalid_params("command/exec size requires tty: true")
    if params.disable_output_cap and params.output_bytes_cap is not None:
        raise invalid_params("command/exec cannot set both outputBytesCap and disableOutputCap")
    if params.disable_timeout and params.timeout_ms is not None:
        raise invalid_params("command/exec cannot set both timeoutMs and disableTimeout")
    if params.timeout_ms is not None and params.timeout_ms < 0:
        raise invalid_params(f"command/exec timeoutMs must be non-negative, got {params.timeout_ms}")
    if params.output_bytes_cap is not None and params.output_bytes_cap < 0:
        raise invalid_params(f"command/exec outputBytesCap must be non-negative, got {params.output_bytes_cap}")
    if params.process_id is None and (params.tty or params.stream_stdin or params.stream_stdout_stderr):
        raise invalid_request("command/exec tty or streaming requires a client-supplied processId")
    if params.size is not None:
        _check_size(params.size)


def _check_size(size: TerminalSize) -> None:
    if size.rows <= 0 or size.cols <= 0:
        raise invalid_params("command/exec size rows and cols must be greater than 0")


def _plan(params: CommandExecParams) -> OutputPlan:
    cap = None if params.disable_output_cap else (
        params.output_bytes_cap if params.output_bytes_cap is not None else DEFAULT_OUTPUT_CAP
    )
    timeout = None if params.disable_timeout else (
        params.timeout_ms / 1000 if params.timeout_ms is not None else DEFAULT_TIMEOUT_S
    )
    return OutputPlan(stream=params.tty or params.stream_stdout_stderr, cap=cap, timeout_s=timeout)


def _sandbox(policy: dict[str, object] | None, fallback: SandboxPolicy) -> SandboxPolicy:
    if policy is None:
        return fallback
    try:
        return SandboxPolicy.from_app_server(policy)
    except ValueError as exc:
        raise invalid_request(f"Invalid request: invalid sandboxPolicy: {exc}") from None


def _id_text(process_id: str) -> str:
    return json.dumps(process_id)  # Codex quotes a client's id in its messages


class CommandExec:
    def __init__(self, registry: ExecRegistry, env: Mapping[str, str]) -> None:
        self.registry = registry
        self.env = env

    async def __call__(self, ctx: RequestContext, params: CommandExecParams) -> Deferred:
        _check(params)
        if params.process_id is not None and self.registry.get(ctx.peer, params.process_id):
            raise invalid_request(f"duplicate active command/exec process id: {_id_text(params.process_id)}")
        config = await load_thread_config(self.env, cwd=params.cwd)
        sandbox = _sandbox(params.sandbox_policy, sandbox_policy_for(config))
        env = command_env(config.shell_environment_policy, self.env, params.env)
        size = (params.size.rows, params.size.cols) if params.size is not None else None
        try:
            command = await start_command(
                params.command, cwd=Path(config.cwd), env=env, sandbox=sandbox,
                stdin=params.tty or params.stream_stdin, tty=params.tty, size=size,
            )
        except CommandStartError as exc:
            raise internal_error(f"failed to spawn command: {exc}") from None
        running = RunningExec(command, params.process_id, stream_stdin=params.tty or params.stream_stdin)
        self.registry.claim(ctx.peer, running)
        return Deferred(self.registry.run(ctx.peer, running, _plan(params)))


class _FollowUp:
    def __init__(self, registry: ExecRegistry) -> None:
        self.registry = registry

    def running(self, ctx: RequestContext, process_id: str) -> RunningExec:
        running = self.registry.get(ctx.peer, process_id)
        if running is None:
            raise invalid_request(f"no active command/exec for process id {_id_text(process_id)}")
        return running


class CommandExecWrite(_FollowUp):
    async def __call__(self, ctx: RequestContext, params: CommandExecWriteParams) -> dict[str, object]:
        if params.delta_base64 is None and not params.close_stdin:
            raise invalid_params("command/exec/write requires deltaBase64 or closeStdin")
        try:
            data = base64.b64decode(params.delta_base64 or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise invalid_params(f"invalid deltaBase64: {exc}") from None
        running = self.running(ctx, params.process_id)
        if not running.stream_stdin:
            raise invalid_request("stdin streaming is not enabled for this command/exec")
        try:
            if data:
                await running.command.write(data)
        except StdinClosed:
            raise invalid_request("stdin is already closed") from None
        if params.close_stdin:
            running.command.close_stdin()
        return {}


class CommandExecTerminate(_FollowUp):
    async def __call__(self, ctx: RequestContext, params: CommandExecTerminateParams) -> dict[str, object]:
        self.running(ctx, params.process_id).command.kill()
        return {}


class CommandExecResize(_FollowUp):
    async def __call__(self, ctx: RequestContext, params: CommandExecResizeParams) -> dict[str, object]:
        _check_size(params.size)
        running = self.running(ctx, params.process_id)
        try:
            running.command.resize(params.size.rows, params.size.cols)
        except OSError as exc:
            raise invalid_request(f"failed to resize PTY: {exc}") from None
        return {}
