"""Editing `config.toml` in place: tomlkit keeps comments and layout around an edit, and
the file is replaced atomically (temp file in the same directory + rename).

Used by the app-server's `config/value/write` / `config/batchWrite` and by the CLI commands
that change the user's config (`mcp add/remove`, `features enable/disable`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pycodex.config.errors import ConfigError


def layer_version(data: Any) -> str:
    """Codex's layer version: sha256 of the layer's table as compact, key-sorted JSON."""
    text = json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_document(text: str, path: Path) -> Any:
    import tomlkit

    try:
        return tomlkit.parse(text)
    except Exception as exc:  # tomlkit's parse errors share no public base class
        raise ConfigError(f"failed to parse {path}: {exc}") from None


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def user_config_for_edit() -> tuple[Path, Any]:
    """`$PYCODEX_HOME/config.toml` and its tomlkit document, for a CLI edit. When pycodex
    has no config.toml yet but Codex has one, the document starts as a copy of Codex's
    (which is never written), so an edit does not drop the user's other settings.
    Raises ConfigError naming the file."""
    from pycodex.config.home import codex_home, pycodex_home

    path = pycodex_home() / "config.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        borrowed = codex_home() / "config.toml"
        try:
            text = borrowed.read_text(encoding="utf-8") if borrowed.is_file() else ""
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"failed to read {borrowed}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"failed to read {path}: {exc}") from None
    return path, parse_document(text, path)


def save_document(path: Path, doc: Any) -> None:
    import tomlkit

    text = tomlkit.dumps(doc)
    atomic_write(path, text if not text or text.endswith("\n") else text + "\n")


class EditError(Exception):
    """An edit that cannot be applied; `code` is Codex's `config_write_error_code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _to_item(value: Any) -> Any:
    import tomlkit

    if isinstance(value, dict):
        table = tomlkit.table()
        for key, inner in value.items():
            if inner is not None:
                table[key] = _to_item(inner)
        return table
    if isinstance(value, list):
        if any(v is None for v in value):
            raise EditError("configValidationError", "arrays cannot contain null")
        return tomlkit.item(value)
    return tomlkit.item(value)


def _merge(container: Any, key: str, value: Any) -> None:
    """Upsert: tables merge key by key (null removes a key); anything else is replaced."""
    current = container.get(key) if key in container else None
    if isinstance(value, dict) and isinstance(current, dict):
        for inner_key, inner in value.items():
            if inner is None:
                if inner_key in current:
                    del current[inner_key]
                continue
            _merge(current, inner_key, inner)
        return
    container[key] = _to_item(value)


def apply_edit(doc: Any, path: list[str], value: Any, strategy: str) -> None:
    """Set (`replace`), deep-merge (`upsert`) or, with a null value, remove `path` in `doc`."""
    import tomlkit

    node = doc
    for depth, part in enumerate(path[:-1]):
        if part not in node:
            if value is None:
                raise EditError("configPathNotFound", f"config path not found: {'.'.join(path)}")
            node[part] = tomlkit.table(is_super_table=True)
        child = node[part]
        if not isinstance(child, dict):
            where = ".".join(path[: depth + 1])
            raise EditError(
                "configValidationError",
                f"cannot write `{'.'.join(path)}`: `{where}` is not a table",
            )
        node = child
    last = path[-1]
    if value is None:
        if last not in node:
            raise EditError("configPathNotFound", f"config path not found: {'.'.join(path)}")
        del node[last]
    elif strategy == "upsert":
        _merge(node, last, value)
    else:
        node[last] = _to_item(value)
