"""What the server sends on its own, as types: the notifications and the server→client
requests. `Connection.notify` / `request` convert every params object whose method is listed
here into its type before it goes out (a field the type does not declare is a bug: logged,
and caught by the tests), and `app-server generate-json-schema` describes the same types.
The notifications of a thread's event stream are built as these types already
(`protocol.v2.notification_types`); the rest are the ones handlers build as JSON objects.
Field order and nulls are Codex 0.163's."""

from __future__ import annotations

from typing import Any

import msgspec

from pycodex.frontends.app_server.result_types import FuzzyFileSearchResult
from pycodex.protocol.v2.notification_types import THREAD_NOTIFICATIONS
from pycodex.protocol.v2.threads import ThreadStartedNotification

Json = dict[str, Any]


class _Out(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    pass


class ThreadArchivedNotification(_Out):
    thread_id: str


class ThreadUnarchivedNotification(_Out):
    thread_id: str


class ThreadDeletedNotification(_Out):
    thread_id: str


class ThreadRevertedNotification(_Out):
    thread_id: str


class ThreadNameUpdatedNotification(_Out):
    thread_id: str
    thread_name: str | None


class ThreadSettingsUpdatedNotification(_Out):
    thread_id: str
    thread_settings: Json


class DeprecationNoticeNotification(_Out):
    summary: str
    details: str | None


class ServerRequestResolvedNotification(_Out):
    thread_id: str
    request_id: int | str


class AccountUpdatedNotification(_Out):
    auth_mode: str | None
    plan_type: str | None


class AccountLoginCompletedNotification(_Out):
    login_id: str | None
    success: bool
    error: str | None


class CommandExecOutputDeltaNotification(_Out):
    process_id: str | None
    stream: str
    delta_base64: str
    cap_reached: bool


class FuzzyFileSearchSessionUpdatedNotification(_Out):
    session_id: str
    query: str
    files: list[FuzzyFileSearchResult]


class FuzzyFileSearchSessionCompletedNotification(_Out):
    session_id: str


# --- server -> client requests --------------------------------------------------------------


class CommandExecutionRequestApprovalParams(_Out, omit_defaults=True, kw_only=True):
    """Optional fields are left out when unset, as Codex does."""

    kind: str
    thread_id: str
    turn_id: str
    item_id: str
    started_at_ms: int
    environment_id: str
    approval_id: str | None = None
    reason: str | None = None
    command: str
    cwd: str
    command_actions: list[Json]
    proposed_execpolicy_amendment: list[str] | None = None
    available_decisions: list[Any]


class FileChangeRequestApprovalParams(_Out):
    thread_id: str
    turn_id: str
    item_id: str
    started_at_ms: int
    reason: str | None
    grant_root: str | None


class McpServerElicitationRequestParams(_Out, omit_defaults=True, kw_only=True):
    """`mode: form` carries `requestedSchema`, `mode: url` a `url` and `elicitationId`."""

    thread_id: str
    turn_id: str | None
    server_name: str
    mode: str
    message: str | None
    requested_schema: Json | None = None
    url: str | None = None
    elicitation_id: str | None = None


class ChatgptAuthTokensRefreshParams(_Out):
    reason: str
    previous_account_id: str | None


#: method -> params type, for every notification the server sends.
NOTIFICATIONS: dict[str, type[Any]] = {
    **THREAD_NOTIFICATIONS,
    "thread/started": ThreadStartedNotification,
    "thread/archived": ThreadArchivedNotification,
    "thread/unarchived": ThreadUnarchivedNotification,
    "thread/deleted": ThreadDeletedNotification,
    "thread/reverted": ThreadRevertedNotification,
    "thread/name/updated": ThreadNameUpdatedNotification,
    "thread/settings/updated": ThreadSettingsUpdatedNotification,
    "deprecationNotice": DeprecationNoticeNotification,
    "serverRequest/resolved": ServerRequestResolvedNotification,
    "account/updated": AccountUpdatedNotification,
    "account/login/completed": AccountLoginCompletedNotification,
    "command/exec/outputDelta": CommandExecOutputDeltaNotification,
    "fuzzyFileSearch/sessionUpdated": FuzzyFileSearchSessionUpdatedNotification,
    "fuzzyFileSearch/sessionCompleted": FuzzyFileSearchSessionCompletedNotification,
}

#: method -> params type, for every request the server sends the client.
SERVER_REQUESTS: dict[str, type[Any]] = {
    "item/commandExecution/requestApproval": CommandExecutionRequestApprovalParams,
    "item/fileChange/requestApproval": FileChangeRequestApprovalParams,
    "mcpServer/elicitation/request": McpServerElicitationRequestParams,
    "account/chatgptAuthTokens/refresh": ChatgptAuthTokensRefreshParams,
}


class OutboundTypeError(Exception):
    """A params object that does not fit its declared type (a server bug)."""


def typed_params(method: str, params: Any, table: dict[str, type[Any]]) -> Any:
    """`params` converted into `method`'s type (unlisted methods pass as they are)."""
    params_type = table.get(method)
    if params_type is None or params is None:
        return params
    try:
        return msgspec.to_builtins(msgspec.convert(params, params_type))
    except msgspec.ValidationError as exc:
        raise OutboundTypeError(f"{method}: {exc}") from None
