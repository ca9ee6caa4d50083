"""Results of app-server methods, as types: what the handlers answer and what
`app-server generate-json-schema` describes (see `schema_export`). Field order and nulls are
Codex 0.163's; fields beyond Codex's stable schema are ones Codex 0.163 sends too."""

from __future__ import annotations

from typing import Any

import msgspec

from pycodex.protocol.v2.threads import Thread


class ThreadStartResponse(msgspec.Struct, kw_only=True, rename="camel"):
    """`thread/start`, `thread/resume` and `thread/fork`: the thread and its settings now."""

    thread: Thread
    model: str | None
    model_provider: str
    service_tier: str | None = None
    disabled_plugin_ids: list[str] = msgspec.field(default_factory=list)
    cwd: str
    runtime_workspace_roots: list[str]
    instruction_sources: list[Any] = msgspec.field(default_factory=list)
    approval_policy: Any
    approvals_reviewer: str = "user"
    sandbox: Any
    active_permission_profile: Any = None
    reasoning_effort: str | None
    multi_agent_mode: str = "explicitRequestOnly"


#: method -> result type, for the methods whose results are typed so far.
METHOD_RESULTS: dict[str, type[Any]] = {
    "thread/start": ThreadStartResponse,
    "thread/resume": ThreadStartResponse,
    "thread/fork": ThreadStartResponse,
}
