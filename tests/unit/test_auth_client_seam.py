"""The model client's auth and observer seams (`pycodex.client.hooks`), against the mock
model server: headers come from the auth provider, a 401 is reported to it and the request
retried once with the new headers, every POST and SSE event reaches the observer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from pycodex.auth.errors import RefreshFailed
from pycodex.client import ModelClient, ModelClientError, Unauthorized
from tests.support.mock_model import MockModelServer, http_error, message, response
from tests.support.model_client import THREAD_ID, RecordingSleep, collect, mock_provider


class FakeAuth:
    def __init__(self, *, refresh_to: str | None = "new", fail: Exception | None = None) -> None:
        self.token = "old"
        self.refresh_to = refresh_to
        self.fail = fail
        self.unauthorized_calls = 0

    async def auth_headers(self) -> Mapping[str, str]:
        return {"authorization": f"Bearer {self.token}", "chatgpt-account-id": "ws-1"}

    async def unauthorized(self) -> bool:
        self.unauthorized_calls += 1
        if self.fail is not None:
            raise self.fail
        if self.refresh_to is None:
            return False
        self.token = self.refresh_to
        return True


class Recorder:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.sse: list[str] = []

    def api_request(self, **fields: Any) -> None:
        self.requests.append(fields)

    def sse_event(self, *, kind: str, duration_ms: int, data: str) -> None:
        self.sse.append(kind)


def client_for(server: MockModelServer, auth: Any, observer: Any = None) -> ModelClient:
    return ModelClient(
        mock_provider(server.url, env_key=None),
        model="gpt-5.5", thread_id=THREAD_ID, env={}, sleep=RecordingSleep(),
        auth=auth, observer=observer,
    )


async def test_headers_come_from_the_auth_provider(mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("hi")))
    await collect(client_for(mock_model, FakeAuth()))
    headers = mock_model.requests[0].headers
    assert headers["authorization"] == "Bearer old"
    assert headers["chatgpt-account-id"] == "ws-1"


async def test_401_refreshes_and_retries_once(mock_model: MockModelServer) -> None:
    mock_model.enqueue(http_error(401), response(message("hi")))
    auth, observer = FakeAuth(), Recorder()
    events = await collect(client_for(mock_model, auth, observer))
    assert auth.unauthorized_calls == 1
    assert [r.headers["authorization"] for r in mock_model.requests] == ["Bearer old", "Bearer new"]
    assert events, "the retried request streamed its response"
    assert [r["status"] for r in observer.requests] == [401, 200]
    assert "response.completed" in observer.sse


async def test_a_second_401_is_not_retried(mock_model: MockModelServer) -> None:
    mock_model.enqueue(http_error(401), http_error(401))
    auth = FakeAuth()
    with pytest.raises(Unauthorized):
        await collect(client_for(mock_model, auth))
    assert auth.unauthorized_calls == 1
    assert len(mock_model.requests) == 2


async def test_no_retry_when_the_provider_cannot_help(mock_model: MockModelServer) -> None:
    mock_model.enqueue(http_error(401))
    with pytest.raises(Unauthorized):
        await collect(client_for(mock_model, FakeAuth(refresh_to=None)))
    assert len(mock_model.requests) == 1


async def test_refresh_failure_is_a_one_line_client_error(mock_model: MockModelServer) -> None:
    mock_model.enqueue(http_error(401))
    auth = FakeAuth(fail=RefreshFailed("Could not refresh the ChatGPT login: revoked"))
    with pytest.raises(ModelClientError, match="Could not refresh the ChatGPT login"):
        await collect(client_for(mock_model, auth))
