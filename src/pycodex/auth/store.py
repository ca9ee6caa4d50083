"""`auth.json`: where `pycodex login` keeps an API key.

The file is shared in format with Codex (`{"auth_mode": "apikey", "OPENAI_API_KEY": ...}`)
so a Codex login works for pycodex through the read-only fallback to Codex's home.
Writes are atomic (temp file + rename) and the file is created 0600 from the start, so a
key is never readable by others, even for an instant.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import msgspec

AUTH_FILE = "auth.json"


class AuthFileError(Exception):
    """auth.json exists but cannot be read or understood."""


class StoredAuth(msgspec.Struct, frozen=True):
    path: Path
    auth_mode: str
    api_key: str | None


def read_auth(path: Path) -> StoredAuth | None:
    """The stored credentials at `path`, or None when there is no file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuthFileError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise AuthFileError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise AuthFileError(f"{path}: expected a JSON object")
    key = data.get("OPENAI_API_KEY")
    mode = data.get("auth_mode") or ("apikey" if key else "unknown")
    return StoredAuth(path=path, auth_mode=str(mode), api_key=key if isinstance(key, str) and key else None)


def write_api_key(home: Path, api_key: str) -> Path:
    """Store `api_key` in `home/auth.json` (mode 0600, atomic)."""
    home.mkdir(parents=True, exist_ok=True)
    target = home / AUTH_FILE
    body = json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": api_key}, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".auth.", dir=home)  # mkstemp creates it 0600
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
