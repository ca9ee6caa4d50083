"""`cli_auth_credentials_store`: file, keyring (only where a backend exists), auto (keyring,
else the file — and the caller is told), and which credential a provider uses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from pycodex.auth.credential import AuthPolicy, load_auth, resolve_credential
from pycodex.auth.errors import CredentialStoreError, LoginMethodForbidden
from pycodex.auth.storage import FileStore, KeyringStore, open_store
from pycodex.auth.store import ChatgptTokens, StoredAuth
from pycodex.config.providers import ModelProviderInfo
from tests.support.oauth_keyring import MemoryKeyring


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def api_auth(home: Path, key: str = "sk-test-1234567890abcdef") -> StoredAuth:
    return StoredAuth(path=home / "auth.json", auth_mode="apikey", api_key=key)


def test_keyring_mode_stores_in_the_keyring_not_the_file(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    choice = open_store("keyring", tmp_path)
    assert isinstance(choice.store, KeyringStore) and choice.note is None
    choice.store.save(api_auth(tmp_path))
    assert not (tmp_path / "auth.json").exists()
    assert len(memory_keyring.entries) == 1
    loaded = load_auth("keyring", tmp_path, tmp_path / "codex")
    assert loaded.stored is not None and loaded.stored.api_key == "sk-test-1234567890abcdef"
    assert choice.store.delete() and not memory_keyring.entries


def test_keyring_mode_without_a_backend_is_an_error(tmp_path: Path, no_keyring: None) -> None:
    with pytest.raises(CredentialStoreError, match="no system keyring"):
        open_store("keyring", tmp_path)


def test_auto_falls_back_to_the_file_and_says_so(tmp_path: Path, no_keyring: None) -> None:
    choice = open_store("auto", tmp_path)
    assert isinstance(choice.store, FileStore)
    assert choice.note is not None and str(tmp_path / "auth.json") in choice.note


def test_auto_uses_the_keyring_when_there_is_one(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    assert isinstance(open_store("auto", tmp_path).store, KeyringStore)


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CredentialStoreError, match='invalid cli_auth_credentials_store "vault"'):
        open_store("vault", tmp_path)


OPENAI = ModelProviderInfo(name="OpenAI", env_key="OPENAI_API_KEY", requires_openai_auth=True)
TOKENS = ChatgptTokens("a.b.c", "d.e.f", "refresh", account_id="ws-1")


def chatgpt(home: Path) -> StoredAuth:
    return StoredAuth(path=home / "auth.json", auth_mode="chatgpt", api_key=None, tokens=TOKENS)


@pytest.mark.parametrize(
    ("env", "stored", "forced", "kind"),
    [
        ({"OPENAI_API_KEY": "sk-env"}, "chatgpt", None, "env"),
        ({}, "chatgpt", None, "chatgpt"),
        ({}, "apikey", None, "apikey"),
        ({"OPENAI_API_KEY": "sk-env"}, "chatgpt", "chatgpt", "chatgpt"),
        ({"OPENAI_API_KEY": " "}, None, None, "none"),
    ],
)
def test_which_credential_the_provider_uses(
    tmp_path: Path, env: dict[str, str], stored: str | None, forced: str | None, kind: str
) -> None:
    auth = {"chatgpt": chatgpt(tmp_path), "apikey": api_auth(tmp_path), None: None}[stored]
    found = resolve_credential(OPENAI, env=env, stored=auth,
                               policy=AuthPolicy(forced_login_method=forced))
    assert found.kind == kind


def test_forced_api_refuses_a_chatgpt_login(tmp_path: Path) -> None:
    with pytest.raises(LoginMethodForbidden, match="API key login is required"):
        resolve_credential(OPENAI, env={}, stored=chatgpt(tmp_path),
                           policy=AuthPolicy(forced_login_method="api"))


def test_a_provider_without_openai_auth_ignores_the_login(tmp_path: Path) -> None:
    other = ModelProviderInfo(name="mock", env_key="MOCK_KEY")
    found = resolve_credential(other, env={}, stored=chatgpt(tmp_path), policy=AuthPolicy())
    assert found.kind == "none"
