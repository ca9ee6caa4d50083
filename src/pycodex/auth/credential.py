"""Which credential the configured provider will use — one answer for `login status`
and for the engine, so the two cannot disagree.

Order: the provider's `experimental_bearer_token`; its `env_key` variable; then, for
providers that take OpenAI auth, what `pycodex login` stored (an API key or ChatGPT
tokens). `forced_login_method` ("chatgpt" | "api") removes the other
kind of OpenAI credential; `forced_chatgpt_workspace_id` refuses ChatGPT tokens of another
workspace.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from pycodex.auth.claims import parse_claims
from pycodex.auth.errors import LoginMethodForbidden, WorkspaceMismatch
from pycodex.auth.storage import FileStore, open_store
from pycodex.auth.store import AUTH_FILE, StoredAuth, read_auth
from pycodex.config.providers import ModelProviderInfo

CredentialKind = Literal["env", "apikey", "chatgpt", "bearer", "none"]


class LoadedAuth(msgspec.Struct, frozen=True):
    stored: StoredAuth | None
    #: Where refreshed tokens go back to; None when they were read from Codex's home.
    store: Any = None  # CredentialStore
    borrowed: bool = False


class Credential(msgspec.Struct, frozen=True):
    kind: CredentialKind
    #: The bearer for env / apikey / bearer (never printed unmasked).
    secret: str | None = None
    env_var: str | None = None
    stored: StoredAuth | None = None


class AuthPolicy(msgspec.Struct, frozen=True):
    """The config keys that restrict logins."""

    forced_login_method: str | None = None
    forced_chatgpt_workspace_id: str | None = None
    store_mode: str = "file"


def policy_from_config(config: Any) -> AuthPolicy:
    toml = config.config_toml
    return AuthPolicy(
        forced_login_method=toml.forced_login_method,
        forced_chatgpt_workspace_id=toml.forced_chatgpt_workspace_id,
        store_mode=config.cli_auth_credentials_store,
    )


def load_auth(store_mode: str, own_home: Path, borrowed_home: Path) -> LoadedAuth:
    """Stored credentials: the configured store, then pycodex's auth.json, then Codex's."""
    choice = open_store(store_mode, own_home)
    stored = choice.store.load()
    if stored is not None:
        return LoadedAuth(stored, choice.store)
    if choice.store.name != "file":
        stored = FileStore(own_home).load()
        if stored is not None:
            return LoadedAuth(stored, FileStore(own_home))
    if borrowed_home.resolve() != own_home.resolve():
        stored = read_auth(borrowed_home / AUTH_FILE)
        if stored is not None:
            return LoadedAuth(stored, None, borrowed=True)
    return LoadedAuth(None, choice.store)


def account_id(stored: StoredAuth) -> str | None:
    if stored.tokens is None:
        return None
    return stored.tokens.account_id or parse_claims(stored.tokens.id_token).account_id


def check_workspace(stored: StoredAuth, expected: str | None) -> None:
    if not expected or stored.tokens is None:
        return
    actual = account_id(stored)
    if actual != expected:
        raise WorkspaceMismatch(
            f"Login is restricted to workspace id {expected}, but the stored ChatGPT login is "
            f"for {'workspace ' + actual if actual else 'an unknown workspace'}. "
            "Run `pycodex login` to sign in to the right workspace."
        )


def _openai_credential(stored: StoredAuth | None, policy: AuthPolicy) -> Credential | None:
    if stored is None:
        return None
    forced = policy.forced_login_method
    use_tokens = stored.tokens is not None and (stored.auth_mode == "chatgpt" or not stored.api_key)
    if use_tokens and forced != "api":
        check_workspace(stored, policy.forced_chatgpt_workspace_id)
        return Credential("chatgpt", stored=stored)
    if stored.api_key and forced != "chatgpt":
        return Credential("apikey", secret=stored.api_key, stored=stored)
    return None


def resolve_credential(
    provider: ModelProviderInfo,
    *,
    env: Mapping[str, str],
    stored: StoredAuth | None,
    policy: AuthPolicy,
) -> Credential:
    if provider.experimental_bearer_token:
        # A token written into the provider's config is the most explicit choice there is.
        return Credential("bearer", secret=provider.experimental_bearer_token)
    forced = policy.forced_login_method if provider.requires_openai_auth else None
    if provider.env_key and forced != "chatgpt":
        value = env.get(provider.env_key, "").strip()
        if value:  # an empty variable counts as unset
            return Credential("env", secret=value, env_var=provider.env_key)
    if provider.requires_openai_auth:
        found = _openai_credential(stored, policy)
        if found is not None:
            return found
        if forced == "chatgpt":
            raise LoginMethodForbidden(
                'ChatGPT login is required (forced_login_method = "chatgpt"); '
                "run `pycodex login` to sign in with ChatGPT."
            )
        if forced == "api" and stored is not None and stored.tokens is not None:
            raise LoginMethodForbidden(
                'API key login is required (forced_login_method = "api"); the stored ChatGPT '
                "login is not used. Run `pycodex login --with-api-key`."
            )
    return Credential("none")
