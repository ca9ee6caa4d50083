"""Params checked against typed msgspec structs, with errors worded as Codex's serde words
them (`Invalid request: invalid type: integer `123`, expected a string`).

msgspec validates strictly in C and says *where* ("at `$.cwd`"); serde says *what it got*.
The value is looked up at msgspec's path so the message is Codex's, word for word, for the
cases clients meet (wrong type, missing field); anything rarer keeps msgspec's own text.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, TypeVar

import msgspec

from pycodex.frontends.app_server.errors import experimental_required, invalid_request
from pycodex.frontends.app_server.jsonrpc import JsonValue


class Params(msgspec.Struct, kw_only=True, rename="camel"):
    """Base of every request's params: camelCase on the wire, unknown keys ignored (serde's
    default, so a newer client's extra fields do not fail a request)."""

    # Wire names of fields that need `capabilities.experimentalApi` when set.
    EXPERIMENTAL_FIELDS: ClassVar[frozenset[str]] = frozenset()


P = TypeVar("P", bound=Params)

_TYPE_MISMATCH = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `[^`]+`(?: - at `\$(?P<path>[^`]*)`)?$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`")
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def decode_params(raw: JsonValue, cls: type[P]) -> P:
    """`raw` (a request's `params`) as `cls`; :class:`RpcError` (-32600) when it does not fit."""
    value = {} if raw is None else raw
    if not isinstance(value, dict):
        raise invalid_request(f"Invalid request: invalid type: {_unexpected(value)}, expected a map")
    try:
        return msgspec.convert(value, cls)
    except msgspec.ValidationError as exc:
        raise invalid_request(f"Invalid request: {_serde_wording(str(exc), value)}") from None


def check_experimental_fields(method: str, raw: JsonValue, cls: type[Params]) -> None:
    """Refuse a set experimental field (`turn/start.environments`) without the capability."""
    if not cls.EXPERIMENTAL_FIELDS or not isinstance(raw, dict):
        return
    for name in sorted(cls.EXPERIMENTAL_FIELDS):
        if raw.get(name) not in (None, False, [], {}):
            raise experimental_required(f"{method}.{name}")


def _serde_wording(message: str, params: dict[str, Any]) -> str:
    mismatch = _TYPE_MISMATCH.match(message)
    if mismatch:
        found, value = _lookup(params, mismatch.group("path") or "")
        if found:
            return f"invalid type: {_unexpected(value)}, expected {_expected(mismatch.group('expected'))}"
    missing = _MISSING.match(message)
    if missing:
        return f"missing field `{missing.group('field')}`"
    return message


def _lookup(params: Any, path: str) -> tuple[bool, Any]:
    value = params
    for key, index in _PATH_PART.findall(path):
        try:
            value = value[int(index)] if index else value[key]
        except (KeyError, IndexError, TypeError):
            return False, None
    return True, value


def _unexpected(value: Any) -> str:
    """serde's `Unexpected` rendering of a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, list):
        return "sequence"
    return "map"


_EXPECTED = {
    "str": "a string",
    "bool": "a boolean",
    "int": "i64",
    "float": "f64",
    "array": "a sequence",
    "object": "a map",
}


def _expected(msgspec_type: str) -> str:
    # `str | null` is an Option<String> in Codex: serde names the inner type only.
    names = [name for name in msgspec_type.split(" | ") if name != "null"]
    if len(names) == 1 and names[0] in _EXPECTED:
        return _EXPECTED[names[0]]
    return msgspec_type
