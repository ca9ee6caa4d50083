"""The JSON-RPC errors the app-server answers with, worded as Codex words them.

Codex answers nearly everything with -32600 (`reference/app-server/examples.json`): before
`initialize`, a second `initialize`, an unknown method, params of the wrong shape, a gated
experimental method or field. -32001 is the documented backpressure error ("retry later").
-32601 is pycodex's own, for a method Codex has and pycodex does not (yet): a client can tell
"not supported here" from "you sent something wrong".
"""

from __future__ import annotations

from collections.abc import Iterable

from pycodex.frontends.app_server.jsonrpc import ErrorObject, JsonValue

INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
OVERLOADED = -32001
# Not a JSON-RPC code: what a pending server→client request fails with locally.
REQUEST_TIMED_OUT = -32002


class RpcError(Exception):
    """Raised by a handler (or the dispatcher) to answer a request with this error."""

    def __init__(self, code: int, message: str, data: JsonValue | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_error(self) -> ErrorObject:
        return ErrorObject(code=self.code, message=self.message, data=self.data)


def invalid_request(message: str) -> RpcError:
    return RpcError(INVALID_REQUEST, message)


def not_initialized() -> RpcError:
    return invalid_request("Not initialized")


def already_initialized() -> RpcError:
    return invalid_request("Already initialized")


def overloaded() -> ErrorObject:
    return ErrorObject(code=OVERLOADED, message="Server overloaded; retry later.")


def unknown_method(method: str, known: Iterable[str]) -> RpcError:
    expected = ", ".join(f"`{name}`" for name in known)
    return invalid_request(
        f"Invalid request: unknown variant `{method}`, expected one of {expected}"
    )


def experimental_required(reason: str) -> RpcError:
    """`reason` is the method (`thread/search`) or method and field (`turn/start.environments`)."""
    return invalid_request(f"{reason} requires experimentalApi capability")


def not_supported(method: str) -> RpcError:
    return RpcError(
        METHOD_NOT_FOUND,
        f"`{method}` is not supported by pycodex yet",
        {"reason": "notSupported", "method": method},
    )


def internal_error(message: str) -> RpcError:
    return RpcError(INTERNAL_ERROR, message)
