"""`ProviderAuth`: what the model client asks for its authorization headers, and tells
about a 401.

Every request re-reads the stored credentials (a `pycodex login` in another terminal is
picked up at once) and resolves them for the configured provider. ChatGPT tokens are
refreshed shortly before the access token expires (or 8 days after the last refresh, as
Codex does), and once more after a 401; a refresh first re-reads the store, so when
another pycodex process refreshed meanwhile its tokens are adopted rather than spending
the (single-use) refresh token twice. A refused refresh leaves the stored file as it was.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pycodex.auth import oauth
from pycodex.auth.claims import parse_claims
from pycodex.auth.credential import (
    AuthPolicy,
    Credential,
    LoadedAuth,
    load_auth,
    resolve_credential,
)
from pycodex.auth.errors import AuthError, RefreshFailed
from pycodex.auth.external import ExternalTokens
from pycodex.auth.persist import chatgpt_auth, ensure_workspace_allowed
from pycodex.auth.store import AuthFileError, StoredAuth
from pycodex.config.providers import ModelProviderInfo

#: Refresh when the access token has less than this left.
REFRESH_MARGIN_S = 5 * 60
#: ... or when the last refresh is older than this (Codex's interval).
REFRESH_INTERVAL_S = 8 * 24 * 3600


def _parse_rfc3339(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def needs_refresh(stored: StoredAuth, now: float) -> bool:
    assert stored.tokens is not None
    expires = parse_claims(stored.tokens.access_token).expires_at
    if expires is not None:
        return expires - now <= REFRESH_MARGIN_S
    last = _parse_rfc3339(stored.last_refresh)
    return last is not None and now - last >= REFRESH_INTERVAL_S


class ProviderAuth:
    """The model client's `AuthProvider` for one provider and one pycodex home."""

    def __init__(
        self,
        provider: ModelProviderInfo,
        *,
        env: Mapping[str, str],
        policy: AuthPolicy,
        own_home: Path,
        borrowed_home: Path,
        clock: Callable[[], float] = time.time,
        external: ExternalTokens | None = None,
    ) -> None:
        self.provider = provider
        # A host app's ChatGPT tokens (app-server `chatgptAuthTokens`): they take the place
        # of the stored login while set.
        self._external = external
        self._external_used: str | None = None  # the external token the last request sent
        self._env = env
        self._policy = policy
        self._homes = (own_home, borrowed_home)
        self._clock = clock
        self._lock = asyncio.Lock()
        self._last: Credential | None = None

    def _load(self) -> LoadedAuth:
        return load_auth(self._policy.store_mode, *self._homes)

    def credential(self) -> tuple[Credential, LoadedAuth]:
        try:
            loaded = self._load()
        except AuthFileError as exc:
            raise AuthError(str(exc)) from None
        credential = resolve_credential(
            self.provider, env=self._env, stored=loaded.stored, policy=self._policy
        )
        return credential, loaded

    async def auth_headers(self) -> dict[str, str]:
        self._external_used = None
        external = self._external
        if external is not None and external.active and self._external_applies():
            self._external_used = external.access_token
            return external.headers()
        credential, loaded = self.credential()
        self._last = credential
        if credential.kind != "chatgpt":
            return {"authorization": f"Bearer {credential.secret}"} if credential.secret else {}
        stored = credential.stored
        assert stored is not None
        if needs_refresh(stored, self._clock()):
            stored = await self._refresh(stored, loaded)
        return _chatgpt_headers(stored)

    def uses_chatgpt(self) -> bool:
        """Whether the next request is authorized as a ChatGPT account (never raises: a
        credential that cannot be read is reported by the request itself)."""
        external = self._external
        if external is not None and external.active and self._external_applies():
            return True
        try:
            credential, _ = self.credential()
        except (AuthError, AuthFileError):
            return False
        return credential.kind == "chatgpt"

    def _external_applies(self) -> bool:
        """A host's tokens stand in for the stored login: for providers that take OpenAI
        auth, unless the provider's own key (config bearer token, env var) is set."""
        if not self.provider.requires_openai_auth or self.provider.experimental_bearer_token:
            return False
        key = self.provider.env_key
        return not (key and self._env.get(key, "").strip())

    async def unauthorized(self) -> bool:
        """After a 401: refresh ChatGPT tokens; True when a retry may now succeed."""
        if self._external_used is not None and self._external is not None:
            return await self._external.refresh(self._external_used)
        last = self._last
        if last is None or last.kind != "chatgpt" or last.stored is None:
            return False
        await self._refresh(last.stored, self._load())
        return True

    async def _refresh(self, stale: StoredAuth, loaded: LoadedAuth) -> StoredAuth:
        async with self._lock:
            current = self._load()
            fresh = current.stored
            if fresh is not None and fresh.tokens is not None and stale.tokens is not None and (
                fresh.tokens.access_token != stale.tokens.access_token
            ):
                return fresh  # refreshed meanwhile (another request or process)
            if loaded.borrowed or current.store is None:
                raise RefreshFailed(
                    f"The ChatGPT login read from Codex's {stale.path} has expired; pycodex "
                    "does not refresh Codex's credentials. Run `pycodex login` (or `codex`)."
                )
            assert stale.tokens is not None
            issuer = oauth.issuer(self._env)
            tokens = await asyncio.to_thread(oauth.refresh, issuer, stale.tokens)
            ensure_workspace_allowed(tokens, self._policy.forced_chatgpt_workspace_id)
            updated = chatgpt_auth(tokens, stale.path.parent)
            await asyncio.to_thread(current.store.save, updated)
            return updated


def _chatgpt_headers(stored: StoredAuth) -> dict[str, str]:
    assert stored.tokens is not None
    headers = {"authorization": f"Bearer {stored.tokens.access_token}"}
    account = stored.tokens.account_id or parse_claims(stored.tokens.id_token).account_id
    if account:
        headers["chatgpt-account-id"] = account
    return headers


def chatgpt_provider(provider: ModelProviderInfo, chatgpt_base_url: str) -> ModelProviderInfo:
    """The built-in OpenAI provider signed in with ChatGPT talks to ChatGPT's backend
    (`<chatgpt_base_url>/codex/responses`), as Codex does; a provider with its own base_url
    keeps it."""
    import msgspec

    if provider.base_url or not provider.requires_openai_auth:
        return provider
    base = chatgpt_base_url.rstrip("/")
    return msgspec.structs.replace(provider, base_url=f"{base}/codex")


def provider_auth_for(
    config: Any, env: Mapping[str, str], external: ExternalTokens | None = None
) -> tuple[ProviderAuth, ModelProviderInfo]:
    """The auth provider of a thread, and its provider as requests address it now (see
    `routed_provider`)."""
    from pycodex.auth.credential import policy_from_config

    provider: ModelProviderInfo = config.model_provider
    auth = ProviderAuth(
        provider,
        env=env,
        policy=policy_from_config(config),
        own_home=config.pycodex_home,
        borrowed_home=config.codex_home,
        external=external,
    )
    return auth, routed_provider(provider, auth, config.chatgpt_base_url)


def routed_provider(
    provider: ModelProviderInfo, auth: ProviderAuth, chatgpt_base_url: str
) -> ModelProviderInfo:
    """`provider` as a request sent now addresses it: signed in with ChatGPT (a stored
    login, or a host's tokens standing in for it), the built-in OpenAI provider talks to
    ChatGPT's backend. Asked per request, as Codex does: a login or logout while a thread
    runs moves its next request."""
    return chatgpt_provider(provider, chatgpt_base_url) if auth.uses_chatgpt() else provider


def telemetry_identity(auth: ProviderAuth) -> tuple[str | None, str | None]:
    """(auth_mode, account id) for telemetry, as far as they are known; never raises."""
    try:
        credential, _ = auth.credential()
    except AuthError:
        return None, None
    if credential.kind == "chatgpt" and credential.stored is not None:
        from pycodex.auth.credential import account_id

        return "chatgpt", account_id(credential.stored)
    return ("apikey", None) if credential.secret else (None, None)
