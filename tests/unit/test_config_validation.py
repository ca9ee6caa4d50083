"""The validation walk and msgspec agree on what config is valid.

Valid layers take msgspec's fast path and only rejected ones are walked for messages, so
the two must accept exactly the same TOML data, for every key of the schema.
"""

from __future__ import annotations

import datetime
import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

import msgspec
import pytest

from pycodex.config import ConfigError, validation
from pycodex.config.keypath import KeyPath
from pycodex.config.schema import ConfigToml
from pycodex.config.validation import Issue, check_layer, find_issues, validate_effective

# TOML-shaped data (what tomllib produces): string keys, lists, no None except where the
# built-in provider tables use it.
SAMPLES: list[dict[str, Any]] = [
    {},
    {"model": "m", "model_providers": {"x": {"name": "X", "request_max_retries": 0}}},
    {"model_providers": {"openai": {"name": "OpenAI", "base_url": None}}},
    {"model": 1},
    {"model": datetime.date(1979, 5, 27)},
    {"approval_policy": "never"},
    {"approval_policy": "nope"},
    {"approval_policy": 1},
    {"model_context_window": 1},
    {"model_context_window": 0},
    {"model_context_window": True},
    {"model_context_window": 1.0},
    {"history": {"max_bytes": 0}},
    {"history": {"max_bytes": -1}},
    {"history": [{"max_bytes": 1}]},
    {"mcp_servers": {"x": {"startup_timeout_sec": 20}}},
    {"mcp_servers": {"x": {"startup_timeout_sec": -0.5}}},
    {"mcp_servers": {"x": {"startup_timeout_sec": True}}},
    {"tools": {"web_search": True}},
    {"tools": {"web_search": {"a": 1}}},
    {"tools": {"web_search": 3}},
    {"tools": {"update_plan": True}},
    {"tools": {"update_plan": {"enabled": False}}},
    {"notify": ["a"]},
    {"notify": ["a", 1]},
    {"notify": "a"},
    {"features": {"memories": True}},
    {"features": {"memories": 1}},
    {"profiles": {"p": {"model": "m"}}},
    {"profiles": {"p": {"model": 2}}},
    {"profiles": 1},
    {"projects": {"/a": {"trust_level": "trusted"}}},
    {"projects": {"/a": {"trust_level": "maybe"}}},
    {"model_providers": {"x": {"base_url": "u"}}},
    {"zz": 1},
    {"history": {"zz": 1}},
    {"analytics": {"anything": [1, "goes"]}},
    {"shell_environment_policy": {"set": {"A": "1"}}},
    {"shell_environment_policy": {"set": {"A": 1}}},
]


def msgspec_accepts(data: dict[str, Any]) -> bool:
    try:
        msgspec.convert(data, ConfigToml, strict=True)
    except msgspec.ValidationError:
        return False
    return True


@pytest.mark.parametrize("data", SAMPLES, ids=repr)
def test_walk_finds_issues_exactly_when_msgspec_rejects(data: dict[str, Any]) -> None:
    assert (find_issues(data) == []) == msgspec_accepts(data)


def _table_type(tp: Any) -> tuple[type[msgspec.Struct], bool] | None:
    """(table type, keyed by name?) when `tp` is `T | None` or `dict[str, T] | None`."""
    members = get_args(tp) if get_origin(tp) in (Union, types.UnionType) else (tp,)
    for member in members:
        if isinstance(member, type) and issubclass(member, msgspec.Struct):
            return member, False
        value_type = get_args(member)[-1] if get_origin(member) is dict else None
        if isinstance(value_type, type) and issubclass(value_type, msgspec.Struct):
            return value_type, True
    return None


def schema_keys(
    table: type[msgspec.Struct], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every key path of the schema (named tables get the name `k`) and its type."""
    for field in msgspec.structs.fields(table):
        path = (*prefix, field.encode_name)
        yield path, field.type
        nested = _table_type(field.type)
        if nested is not None:
            yield from schema_keys(nested[0], (*path, "k") if nested[1] else path)


def nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = {path[-1]: value}
    for part in reversed(path[:-1]):
        data = {part: data}
    return data


def test_every_schema_key_rejects_a_value_of_the_wrong_kind() -> None:
    keys = list(schema_keys(ConfigToml))
    # Nested tables are reached, so the loop below covers more than the top level.
    assert {
        ("profiles", "k", "model_providers", "k", "request_max_retries"),
        ("tools", "update_plan", "enabled"),
    } <= {path for path, _ in keys}
    wrong: list[str] = []
    for path, tp in keys:
        if tp is Any:
            continue
        data = nest(path, object())
        issues = [issue for issue in find_issues(data) if issue.kind != "missing"]
        if [(i.kind in ("type", "choice"), i.path) for i in issues] != [(True, path)]:
            wrong.append(f"{path}: {issues}")
        elif msgspec_accepts(data):
            wrong.append(f"{path}: msgspec accepts what the walk rejects")
    assert wrong == []


def test_keys_typed_any_accept_anything() -> None:
    assert find_issues({"analytics": object(), "debug": [1, "x"]}) == []


def test_layer_tolerates_a_missing_required_key_another_layer_may_give() -> None:
    data = {"model_providers": {"x": {"base_url": "u"}}}
    assert find_issues(data) == [Issue("missing", ("model_providers", "x", "name"))]
    assert check_layer(data, source="-c/--config override").warnings == []


def test_effective_config_reports_a_missing_required_key() -> None:
    def blame(path: KeyPath) -> tuple[str, str | None]:
        return "layer", None

    with pytest.raises(
        ConfigError, match=r"^layer: missing required field `model_providers.x.name`$"
    ):
        validate_effective({"model_providers": {"x": {"base_url": "u"}}}, blame)


def test_effective_config_falls_back_to_msgspec_words_if_the_walk_misses_a_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(validation, "find_issues", lambda data: [])
    with pytest.raises(ConfigError) as excinfo:
        validate_effective({"model": 1}, lambda path: ("layer", None))
    message = str(excinfo.value)
    assert message.startswith("invalid configuration: ")
    assert "`$.model`" in message
    assert "\n" not in message


def test_valid_effective_config_becomes_structs() -> None:
    toml = validate_effective(
        {"model_providers": {"x": {"name": "X"}}, "history": {"max_bytes": 5}},
        lambda path: ("layer", None),
    )
    assert isinstance(toml, ConfigToml)
    assert toml.model_providers is not None
    assert toml.model_providers["x"].name == "X"
    assert toml.history is not None and toml.history.max_bytes == 5
