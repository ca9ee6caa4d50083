"""Model providers: where requests go and how they authenticate.

`ModelProviderInfo` is plain data read from `[model_providers.<id>]`; the HTTP behaviour
built on it lives in `pycodex.client`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

WireApi = Literal["responses", "chat"]

DEFAULT_REQUEST_MAX_RETRIES = 4
DEFAULT_STREAM_MAX_RETRIES = 5
DEFAULT_STREAM_IDLE_TIMEOUT_MS = 300_000
# Hard ceilings so a config typo cannot make pycodex retry for hours.
MAX_REQUEST_RETRIES = 100
MAX_STREAM_RETRIES = 100

OPENAI_PROVIDER_ID = "openai"
OSS_PROVIDER_ID = "oss"
DEFAULT_OSS_BASE_URL = "http://localhost:11434/v1"


class ModelProviderInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str
    base_url: str | None = None
    env_key: str | None = None
    env_key_instructions: str | None = None
    experimental_bearer_token: str | None = None
    wire_api: WireApi = "responses"
    query_params: dict[str, str] | None = None
    http_headers: dict[str, str] | None = None
    env_http_headers: dict[str, str] | None = None
    request_max_retries: int | None = Field(default=None, ge=0)
    stream_max_retries: int | None = Field(default=None, ge=0)
    stream_idle_timeout_ms: int | None = Field(default=None, gt=0)
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


def built_in_providers(oss_base_url: str | None = None) -> dict[str, ModelProviderInfo]:
    """Providers that exist without any config. User entries with the same id win."""
    return {
        OPENAI_PROVIDER_ID: ModelProviderInfo(
            name="OpenAI",
            base_url=None,  # resolved by the client: $OPENAI_BASE_URL or api.openai.com/v1
            env_key="OPENAI_API_KEY",
            env_key_instructions=(
                "Create an API key at https://platform.openai.com/account/api-keys and "
                "export it as OPENAI_API_KEY, or run `pycodex login --with-api-key`."
            ),
            wire_api="responses",
            requires_openai_auth=True,
        ),
        OSS_PROVIDER_ID: ModelProviderInfo(
            name="gpt-oss",
            base_url=oss_base_url or DEFAULT_OSS_BASE_URL,
            wire_api="chat",
        ),
    }
