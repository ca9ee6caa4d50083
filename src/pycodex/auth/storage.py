"""Where credentials live: `auth.json` in the pycodex home, or the system keyring.

`cli_auth_credentials_store` chooses: `file` (default), `keyring` (an error when no keyring
backend exists), `auto` (the keyring when one exists, else the file — and the caller is
told, so the user knows where the secret went). The `keyring` package is imported only
for those two modes. Codex's home is read as a fallback and never written.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Protocol

import msgspec

from pycodex.auth.errors import CredentialStoreError
from pycodex.auth.store import (
    AUTH_FILE,
    StoredAuth,
    auth_from_json,
    auth_to_json,
    delete_auth,
    read_auth,
    write_auth,
)

STORE_MODES = ("file", "keyring", "auto")
KEYRING_SERVICE = "pycodex Auth"


class CredentialStore(Protocol):
    name: str

    def location(self) -> str: ...
    def load(self) -> StoredAuth | None: ...
    def save(self, auth: StoredAuth) -> None: ...
    def delete(self) -> bool: ...


class FileStore:
    name = "file"

    def __init__(self, home: Path) -> None:
        self.home = home

    def location(self) -> str:
        return str(self.home / AUTH_FILE)

    def load(self) -> StoredAuth | None:
        return read_auth(self.home / AUTH_FILE)

    def save(self, auth: StoredAuth) -> None:
        write_auth(self.home, auth)

    def delete(self) -> bool:
        return delete_auth(self.home)


class KeyringStore:
    """One keyring entry per pycodex home: two homes never share credentials."""

    name = "keyring"

    def __init__(self, home: Path, backend: Any) -> None:
        self.home = home
        self._backend = backend
        digest = hashlib.sha256(str(home.resolve()).encode("utf-8")).hexdigest()[:16]
        self.account = f"cli|{digest}"

    def location(self) -> str:
        return f"the system keyring ({KEYRING_SERVICE}, {self.account})"

    def load(self) -> StoredAuth | None:
        raw = self._call("read", self._backend.get_password, KEYRING_SERVICE, self.account)
        return None if raw is None else auth_from_json(raw, self.home / AUTH_FILE)

    def save(self, auth: StoredAuth) -> None:
        self._call("write", self._backend.set_password, KEYRING_SERVICE, self.account,
                   auth_to_json(auth))

    def delete(self) -> bool:
        if self.load() is None:
            return False
        self._call("delete", self._backend.delete_password, KEYRING_SERVICE, self.account)
        return True

    def _call(self, what: str, func: Any, *args: str) -> Any:
        try:
            return func(*args)
        except Exception as exc:  # keyring backends raise their own types
            raise CredentialStoreError(
                f"cannot {what} credentials in {self.location()}: {type(exc).__name__}"
            ) from None


def keyring_backend() -> Any | None:
    """The system keyring, or None when the package or a usable backend is missing."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


def delete_credentials(mode: str, home: Path) -> bool:
    """Remove what `login` stored under `home` (the keyring entry too, unless the store is
    the file only); whether there was anything. Raises OSError / CredentialStoreError."""
    removed = False
    if mode != "file" and (backend := keyring_backend()):
        removed = KeyringStore(home, backend).delete()
    return FileStore(home).delete() or removed


class StoreChoice(msgspec.Struct, frozen=True):
    store: Any  # CredentialStore (a Protocol: msgspec cannot type-check it)
    #: Said to the user when `auto` fell back to the file.
    note: str | None = None


def open_store(mode: str, home: Path) -> StoreChoice:
    if mode not in STORE_MODES:
        choices = ", ".join(f'"{m}"' for m in STORE_MODES)
        raise CredentialStoreError(
            f'invalid cli_auth_credentials_store "{mode}": expected one of {choices}'
        )
    if mode == "file":
        return StoreChoice(FileStore(home))
    backend = keyring_backend()
    if backend is not None:
        return StoreChoice(KeyringStore(home, backend))
    if mode == "keyring":
        raise CredentialStoreError(
            'cli_auth_credentials_store = "keyring" but no system keyring is available; '
            'set it to "file" or "auto"'
        )
    return StoreChoice(
        FileStore(home),
        note=f"No system keyring is available; credentials are stored in {home / AUTH_FILE}",
    )
