"""Checking config data against `ConfigToml`, with one-line messages that name the culprit.

msgspec converts valid data in one fast call, but it stops at the first problem and its
error paths do not name dict keys (`$.model_providers[...].name`). Users need more: every
unknown key (each one is a warning), missing fields tolerated in a single layer, and
messages naming the file, line and full key path. So valid data takes msgspec's path, and
only data msgspec rejects is walked here, against the same Struct annotations, to list
every issue. TOML types are never coerced: `model_provider = 123` is an error.

The data is what tomllib (or a `-c` override) produces: string keys, lists for arrays.
"""

from __future__ import annotations

import copy
import functools
import operator
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

from pycodex.config.errors import ConfigError
from pycodex.config.features import is_known_feature
from pycodex.config.keypath import KeyPath, format_key_path, locate_key
from pycodex.config.schema import ConfigToml

IssueKind = Literal["unknown", "missing", "type", "choice", "range"]
Location = tuple[str | int, ...]


class Issue(msgspec.Struct, frozen=True):
    """One thing wrong at `path`. `expected` says what would have been accepted:
    "a string", "a boolean or a table", "`a`, `b`" (choices), "greater than 0" (range)."""

    kind: IssueKind
    path: Location
    value: Any = None
    expected: str = ""


# ---------------------------------------------------------------------------
# Walking data against the schema's type annotations
# ---------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    # TOML booleans arrive as Python bools, which are ints; never accept one as a number.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    # An integer is a fine float (`startup_timeout_sec = 20`), as msgspec agrees.
    return _is_int(value) or isinstance(value, float)


_SCALARS: dict[Any, tuple[Callable[[Any], bool], str]] = {
    str: (lambda value: isinstance(value, str), "a string"),
    int: (_is_int, "an integer"),
    float: (_is_number, "a number"),
    bool: (lambda value: isinstance(value, bool), "a boolean"),
    type(None): (lambda value: value is None, "nothing"),
}

_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool], str], ...] = (
    ("gt", operator.gt, "greater than"),
    ("ge", operator.ge, "greater than or equal to"),
    ("lt", operator.lt, "less than"),
    ("le", operator.le, "less than or equal to"),
)


def _is_table_type(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


@functools.cache
def _fields(table_type: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    # Resolving the annotations costs milliseconds for ConfigToml, and only data that
    # failed msgspec's own check gets here; cache per class for the layers that follow.
    return msgspec.structs.fields(table_type)


def _matches(value: Any, tp: Any) -> bool:
    """Whether `value` is of the right kind for `tp` (contents not inspected)."""
    origin = get_origin(tp)
    if tp is Any:
        return True
    if origin is Annotated:
        return _matches(value, get_args(tp)[0])
    if _is_union(tp):
        return any(_matches(value, member) for member in get_args(tp))
    if origin is Literal:
        return any(type(value) is type(choice) for choice in get_args(tp))
    if origin is list:
        return isinstance(value, list)
    if origin is dict or _is_table_type(tp):
        return isinstance(value, dict)
    if tp in _SCALARS:
        return _SCALARS[tp][0](value)
    raise TypeError(f"config validation does not support the schema type {tp!r}")


def _describe(tp: Any) -> str:
    """What users are told a key expects: `a string`, `a boolean or a table`."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _describe(get_args(tp)[0])
    if _is_union(tp):
        members = [m for m in get_args(tp) if m is not type(None)]
        return " or ".join(dict.fromkeys(_describe(member) for member in members))
    if origin is Literal:
        return f"one of {_choices(tp)}"
    if origin is list:
        return "an array"
    if origin is dict or _is_table_type(tp):
        return "a table"
    if tp in _SCALARS:
        return _SCALARS[tp][1]
    raise TypeError(f"config validation does not support the schema type {tp!r}")


def _choices(literal: Any) -> str:
    # In the order the schema lists them (msgspec.inspect would sort them).
    return ", ".join(f"`{choice}`" for choice in get_args(literal))


def _violated_bound(value: Any, metadata: list[Any]) -> str | None:
    for meta in metadata:
        if not isinstance(meta, msgspec.Meta):
            continue
        for attr, holds, words in _BOUNDS:
            bound = getattr(meta, attr)
            if bound is not None and not holds(value, bound):
                return f"{words} {bound}"
    return None


def _walk(value: Any, tp: Any, path: Location, out: list[Issue]) -> None:
    """Append to `out` every issue of `value` against `tp`, in schema order."""
    origin = get_origin(tp)
    if tp is Any:
        return
    if origin is Annotated:
        base, *metadata = get_args(tp)
        _walk(value, base, path, out)
        bound = _violated_bound(value, metadata) if _matches(value, base) else None
        if bound is not None:
            out.append(Issue("range", path, value, bound))
    elif _is_union(tp):
        _walk_union(value, tp, path, out)
    elif origin is Literal:
        if not any(type(value) is type(c) and value == c for c in get_args(tp)):
            out.append(Issue("choice", path, value, _choices(tp)))
    elif not _matches(value, tp):
        out.append(Issue("type", path, value, _describe(tp)))
    elif _is_table_type(tp):
        _walk_table(value, tp, path, out)
    elif origin is dict:
        item_type = get_args(tp)[1]
        for key, item in value.items():
            _walk(item, item_type, (*path, key), out)
    elif origin is list:
        (item_type,) = get_args(tp)
        for index, item in enumerate(value):
            _walk(item, item_type, (*path, index), out)


def _walk_union(value: Any, tp: Any, path: Location, out: list[Issue]) -> None:
    members = [m for m in get_args(tp) if m is not type(None)]
    if value is None and len(members) < len(get_args(tp)):
        return
    if len(members) == 1:
        # `X | None`: a bad value is reported as X reports it (e.g. "one of ...").
        _walk(value, members[0], path, out)
        return
    for member in members:
        if _matches(value, member):
            _walk(value, member, path, out)
            return
    out.append(Issue("type", path, value, _describe(tp)))


def _walk_table(
    table: dict[str, Any], table_type: type[msgspec.Struct], path: Location, out: list[Issue]
) -> None:
    # Declared keys in declaration order, then unknown keys in file order: the first
    # error shown (and the order of warnings) does not depend on how a file is sorted.
    known: set[str] = set()
    for field in _fields(table_type):
        known.add(field.encode_name)
        if field.encode_name in table:
            _walk(table[field.encode_name], field.type, (*path, field.encode_name), out)
        elif field.required:
            out.append(Issue("missing", (*path, field.encode_name)))
    out.extend(Issue("unknown", (*path, key), table[key]) for key in table if key not in known)


def find_issues(data: dict[str, Any]) -> list[Issue]:
    """Every issue in one layer (or the merged layers), first in schema order."""
    issues: list[Issue] = []
    _walk(data, ConfigToml, (), issues)
    return issues


def _convert(data: dict[str, Any]) -> ConfigToml | None:
    try:
        return msgspec.convert(data, ConfigToml, strict=True)
    except msgspec.ValidationError:
        return None


# ---------------------------------------------------------------------------
# One-line messages
# ---------------------------------------------------------------------------

# Extra help where the mistake is a known Codex pitfall.
_HINTS: dict[str, str] = {
    "tools.update_plan": " (write `[tools.update_plan]` with `enabled = true` or `false`)",
}


def describe_value(value: Any) -> str:
    """`integer 123`, `string "x"`, `boolean true`: how a TOML value is shown to users."""
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"float {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f'string "{shown}"'
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {value}"


def unknown_field_message(path: KeyPath, source: str) -> str:
    return f"unknown configuration field `{format_key_path(path)}` in {source}"


def _where(source: str, text: str | None, path: KeyPath) -> str:
    if text is not None:
        position = locate_key(text, path)
        if position is not None:
            return f"{source}:{position[0]}:{position[1]}"
    return source


def format_issue(issue: Issue, source: str, text: str | None) -> str:
    """One line: `<source>[:line:col]: <what is wrong with which key>`."""
    if issue.kind == "unknown":
        return unknown_field_message(issue.path, source)
    key = format_key_path(issue.path)
    where = _where(source, text, issue.path)
    if issue.kind == "missing":
        return f"{where}: missing required field `{key}`"
    got = describe_value(issue.value)
    if issue.kind == "type":
        hint = _HINTS.get(key, "")
        return f"{where}: invalid type for `{key}`: expected {issue.expected}, got {got}{hint}"
    if issue.kind == "choice":
        return f"{where}: invalid value for `{key}`: expected one of {issue.expected}, got {got}"
    return f"{where}: invalid value for `{key}`: input should be {issue.expected}, got {got}"


# ---------------------------------------------------------------------------
# Layer and effective-config validation
# ---------------------------------------------------------------------------


class LayerCheck(msgspec.Struct):
    """A layer's data with unknown keys removed, and the warnings that removal produced."""

    data: dict[str, Any]
    warnings: list[str] = msgspec.field(default_factory=list)


def _unknown_feature_paths(data: dict[str, Any]) -> list[list[str | int]]:
    paths: list[list[str | int]] = []

    def scan(table: Any, prefix: list[str | int]) -> None:
        if isinstance(table, dict):
            paths.extend([*prefix, name] for name in table if not is_known_feature(name))

    scan(data.get("features"), ["features"])
    profiles = data.get("profiles")
    if isinstance(profiles, dict):
        for name, profile in profiles.items():
            if isinstance(profile, dict):
                scan(profile.get("features"), ["profiles", name, "features"])
    return paths


def _delete_path(data: dict[str, Any], path: KeyPath) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


# Tolerated in a single layer: a missing field may be given by another layer, and
# unknown keys become warnings.
_LAYER_TOLERATED: frozenset[IssueKind] = frozenset({"unknown", "missing"})


def check_layer(
    data: dict[str, Any], *, source: str, text: str | None = None, strict: bool = False
) -> LayerCheck:
    """Validate one layer on its own so errors can name the file (and line) they are in.

    Missing required fields are not errors here: a layer may extend a table another layer
    defines (`-c model_providers.x.base_url=...`). `validate_effective` catches them.
    """
    issues = [] if _convert(data) is not None else find_issues(data)
    fatal = next((issue for issue in issues if issue.kind not in _LAYER_TOLERATED), None)
    if fatal is not None:
        raise ConfigError(format_issue(fatal, source, text))
    unknown = [list(issue.path) for issue in issues if issue.kind == "unknown"]
    unknown.extend(_unknown_feature_paths(data))
    if not unknown:
        return LayerCheck(data)
    if strict:
        raise ConfigError(unknown_field_message(unknown[0], source))
    cleaned = copy.deepcopy(data)
    for path in unknown:
        _delete_path(cleaned, path)
    return LayerCheck(cleaned, [unknown_field_message(path, source) for path in unknown])


Blame = Callable[[KeyPath], tuple[str, str | None]]


def validate_effective(data: dict[str, Any], blame: Blame) -> ConfigToml:
    """Validate the merged layers. `blame(path)` names the layer that set `path`
    (source label and file text) so the message still points at a file."""
    try:
        return msgspec.convert(data, ConfigToml, strict=True)
    except msgspec.ValidationError as exc:
        rejection = str(exc)
    issues = find_issues(data)
    if not issues:
        # msgspec enforces a rule the walk does not know; its words still name the key.
        raise ConfigError(f"invalid configuration: {rejection}")
    source, text = blame(issues[0].path)
    raise ConfigError(format_issue(issues[0], source, text))
