"""Reading config layers: TOML files, `-c key=value` overrides, profiles, project files.

This module finds and parses layers; it does not validate their contents (`schema`) or
decide what they mean (`config`). Precedence, lowest first: built-in defaults < user
`config.toml` < profile (`[profiles.NAME]`, then `NAME.config.toml`) < trusted project
layers (repo root down to cwd) < `-c` overrides < explicit CLI flags.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec

from pycodex.config.errors import ConfigError
from pycodex.config.home import expand_user
from pycodex.config.keypath import parse_dotted_key

CONFIG_FILENAME = "config.toml"
# Codex reads `.codex/`; pycodex also reads `.pycodex/` and lets it win in the same dir.
PROJECT_CONFIG_DIRS: tuple[str, ...] = (".codex", ".pycodex")
CLI_OVERRIDE_SOURCE = "-c/--config override"
FLAGS_SOURCE = "command-line flags"

LayerKind = Literal["user", "profile", "project", "cli", "flags"]


class ConfigLayer(msgspec.Struct, frozen=True):
    kind: LayerKind
    source: str  # what messages call it: a file path, or CLI_OVERRIDE_SOURCE / FLAGS_SOURCE
    data: dict[str, Any]
    path: Path | None = None
    text: str | None = None  # the file text, to point messages at a line


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def _decode_error_message(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    match = _TOML_POSITION.search(message)
    if match:
        line, col = int(match.group(1)), int(match.group(2))
        message = message[: match.start()]
    else:
        # tomllib reports errors on the last character as "at end of document".
        lines = text.splitlines() or [""]
        line, col = len(lines), len(lines[-1]) + 1
        message = _TOML_AT_END.sub("", message)
    message = message[:1].lower() + message[1:]
    return f"{path}:{line}:{col}: {message}"


def parse_toml_text(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_decode_error_message(path, text, exc)) from None


def read_toml_file(path: Path) -> tuple[dict[str, Any], str] | None:
    """`(table, text)` for an existing file, None if there is no file; ConfigError if it is
    unreadable or not valid TOML."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"{path}:{line}:{col}: invalid UTF-8") from None
    return parse_toml_text(text, path), text


def load_file_layer(path: Path, kind: LayerKind) -> ConfigLayer | None:
    loaded = read_toml_file(path)
    if loaded is None:
        return None
    data, text = loaded
    return ConfigLayer(kind=kind, source=str(path), data=data, path=path, text=text)


# ---------------------------------------------------------------------------
# -c key=value overrides
# ---------------------------------------------------------------------------


def parse_override(arg: str) -> tuple[list[str], Any]:
    """`a.b."c.d"=value` -> (["a", "b", "c.d"], parsed value).

    The value is parsed as a TOML value; if that fails it is taken as a raw string, so
    `-c model=gpt-5.6-luna` works without shell-escaped quotes (as in Codex).
    """
    key_text, sep, value_text = arg.partition("=")
    if not sep:
        raise ConfigError(f"invalid -c/--config override `{arg}`: expected key=value")
    try:
        path, end = parse_dotted_key(key_text)
    except ValueError as exc:
        raise ConfigError(f"invalid -c/--config override `{arg}`: bad key: {exc}") from None
    if key_text[end:].strip():
        raise ConfigError(
            f"invalid -c/--config override `{arg}`: bad key: unexpected `{key_text[end:].strip()}`"
        )
    return path, parse_override_value(value_text.strip())


def parse_override_value(text: str) -> Any:
    try:
        table = tomllib.loads(f"x = {text}")
    except tomllib.TOMLDecodeError:
        return text
    # `1\ny = 2` parses as two keys; that is not one value, so keep it as a string.
    if set(table) != {"x"}:
        return text
    return table["x"]


def set_path(table: dict[str, Any], path: Sequence[str], value: Any) -> None:
    node = table
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            # A later override of a nested key replaces an earlier scalar, as layers do.
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


def overrides_layer(args: Iterable[str]) -> ConfigLayer | None:
    data: dict[str, Any] = {}
    count = 0
    for arg in args:
        path, value = parse_override(arg)
        set_path(data, path, value)
        count += 1
    if not count:
        return None
    return ConfigLayer(kind="cli", source=CLI_OVERRIDE_SOURCE, data=data)


# ---------------------------------------------------------------------------
# Merging
# ---------------------------------------------------------------------------


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else (including arrays) is replaced whole."""
    merged: dict[str, Any] = dict(base)
    for key, value in overlay.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def merge_layers(layers: Iterable[ConfigLayer]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = deep_merge(merged, layer.data)
    return merged


# ---------------------------------------------------------------------------
# Projects and trust
# ---------------------------------------------------------------------------


def find_project_root(cwd: Path) -> Path:
    """Nearest ancestor of `cwd` (inclusive) holding `.git` (dir or worktree file)."""
    for directory in (cwd, *cwd.parents):
        if (directory / ".git").exists():
            return directory
    return cwd


def project_config_files(root: Path, cwd: Path) -> list[Path]:
    """Existing project config files, lowest precedence first: root before cwd, and
    `.codex/` before `.pycodex/` within one directory."""
    chain = [cwd]
    if cwd != root:
        for parent in cwd.parents:
            chain.append(parent)
            if parent == root:
                break
    files: list[Path] = []
    for directory in reversed(chain):
        for dirname in PROJECT_CONFIG_DIRS:
            candidate = directory / dirname / CONFIG_FILENAME
            if candidate.is_file():
                files.append(candidate)
    return files


def _normalize(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


def project_trust(
    cwd: Path, projects: Mapping[str, Any], env: Mapping[str, str] | None
) -> tuple[bool, Path | None]:
    """Whether `cwd` is trusted, and the `[projects]` entry that decided it.

    The nearest entry among cwd and its ancestors wins, so a subdirectory marked
    `untrusted` stays untrusted inside a trusted repo.
    """
    levels: dict[Path, str] = {}
    for key, entry in projects.items():
        if isinstance(entry, Mapping) and isinstance(entry.get("trust_level"), str):
            levels[_normalize(expand_user(key, env))] = entry["trust_level"]
    for directory in (cwd, *cwd.parents):
        level = levels.get(directory)
        if level is not None:
            return level == "trusted", directory
    return False, None
