"""Which credential a request to a provider carries."""

from __future__ import annotations

from collections.abc import Mapping

from pycodex.auth.store import StoredAuth
from pycodex.config.providers import ModelProviderInfo


def resolve_api_key(
    provider: ModelProviderInfo, *, env: Mapping[str, str], stored: StoredAuth | None
) -> str | None:
    """The bearer token for `provider`, or None when it has none.

    Order: the provider's `env_key` variable, then (for providers that take OpenAI auth)
    the key saved by `pycodex login`, then the provider's `experimental_bearer_token`.
    An empty variable counts as unset: `OPENAI_API_KEY= pycodex exec` must not send
    `Bearer ` and get a confusing 401.
    """
    if provider.env_key:
        value = env.get(provider.env_key, "").strip()
        if value:
            return value
    if provider.requires_openai_auth and stored is not None and stored.api_key:
        return stored.api_key
    if provider.experimental_bearer_token:
        return provider.experimental_bearer_token
    return None
