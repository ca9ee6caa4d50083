"""Model providers: where requests go and how they authenticate.

`ModelProviderInfo` is plain data read from `[model_providers.<id>]`; the HTTP behaviour
built on it lives in `pycodex.client`.
"""

# No `from __future__ import annotations`: see `schema` (msgspec reads these at run time).

from typing import Annotated, Any, Literal

import msgspec

WireApi = Literal["responses", "chat"]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]

DEFAULT_REQUEST_MAX_RETRIES = 4
DEFAULT_STREAM_MAX_RETRIES = 5
DEFAULT_STREAM_IDLE_TIMEOUT_MS = 300_000
# Hard ceilings so a config typo cannot make pycodex retry for hours.
MAX_REQUEST_RETRIES = 100
MAX_STREAM_RETRIES = 100

OPENAI_PROVIDER_ID = "openai"
OSS_PROVIDER_ID = "oss"
DEFAULT_OSS_BASE_URL = "http://localhost:11434/v1"


class ModelProviderInfo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One `[model_providers.<id>]` table. Built by `msgspec.convert` from validated
    config, or directly by keyword (built-ins, tests); the constructor does not check
    types or bounds, validation does."""

    name: str
    base_url: str | None = None
    env_key: str | None = None
    env_key_instructions: str | None = None
    experimental_bearer_token: str | None = None
    wire_api: WireApi = "responses"
    query_params: dict[str, str] | None = None
    http_headers: dict[str, str] | None = None
    env_http_headers: dict[str, str] | None = None
    request_max_retries: NonNegativeInt | None = None
    stream_max_retries: NonNegativeInt | None = None
    stream_idle_timeout_ms: PositiveInt | None = None
    requires_openai_auth: bool = False
    supports_websockets: bool = False

    def effective_request_max_retries(self) -> int:
        value = self.request_max_retries
        if value is None:
            value = DEFAULT_REQUEST_MAX_RETRIES
        return min(value, MAX_REQUEST_RETRIES)

    def effective_stream_max_retries(self) -> int:
        value = self.stream_max_retries
        if value is None:
            value = DEFAULT_STREAM_MAX_RETRIES
        return min(value, MAX_STREAM_RETRIES)

    def effective_stream_idle_timeout_s(self) -> float:
        ms = self.stream_idle_timeout_ms or DEFAULT_STREAM_IDLE_TIMEOUT_MS
        return ms / 1000.0


def built_in_provider_tables(oss_base_url: str | None = None) -> dict[str, dict[str, Any]]:
    """The built-in providers as the TOML tables a user would write: only the keys they
    set, so a user table for the same id can patch them key by key."""
    return {
        OPENAI_PROVIDER_ID: {
            "name": "OpenAI",
            # Resolved by the client: $OPENAI_BASE_URL or api.openai.com/v1.
            "base_url": None,
            "env_key": "OPENAI_API_KEY",
            "env_key_instructions": (
                "Create an API key at https://platform.openai.com/account/api-keys and "
                "export it as OPENAI_API_KEY, or run `pycodex login --with-api-key`."
            ),
            "wire_api": "responses",
            "requires_openai_auth": True,
        },
        OSS_PROVIDER_ID: {
            "name": "gpt-oss",
            "base_url": oss_base_url or DEFAULT_OSS_BASE_URL,
            "wire_api": "chat",
        },
    }


def built_in_providers(oss_base_url: str | None = None) -> dict[str, ModelProviderInfo]:
    """Providers that exist without any config. User entries with the same id win."""
    return {
        provider_id: ModelProviderInfo(**table)
        for provider_id, table in built_in_provider_tables(oss_base_url).items()
    }
