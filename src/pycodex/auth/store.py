"""`auth.json`: where `pycodex login` keeps an API key or ChatGPT tokens.

The file is shared in format with Codex (`{"auth_mode": "apikey", "OPENAI_API_KEY": ...}`,
or `"auth_mode": "chatgpt"` with a `tokens` table and `last_refresh`) so a Codex login
works for pycodex through the read-only fallback to Codex's home.
Writes are atomic (temp file + rename) and the file is created 0600 from the start, so a
secret is never readable by others, even for an instant, and a failed write leaves the
previous file whole.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import msgspec

AUTH_FILE = "auth.json"


class AuthFileError(Exception):
    """auth.json exists but cannot be read or understood."""


class ChatgptTokens(msgspec.Struct, frozen=True):
    id_token: str
    access_token: str
    refresh_token: str
    account_id: str | None = None


class StoredAuth(msgspec.Struct, frozen=True):
    path: Path
    auth_mode: str
    api_key: str | None
    tokens: ChatgptTokens | None = None
    #: RFC 3339, when the tokens were last obtained or refreshed.
    last_refresh: str | None = None


def utc_now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _tokens_from(data: Any) -> ChatgptTokens | None:
    if not isinstance(data, dict):
        return None
    id_token, access, refresh = (data.get(k) for k in ("id_token", "access_token", "refresh_token"))
    if not (isinstance(id_token, str) and isinstance(access, str) and isinstance(refresh, str)):
        return None  # an incomplete table cannot authenticate anything
    if not (id_token and access and refresh):
        return None
    account = data.get("account_id")
    return ChatgptTokens(
        id_token, access, refresh, account_id=account if isinstance(account, str) else None
    )


def auth_from_json(raw: str, path: Path) -> StoredAuth:
    """Parse the text of an auth.json (or its keyring copy) read from `path`."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise AuthFileError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise AuthFileError(f"{path}: expected a JSON object")
    key = data.get("OPENAI_API_KEY")
    api_key = key if isinstance(key, str) and key else None
    tokens = _tokens_from(data.get("tokens"))
    default_mode = "apikey" if api_key else ("chatgpt" if tokens else "unknown")
    last = data.get("last_refresh")
    return StoredAuth(
        path=path,
        auth_mode=str(data.get("auth_mode") or default_mode),
        api_key=api_key,
        tokens=tokens,
        last_refresh=last if isinstance(last, str) else None,
    )


def auth_to_json(auth: StoredAuth) -> str:
    body: dict[str, Any] = {"auth_mode": auth.auth_mode, "OPENAI_API_KEY": auth.api_key}
    if auth.tokens is not None:
        body["tokens"] = msgspec.to_builtins(auth.tokens)
        body["last_refresh"] = auth.last_refresh
    elif auth.api_key is not None and auth.auth_mode == "apikey":
        body = {"auth_mode": "apikey", "OPENAI_API_KEY": auth.api_key}  # Codex's exact shape
    return json.dumps(body, indent=2) + "\n"


def read_auth(path: Path) -> StoredAuth | None:
    """The stored credentials at `path`, or None when there is no file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuthFileError(f"{path}: cannot read: {exc.strerror}") from exc
    return auth_from_json(raw, path)


def write_private_file(target: Path, body: str) -> Path:
    """Write `body` to `target` atomically, mode 0600 from creation."""
    target.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only when saving: not on every run's way to its first request

    fd, tmp = tempfile.mkstemp(prefix=".auth.", dir=target.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_auth(home: Path, auth: StoredAuth) -> Path:
    """Store `auth` in `home/auth.json` (mode 0600, atomic)."""
    return write_private_file(home / AUTH_FILE, auth_to_json(auth))


def write_api_key(home: Path, api_key: str) -> Path:
    """Store `api_key` in `home/auth.json` (mode 0600, atomic)."""
    return write_auth(home, StoredAuth(path=home / AUTH_FILE, auth_mode="apikey", api_key=api_key))


def delete_auth(home: Path) -> bool:
    """Remove `home/auth.json`; False when there was none."""
    try:
        (home / AUTH_FILE).unlink()
    except FileNotFoundError:
        return False
    return True


def mask_api_key(key: str) -> str:
    """`sk-test-***bcdef`: enough to recognise a key, not enough to use it."""
    if len(key) <= 13:
        return "***"
    return f"{key[:8]}***{key[-5:]}"
