"""Typed params of `thread/shellCommand` and `thread/compact/start`
(`reference/app-server-schema/stable/v2/Thread{ShellCommand,CompactStart}Params.json`)."""

from __future__ import annotations

from pycodex.frontends.app_server.validation import Params


class ThreadShellCommandParams(Params, kw_only=True):
    thread_id: str
    command: str
    timeout_ms: int | None = None


class ThreadCompactStartParams(Params, kw_only=True):
    thread_id: str


class ThreadRevertParams(Params, kw_only=True):
    thread_id: str
    before_turn_id: str
