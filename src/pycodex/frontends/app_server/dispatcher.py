"""From a decoded request to its result or JSON-RPC error: the method table, the handshake
gate and experimental gating, typed params.

Checks run in Codex's order, so each mistake gets the error Codex gives: the method must be
known and its params must fit (`Invalid request: …`), then the connection must be
initialized (`Not initialized` / `Already initialized`), then an experimental method or
field needs the capability. Only then does the handler run. A handler raises
:class:`RpcError` for a JSON-RPC error; anything else it raises becomes -32603 and is logged,
and the connection carries on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol

from pycodex.frontends.app_server import errors
from pycodex.frontends.app_server.deferred import Deferred
from pycodex.frontends.app_server.jsonrpc import JsonValue, Notification, Request
from pycodex.frontends.app_server.methods import EXPERIMENTAL_METHODS, KNOWN_METHODS
from pycodex.frontends.app_server.params import EmptyParams
from pycodex.frontends.app_server.session import Session
from pycodex.frontends.app_server.validation import P, check_experimental_fields, decode_params

INITIALIZE = "initialize"


class Peer(Protocol):
    """What a handler may do towards its client besides answering."""

    async def notify(self, method: str, params: JsonValue | None) -> None: ...

    async def request(
        self,
        method: str,
        params: JsonValue | None,
        *,
        answer_within: float | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> JsonValue:
        """Ask the client; `on_sent` learns the request's id once it is on its way (so the
        asker can later tell the client the request was resolved elsewhere)."""
        ...


@dataclass(frozen=True)
class RequestContext:
    method: str
    session: Session
    peer: Peer


Handler = Callable[[RequestContext, P], Awaitable[JsonValue | Deferred]]


@dataclass(frozen=True)
class MethodSpec(Generic[P]):
    name: str
    params_type: type[P]
    handler: Handler[P]


Log = Callable[[str], None]


class Dispatcher:
    def __init__(
        self,
        methods: Iterable[MethodSpec[Any]],
        *,
        log: Log,
        known: Iterable[str] = KNOWN_METHODS,
        experimental: frozenset[str] = EXPERIMENTAL_METHODS,
        declared_params: dict[str, type[Any]] | None = None,
        results: Mapping[str, Any] | None = None,
    ) -> None:
        self._methods = {spec.name: spec for spec in methods}
        self._known = tuple(known)
        self._known_set = frozenset(self._known) | frozenset(self._methods)
        self._experimental = experimental
        # Params types of methods not implemented yet, so bad params are still refused.
        self._declared = declared_params or {}
        # method -> the type its results are converted into before they are sent.
        self._results = results or {}
        self._log = log

    def params_types(self) -> dict[str, type[Any]]:
        """method -> the type its params are decoded into, for every method answered."""
        return {name: spec.params_type for name, spec in self._methods.items()}

    async def handle_request(
        self, request: Request, session: Session, peer: Peer
    ) -> JsonValue | Deferred:
        """The result for `request`, or a :class:`Deferred` one to send when it is done;
        raises :class:`RpcError` for an error response."""
        method = request.method
        if method not in self._known_set:
            raise errors.unknown_method(method, self._known)
        spec = self._methods.get(method)
        params_type = spec.params_type if spec else self._declared.get(method, EmptyParams)
        params = decode_params(request.params, params_type)
        self._gate(method, request.params, params_type, session)
        if spec is None:
            raise errors.not_supported(method)
        try:
            result = await spec.handler(RequestContext(method, session, peer), params)
        except errors.RpcError:
            raise
        except Exception as exc:  # the connection must survive a handler's bug
            raise self._crashed(method, exc) from exc
        if isinstance(result, Deferred):
            return Deferred(self._finish(method, result))
        return self._typed(method, result)

    async def _finish(self, method: str, deferred: Deferred) -> JsonValue:
        """A deferred result, its failures answered as a handler's are."""
        try:
            result = await deferred.work
        except errors.RpcError:
            raise
        except Exception as exc:
            raise self._crashed(method, exc) from exc
        return self._typed(method, result)

    def _typed(self, method: str, result: JsonValue) -> JsonValue:
        """The result as its method's declared type (`result_types`): a field the type does
        not declare, or one of the wrong type, is a handler bug and answered as one."""
        result_type = self._results.get(method)
        if result_type is None:
            return result
        import msgspec

        try:
            typed: JsonValue = msgspec.to_builtins(msgspec.convert(result, result_type))
        except msgspec.ValidationError as exc:
            raise self._crashed(method, exc) from exc
        return typed

    def _crashed(self, method: str, exc: Exception) -> errors.RpcError:
        self._log(f"error: {method} failed: {type(exc).__name__}: {exc}")
        return errors.internal_error(f"{method} failed: {exc}")

    def handle_notification(self, notification: Notification, session: Session) -> None:
        if notification.method == "initialized":
            session.client_ready = True
        # Other client notifications carry nothing pycodex acts on; Codex ignores them too.

    def _gate(self, method: str, raw: JsonValue, params_type: type[Any], session: Session) -> None:
        if method == INITIALIZE:
            if session.initialized:
                raise errors.already_initialized()
            return
        if not session.initialized:
            raise errors.not_initialized()
        if session.experimental_api:
            return
        if method in self._experimental:
            raise errors.experimental_required(method)
        check_experimental_fields(method, raw, params_type)
