"""Typed params of `command/exec` and its follow-ups (`write`, `terminate`, `resize`):
`reference/app-server-schema/stable/v2/CommandExec*Params.json`."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from pycodex.frontends.app_server.validation import Params


class TerminalSize(msgspec.Struct, kw_only=True):
    rows: int
    cols: int


class CommandExecParams(Params, kw_only=True):
    EXPERIMENTAL_FIELDS: ClassVar[frozenset[str]] = frozenset({"permissionProfile"})

    command: list[str]
    process_id: str | None = None
    tty: bool = False
    stream_stdin: bool = False
    stream_stdout_stderr: bool = False
    output_bytes_cap: int | None = None
    disable_output_cap: bool = False
    disable_timeout: bool = False
    timeout_ms: int | None = None
    cwd: str | None = None
    env: dict[str, str | None] | None = None
    size: TerminalSize | None = None
    sandbox_policy: dict[str, Any] | None = None


class CommandExecWriteParams(Params, kw_only=True):
    process_id: str
    delta_base64: str | None = None
    close_stdin: bool = False


class CommandExecTerminateParams(Params, kw_only=True):
    process_id: str


class CommandExecResizeParams(Params, kw_only=True):
    process_id: str
    size: TerminalSize
