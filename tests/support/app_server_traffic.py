"""Validate every message an app-server sends against Codex's reference JSON Schemas.

The e2e clients (stdio, unix frames, websocket) run each message they receive through a
:class:`TrafficValidator`, so the whole traffic of every app-server test is checked — not a
sample. A response is validated against the response type of the request it answers (the
validator remembers which method each request id was), a notification or a server request
against the schema of its method; a method the reference does not know is itself a failure.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from tests.support.shared import APP_SERVER_SCHEMAS

Json = dict[str, Any]

# Experimental methods: the reference holds Codex's stable schemas only. Their responses are
# empty objects in Codex's protocol (`FuzzyFileSearchSession*Response {}`).
_EXPERIMENTAL_RESPONSES: dict[str, Json] = {
    method: {"type": "object", "additionalProperties": False}
    for method in ("fuzzyFileSearch/sessionStart", "fuzzyFileSearch/sessionUpdate", "fuzzyFileSearch/sessionStop")
}

# Request methods whose response type is not named after their params type.
_RESPONSE_NAMES = {
    "config/value/write": "ConfigWriteResponse",
    "config/batchWrite": "ConfigWriteResponse",
    "account/logout": "LogoutAccountResponse",
    "account/rateLimits/read": "GetAccountRateLimitsResponse",
    "account/usage/read": "GetAccountTokenUsageResponse",
    "account/workspaceMessages/read": "GetWorkspaceMessagesResponse",
    "account/gatewayOAuth/read": "GatewayOAuthReadResponse",
    "account/gatewayOAuth/login": "GatewayOAuthLoginResponse",
    "account/gatewayOAuth/cancel": "GatewayOAuthCancelResponse",
    "configRequirements/read": "ConfigRequirementsReadResponse",
    "windowsSandbox/readiness": "WindowsSandboxReadinessResponse",
    "config/mcpServer/reload": "McpServerRefreshResponse",
}


class TrafficError(AssertionError):
    """A message the app-server sent does not match the reference schemas."""


@functools.cache
def _definitions() -> Mapping[str, Any]:
    """Every named type of the reference, the combined v2 document first (it wins on a clash)."""
    root = APP_SERVER_SCHEMAS
    files = [root / "codex_app_server_protocol.v2.schemas.json", root / "codex_app_server_protocol.schemas.json"]
    files += sorted(root.glob("*.json")) + sorted(root.glob("v1/*.json")) + sorted(root.glob("v2/*.json"))
    found: dict[str, Any] = {}
    for path in files:
        schema = json.loads(path.read_text())
        for name, definition in schema.get("definitions", {}).items():
            found.setdefault(name, definition)
        title = schema.get("title")
        if title and title not in found:
            found[title] = {k: v for k, v in schema.items() if k not in ("definitions", "$schema")}
    return found


def _by_method(file: str) -> dict[str, Json]:
    union = json.loads((APP_SERVER_SCHEMAS / file).read_text())
    return {variant["properties"]["method"]["enum"][0]: variant for variant in union["oneOf"]}


@functools.cache
def _response_types() -> Mapping[str, str]:
    names: dict[str, str] = {}
    for method, variant in _by_method("ClientRequest.json").items():
        ref = variant["properties"].get("params", {}).get("$ref")
        if ref is not None:
            names[method] = ref.rsplit("/", 1)[1].replace("Params", "Response")
    return {**names, **_RESPONSE_NAMES}


@functools.cache
def _server_messages() -> tuple[Mapping[str, Json], Mapping[str, Json]]:
    return _by_method("ServerNotification.json"), _by_method("ServerRequest.json")


def _check(instance: Any, schema: Json, what: str) -> None:
    import jsonschema

    validator = jsonschema.Draft7Validator({"definitions": _definitions(), **schema})
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise TrafficError(f"{what}: at {where}: {error.message}\n{json.dumps(instance)[:2000]}")


class TrafficValidator:
    """Remembers the requests a client sent; validates what the server sends back."""

    def __init__(self) -> None:
        self._pending: dict[Any, str] = {}

    def sent(self, message: Json) -> None:
        if "id" in message and isinstance(message.get("method"), str):
            self._pending[message["id"]] = message["method"]

    def received(self, message: Json) -> None:
        method = message.get("method")
        if isinstance(method, str):
            self._check_server_message(method, message)
        elif "error" in message:
            self._pending.pop(message.get("id"), None)
            _check(message, {"$ref": "#/definitions/JSONRPCError"}, "error response")
        elif "result" in message:
            self._check_response(message)
        else:
            raise TrafficError(f"neither request, notification nor response: {message}")

    def _check_server_message(self, method: str, message: Json) -> None:
        notifications, requests = _server_messages()
        table, kind = (requests, "server request") if "id" in message else (notifications, "notification")
        variant = table.get(method)
        if variant is None:
            raise TrafficError(f"{kind} {method!r} is not in the reference protocol: {message}")
        _check(message, variant, f"{kind} {method}")

    def _check_response(self, message: Json) -> None:
        method = self._pending.pop(message.get("id"), None)
        if method is None:
            raise TrafficError(f"a response to no request this client sent: {message}")
        if method in _EXPERIMENTAL_RESPONSES:
            _check(message["result"], _EXPERIMENTAL_RESPONSES[method], f"{method} result")
            return
        name = _response_types().get(method)
        if name is None or name not in _definitions():
            raise TrafficError(f"no reference response type for {method!r}: {message}")
        _check(message["result"], {"$ref": f"#/definitions/{name}"}, f"{method} result")
