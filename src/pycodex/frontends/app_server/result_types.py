"""Results of app-server methods, as types: the dispatcher converts what each handler answers
into its method's type before sending it (an undeclared or ill-typed field is a bug, answered
as an internal error and caught by the tests), and `app-server generate-json-schema`
describes the same types. Field order and nulls are Codex 0.163's; fields beyond Codex's
stable schema are ones Codex 0.163 sends too. Values pycodex passes through without a shape
of its own (config layers, model catalogue entries, MCP server details) are typed loosely."""

from __future__ import annotations

from typing import Any

import msgspec

from pycodex.protocol.v2.notification_types import RateLimitSnapshot, Turn
from pycodex.protocol.v2.threads import Thread

Json = dict[str, Any]


class _Result(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    pass


class EmptyResponse(_Result):
    """`{}`: the answer of every method that has nothing to say but "done"."""


class InitializeResponse(_Result):
    user_agent: str
    codex_home: str
    platform_family: str
    platform_os: str


class ThreadStartResponse(_Result, kw_only=True):
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


class ThreadUnsubscribeResponse(_Result):
    status: str


class ThreadLoadedListResponse(_Result):
    data: list[str]
    next_cursor: str | None


class ThreadListResponse(_Result):
    data: list[Thread]
    read_states: dict[str, Any]
    next_cursor: str | None
    backwards_cursor: str | None


class ThreadReadResponse(_Result):
    thread: Thread
    read_state: Any = None


class ThreadUnarchiveResponse(_Result):
    thread: Thread


class ThreadRevertResponse(_Result):
    thread: Thread
    turns_backwards_cursor: str | None = None
    items_backwards_cursor: str | None = None


class ThreadTurnsListResponse(_Result):
    data: list[Turn]
    next_cursor: str | None
    backwards_cursor: str | None


class TurnStartResponse(_Result):
    turn: Turn


class TurnSteerResponse(_Result):
    turn_id: str


class ReviewStartResponse(_Result):
    turn: Turn
    review_thread_id: str


class CommandExecResponse(_Result):
    exit_code: int
    stdout: str
    stderr: str


class FuzzyFileSearchResult(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    root: str
    path: str
    match_type: str
    file_name: str
    score: int
    indices: list[int] | None


class FuzzyFileSearchResponse(_Result):
    files: list[FuzzyFileSearchResult]


class ModelListResponse(_Result):
    data: list[Json]
    next_cursor: str | None


class SkillsListResponse(_Result):
    data: list[Json]


class ListMcpServerStatusResponse(_Result):
    data: list[Json]
    next_cursor: str | None


class ConfigReadResponse(_Result):
    config: Json
    origins: Json
    layers: list[Json] | None = None


class ConfigWriteResponse(_Result):
    status: str
    version: str
    file_path: str
    overridden_metadata: Any = None


class ChatgptAccount(msgspec.Struct, kw_only=True, rename="camel", tag_field="type", tag="chatgpt",
                     forbid_unknown_fields=True):
    email: str | None
    plan_type: str


class ApiKeyAccount(msgspec.Struct, kw_only=True, tag_field="type", tag="apiKey", forbid_unknown_fields=True):
    pass


class GetAccountResponse(_Result):
    account: ChatgptAccount | ApiKeyAccount | None
    requires_openai_auth: bool


class _Login(msgspec.Struct, kw_only=True, rename="camel", tag_field="type", forbid_unknown_fields=True):
    pass


class ApiKeyLoginResponse(_Login, tag="apiKey"):
    pass


class ChatgptLoginResponse(_Login, tag="chatgpt"):
    login_id: str
    auth_url: str


class ChatgptDeviceCodeLoginResponse(_Login, tag="chatgptDeviceCode"):
    login_id: str
    verification_url: str
    user_code: str


class ChatgptAuthTokensLoginResponse(_Login, tag="chatgptAuthTokens"):
    pass


LoginAccountResponse = (
    ApiKeyLoginResponse | ChatgptLoginResponse | ChatgptDeviceCodeLoginResponse | ChatgptAuthTokensLoginResponse
)


class CancelLoginAccountResponse(_Result):
    status: str


class GetAccountRateLimitsResponse(_Result):
    rate_limits: RateLimitSnapshot
    rate_limits_by_limit_id: dict[str, RateLimitSnapshot] | None


#: method -> result type: the dispatcher converts every answer of these methods into it.
METHOD_RESULTS: dict[str, Any] = {
    "initialize": InitializeResponse,
    "thread/start": ThreadStartResponse,
    "thread/resume": ThreadStartResponse,
    "thread/fork": ThreadStartResponse,
    "thread/unsubscribe": ThreadUnsubscribeResponse,
    "thread/loaded/list": ThreadLoadedListResponse,
    "thread/list": ThreadListResponse,
    "thread/read": ThreadReadResponse,
    "thread/turns/list": ThreadTurnsListResponse,
    "thread/archive": EmptyResponse,
    "thread/unarchive": ThreadUnarchiveResponse,
    "thread/delete": EmptyResponse,
    "thread/name/set": EmptyResponse,
    "thread/compact/start": EmptyResponse,
    "thread/shellCommand": EmptyResponse,
    "thread/revert": ThreadRevertResponse,
    "turn/start": TurnStartResponse,
    "turn/steer": TurnSteerResponse,
    "turn/interrupt": EmptyResponse,
    "review/start": ReviewStartResponse,
    "command/exec": CommandExecResponse,
    "command/exec/write": EmptyResponse,
    "command/exec/resize": EmptyResponse,
    "command/exec/terminate": EmptyResponse,
    "fuzzyFileSearch": FuzzyFileSearchResponse,
    "fuzzyFileSearch/sessionStart": EmptyResponse,
    "fuzzyFileSearch/sessionUpdate": EmptyResponse,
    "fuzzyFileSearch/sessionStop": EmptyResponse,
    "model/list": ModelListResponse,
    "skills/list": SkillsListResponse,
    "mcpServerStatus/list": ListMcpServerStatusResponse,
    "config/mcpServer/reload": EmptyResponse,
    "config/read": ConfigReadResponse,
    "config/value/write": ConfigWriteResponse,
    "config/batchWrite": ConfigWriteResponse,
    "account/read": GetAccountResponse,
    "account/login/start": LoginAccountResponse,
    "account/login/cancel": CancelLoginAccountResponse,
    "account/logout": EmptyResponse,
    "account/rateLimits/read": GetAccountRateLimitsResponse,
}
