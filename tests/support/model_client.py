"""Helpers to drive a real `ModelClient` against the mock model server in tests."""

from __future__ import annotations

from typing import Any

from pycodex.client import ModelClient, Prompt, ResponseEvent
from pycodex.config.providers import ModelProviderInfo
from pycodex.protocol.models import user_message

THREAD_ID = "01a1fedf-9850-7c21-9656-f8ba055f845d"


class RecordingSleep:
    """Stands in for asyncio.sleep: records the delays, sleeps not at all."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def mock_provider(url: str, **overrides: Any) -> ModelProviderInfo:
    fields: dict[str, Any] = {
        "name": "mock",
        "base_url": url,
        "wire_api": "responses",
        "env_key": "MOCK_KEY",
        "request_max_retries": 0,
        "stream_max_retries": 0,
        "stream_idle_timeout_ms": 5_000,
    }
    fields.update(overrides)
    return ModelProviderInfo(**fields)


def make_client(
    url: str,
    *,
    env: dict[str, str] | None = None,
    sleep: RecordingSleep | None = None,
    **provider_overrides: Any,
) -> ModelClient:
    return ModelClient(
        mock_provider(url, **provider_overrides),
        model="gpt-5.5",
        thread_id=THREAD_ID,
        originator="codex_exec",
        env={"MOCK_KEY": "x", "TERM": "xterm"} if env is None else env,
        sleep=sleep or RecordingSleep(),
    )


def prompt(text: str = "hello", **kwargs: Any) -> Prompt:
    return Prompt(input=[user_message(text)], **kwargs)


async def collect(client: ModelClient, p: Prompt | None = None) -> list[ResponseEvent]:
    return [event async for event in client.stream(p or prompt())]
