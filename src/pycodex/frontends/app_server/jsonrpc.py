"""JSON-RPC messages as Codex's app-server writes them: JSON-RPC 2.0 without the
``jsonrpc`` field, one JSON object per message.

Key order follows the reference transcripts (clients do not care, diffs and humans do):
responses ``{id, result}``, errors ``{error, id}``, notifications
``{method, params, emittedAtMs}``, server requests ``{method, id, params}``. Incoming
messages may carry ``"jsonrpc": "2.0"``; it is accepted and ignored.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

RequestId: TypeAlias = int | str
JsonValue: TypeAlias = Any


class MalformedMessage(ValueError):
    """Bytes that are not one JSON-RPC message; the text says what is wrong with them."""


class ErrorObject(msgspec.Struct, frozen=True, kw_only=True):
    code: int
    message: str
    data: JsonValue | None = None

    def to_json(self) -> dict[str, JsonValue]:
        body: dict[str, JsonValue] = {"code": self.code, "message": self.message}
        if self.data is not None:
            body["data"] = self.data
        return body


class Request(msgspec.Struct, frozen=True, kw_only=True):
    id: RequestId
    method: str
    params: JsonValue | None = None


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    params: JsonValue | None = None


class Response(msgspec.Struct, frozen=True, kw_only=True):
    id: RequestId
    result: JsonValue


class ErrorResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: RequestId | None
    error: ErrorObject


Message: TypeAlias = Request | Notification | Response | ErrorResponse

_ENCODER = msgspec.json.Encoder()


def encode_request(request_id: RequestId, method: str, params: JsonValue | None) -> bytes:
    """A server→client request."""
    body: dict[str, JsonValue] = {"method": method, "id": request_id}
    if params is not None:
        body["params"] = params
    return _ENCODER.encode(body)


def encode_notification(method: str, params: JsonValue | None, emitted_at_ms: int) -> bytes:
    body: dict[str, JsonValue] = {"method": method}
    if params is not None:
        body["params"] = params
    body["emittedAtMs"] = emitted_at_ms
    return _ENCODER.encode(body)


def encode_response(request_id: RequestId, result: JsonValue) -> bytes:
    return _ENCODER.encode({"id": request_id, "result": result})


def encode_error(request_id: RequestId | None, error: ErrorObject) -> bytes:
    return _ENCODER.encode({"error": error.to_json(), "id": request_id})


def decode_message(data: bytes | str) -> Message:
    """One incoming message; :class:`MalformedMessage` when it is not one."""
    text = _as_text(data)
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise MalformedMessage(str(exc)) from None
    if not isinstance(value, dict):
        raise MalformedMessage(f"expected a JSON object, got {_kind(value)}")
    return _classify(value)


def _as_text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessage(
            f"message is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def _classify(value: dict[str, JsonValue]) -> Message:
    has_id = "id" in value
    if "method" in value:
        method = value["method"]
        if not isinstance(method, str):
            raise MalformedMessage(f"`method` must be a string, got {_kind(method)}")
        if not has_id:
            return Notification(method=method, params=value.get("params"))
        return Request(id=_request_id(value["id"]), method=method, params=value.get("params"))
    if not has_id:
        raise MalformedMessage("a message needs `method` (request, notification) or `id` (response)")
    request_id = _request_id(value["id"])
    if "result" in value:
        return Response(id=request_id, result=value["result"])
    if "error" in value:
        return ErrorResponse(id=request_id, error=_error_object(value["error"]))
    raise MalformedMessage("a response needs `result` or `error`")


def _request_id(raw: JsonValue) -> RequestId:
    # bool is an int subclass in Python but not an id in JSON-RPC.
    if isinstance(raw, str) or (isinstance(raw, int) and not isinstance(raw, bool)):
        return raw
    raise MalformedMessage(f"`id` must be a string or an integer, got {_kind(raw)}")


def _error_object(raw: JsonValue) -> ErrorObject:
    try:
        return msgspec.convert(raw, ErrorObject)
    except msgspec.ValidationError as exc:
        raise MalformedMessage(f"invalid `error`: {exc}") from None


def _kind(value: JsonValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
