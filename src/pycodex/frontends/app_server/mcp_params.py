"""Typed params of `mcpServerStatus/list`
(`reference/app-server-schema/stable/v2/ListMcpServerStatusParams.json`)."""

from __future__ import annotations

from typing import Literal

from pycodex.frontends.app_server.validation import Params


class ListMcpServerStatusParams(Params, kw_only=True):
    cursor: str | None = None
    detail: Literal["full", "toolsAndAuthOnly"] | None = None
    limit: int | None = None
    server_name: str | None = None
    thread_id: str | None = None
