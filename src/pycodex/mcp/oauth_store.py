"""Where `pycodex mcp login` keeps OAuth credentials of streamable-HTTP MCP servers.

One file, `$PYCODEX_HOME/mcp_oauth_credentials.json` (mode 0600 from creation, replaced
atomically), with one entry per server name:

    {"<name>": {"url": "...", "tokens": {...}, "expires_at": 1760000000.0,
                "client_info": {...}, "token_endpoint": "https://.../token"}}

An entry belongs to the server's URL: when the config points the name somewhere else, the
entry is ignored (and replaced by the next login). `expires_at` is absolute, so a token
saved yesterday is known to be stale today (OAuth's `expires_in` is relative to the
response). Standard library only: `mcp list` reads it without loading the MCP SDK.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pycodex.auth.store import write_private_file

CREDENTIALS_FILE = "mcp_oauth_credentials.json"
Json = dict[str, Any]


class OAuthStoreError(Exception):
    """The credentials file cannot be read (says which and why)."""


def _path(home: Path) -> Path:
    return home / CREDENTIALS_FILE


def _read_all(home: Path) -> dict[str, Json]:
    path = _path(home)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OAuthStoreError(f"{path}: cannot read MCP OAuth credentials: {exc}") from exc
    if not isinstance(data, dict):
        raise OAuthStoreError(f"{path}: expected a JSON object of MCP OAuth credentials")
    return {name: entry for name, entry in data.items() if isinstance(entry, dict)}


def load_entry(home: Path, name: str, url: str) -> Json | None:
    """The stored credentials of server `name` at `url`, or None."""
    entry = _read_all(home).get(name)
    if entry is None or entry.get("url") != url:
        return None
    return entry


def has_tokens(home: Path, name: str, url: str) -> bool:
    try:
        entry = load_entry(home, name, url)
    except OAuthStoreError:
        return False
    return bool(entry and isinstance(entry.get("tokens"), dict))


def update_entry(home: Path, name: str, url: str, **fields: Any) -> None:
    """Merge `fields` into the entry of `name` (a new entry when its URL changed)."""
    entries = _read_all(home)
    entry = entries.get(name)
    if entry is None or entry.get("url") != url:
        entry = {"url": url}
    entry.update(fields)
    entries[name] = entry
    write_private_file(_path(home), json.dumps(entries, indent=2, sort_keys=True) + "\n")


def save_tokens(home: Path, name: str, url: str, tokens: Json) -> None:
    expires_in = tokens.get("expires_in")
    expires_at = time.time() + float(expires_in) if isinstance(expires_in, (int, float)) else None
    update_entry(home, name, url, tokens=tokens, expires_at=expires_at)


def delete_entry(home: Path, name: str) -> bool:
    """Remove the credentials of `name`; False when there were none."""
    entries = _read_all(home)
    if entries.pop(name, None) is None:
        return False
    write_private_file(_path(home), json.dumps(entries, indent=2, sort_keys=True) + "\n")
    return True
