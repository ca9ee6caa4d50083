"""Which wire the model client uses, and the httpx2 wire's behaviour.

Without a proxy in the environment the client talks through `ThreadedWire` (httpcore2's
pool; no httpx2 import); with one it goes through `HttpxWire`, so httpx2 routes the
request via the proxy (a real forward proxy on loopback here); a caller-supplied httpx2
transport (`httpx2.MockTransport`) also goes through `HttpxWire`, whose errors become the
client's usual ones.
"""

from __future__ import annotations

import sys

import pytest

from pycodex.client import ModelClient
from pycodex.client.errors import (
    ConnectionFailed,
    ModelClientError,
    StreamDisconnected,
    StreamIdleTimeout,
)
from pycodex.client.events import Completed
from pycodex.client.wire import Headers, proxy_configured
from pycodex.client.wire_httpx import HttpxWire
from pycodex.client.wire_threads import ThreadedWire
from pycodex.http import httpx2
from tests.support.forward_proxy import ForwardProxy
from tests.support.mock_model import MockModelServer, message, response
from tests.support.model_client import THREAD_ID, collect, mock_provider, prompt


def _client(url: str, env: dict[str, str], **kwargs: object) -> ModelClient:
    return ModelClient(
        mock_provider(url), model="gpt-5.5", thread_id=THREAD_ID,
        env={"MOCK_KEY": "x", **env}, **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, False),
        ({"NO_PROXY": "*"}, False),
        ({"HTTPS_PROXY": "  "}, False),
        ({"https_proxy": "http://p:3128"}, True),
        ({"HTTP_PROXY": "http://p:3128"}, True),
        ({"ALL_PROXY": "socks5://p:1080"}, True),
    ],
)
def test_a_proxy_is_seen_in_any_case(env: dict[str, str], expected: bool) -> None:
    assert proxy_configured(env) is expected


async def test_without_a_proxy_the_threaded_wire_carries_the_request(mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("direct")))
    async with _client(mock_model.url, {}) as client:
        events = await collect(client)
        assert isinstance(client._wire(), ThreadedWire)
    assert isinstance(events[-1], Completed)
    assert "connection" not in mock_model.requests[0].headers  # httpx2 would add it


async def test_a_proxy_in_the_environment_carries_the_request(
    mock_model: MockModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mock_model.enqueue(response(message("via the proxy")))
    with ForwardProxy() as proxy:
        # httpx2 reads the process environment; the client decides on the one it was given.
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        async with _client(mock_model.url, {"HTTP_PROXY": proxy.url}) as client:
            events = await collect(client)
            assert isinstance(client._wire(), HttpxWire)
    assert isinstance(events[-1], Completed)
    assert proxy.targets == [f"{mock_model.url}/responses"]
    assert len(mock_model.requests) == 1


def test_headers_ignore_case_and_join_repeats() -> None:
    headers = Headers([("X-Limit", "1"), ("x-limit", "2"), ("Content-Type", "text/plain")])
    assert headers["x-LIMIT"] == "1, 2" and headers.get("content-type") == "text/plain"
    assert "CONTENT-TYPE" in headers and set(headers) == {"x-limit", "content-type"}


def _mock(handler: object) -> httpx2.MockTransport:
    return httpx2.MockTransport(handler)  # type: ignore[arg-type]


async def test_an_httpx2_transport_streams_the_answer_and_slices_a_big_body() -> None:
    seen: list[httpx2.Request] = []

    async def handler(request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        seen.append(request)
        body = b'data: {"type":"response.completed","response":{"id":"r","output":[]}}\n\n'
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    big = prompt("x" * (3 << 20))  # over the 1 MiB slice: sent in parts, with its length
    async with _client("http://model.test/v1", {}, transport=_mock(handler)) as client:
        events = await collect(client, big)
    assert isinstance(events[-1], Completed)
    assert int(seen[0].headers["content-length"]) == len(seen[0].content) > 3 << 20


@pytest.mark.parametrize(
    "error, expected",
    [
        (httpx2.ConnectError("refused"), ConnectionFailed),
        (httpx2.ReadTimeout("slow"), StreamIdleTimeout),
        (httpx2.RemoteProtocolError("garbled"), StreamDisconnected),
    ],
)
async def test_httpx2_errors_become_the_clients(error: Exception, expected: type[Exception]) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise error

    async with _client("http://model.test/v1", {}, transport=_mock(handler)) as client:
        with pytest.raises(ModelClientError) as caught:
            await collect(client)
    # Retryable failures arrive wrapped once the (empty) retry budget is spent.
    failure = caught.value if isinstance(caught.value, ConnectionFailed) else caught.value.__cause__
    assert type(failure) is expected


async def test_a_proxy_the_http_stack_cannot_use_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without socksio (httpx2's SOCKS support; not a dependency) the turn fails saying why.
    monkeypatch.setitem(sys.modules, "socksio", None)  # `import socksio` fails, as uninstalled
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:9")
    async with _client("http://model.test/v1", {"ALL_PROXY": "socks5://127.0.0.1:9"}) as client:
        with pytest.raises(ModelClientError, match=r"cannot use the configured proxy: .*socksio"):
            await collect(client)
