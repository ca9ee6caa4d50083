"""Every retry and error path of ModelClient, against the real mock server.

Backoff sleeps go through a recording fake, except in the one test that proves real
(short) sleeps work end to end.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import socket
import time
from collections.abc import Mapping

import pytest

from pycodex.client import (
    ApiError,
    Completed,
    ConnectionFailed,
    ContextWindowExceeded,
    HostNotFound,
    InvalidResponse,
    MissingApiKey,
    ModelClient,
    OutputItemDone,
    QuotaExceeded,
    RetryLimitReached,
    StreamDisconnected,
    StreamIdleTimeout,
    StreamRetry,
    TransientHttpError,
    Unauthorized,
    UsageLimitReached,
)
from pycodex.client.retry import backoff_delay, parse_retry_after, parse_try_again_in
from pycodex.client.wire import Timeouts, WireResponse
from pycodex.client.wire_threads import ThreadedWire
from pycodex.config.providers import ModelProviderInfo
from tests.support.mock_model import (
    MockModelServer,
    Reply,
    _Write,
    drop,
    failed,
    hang,
    http_error,
    message,
    response,
    sse,
)
from tests.support.model_client import RecordingSleep, collect, make_client, mock_provider, prompt


async def test_request_failures_are_announced_on_the_one_counter(mock_model: MockModelServer) -> None:
    # Failures before any stream (5xx) count on the same announced budget as dropped
    # streams: request_max_retries alone allows them.
    mock_model.enqueue(http_error(500), http_error(502), response(message("ok")))
    sleep = RecordingSleep()
    async with make_client(mock_model.url, sleep=sleep, request_max_retries=2) as client:
        events = await collect(client)
    retries = [e for e in events if isinstance(e, StreamRetry)]
    assert [(r.attempt, r.max_attempts) for r in retries] == [(1, 2), (2, 2)]
    assert isinstance(events[-1], Completed)
    assert len(mock_model.requests) == 3 and client.last_attempts == 3
    assert len(sleep.delays) == 2 and sleep.delays[0] < sleep.delays[1] < 1


async def test_stream_level_retries_announce_each_attempt(mock_model: MockModelServer) -> None:
    mock_model.enqueue(http_error(500), http_error(500), response(message("ok")))
    sleep = RecordingSleep()
    async with make_client(mock_model.url, sleep=sleep, stream_max_retries=2) as client:
        events = await collect(client)
    retries = [e for e in events if isinstance(e, StreamRetry)]
    assert [(r.attempt, r.max_attempts) for r in retries] == [(1, 2), (2, 2)]
    assert retries[0].message == "500 Internal Server Error: " + json.dumps(
        {"error": {"message": "mock HTTP 500", "type": "server_error", "code": "mock_error"}})
    assert isinstance(retries[0].error, TransientHttpError)
    assert [r.delay_s for r in retries] == sleep.delays
    assert isinstance(events[-1], Completed) and len(mock_model.requests) == 3


@pytest.mark.parametrize("request_retries, stream_retries", [(2, 1), (1, 2)])
async def test_500_until_limit_is_retry_limit_reached(
    mock_model: MockModelServer, request_retries: int, stream_retries: int
) -> None:
    mock_model.enqueue(*[http_error(500)] * 3)
    client = make_client(
        mock_model.url, request_max_retries=request_retries, stream_max_retries=stream_retries
    )
    seen: list[object] = []
    with pytest.raises(RetryLimitReached) as info:
        async with client:
            async for event in client.stream(prompt()):
                seen.append(event)
    # One budget, the larger setting: 2 retries (3 POSTs), not (2+1) x (1+1) POSTs.
    assert len(mock_model.requests) == 3
    assert [(e.attempt, e.max_attempts) for e in seen if isinstance(e, StreamRetry)] == [(1, 2), (2, 2)]
    assert len(seen) == 2 and info.value.retries == 2
    msg = str(info.value)
    assert msg.startswith("exceeded retry limit after 2 retries, last status: 500 Internal Server Error: ")
    assert "mock HTTP 500" in msg and "\n" not in msg
    assert isinstance(info.value.last_error, TransientHttpError)


@pytest.mark.parametrize(
    "headers, expected",
    [({"Retry-After": "2"}, 2.0), ({"retry-after-ms": "1500"}, 1.5), ({"Retry-After": "100000"}, 120.0)],
)
async def test_429_retry_after_is_honoured_and_capped(
    mock_model: MockModelServer, headers: dict[str, str], expected: float
) -> None:
    mock_model.enqueue(http_error(429, headers=headers), response(message("ok")))
    sleep = RecordingSleep()
    async with make_client(mock_model.url, sleep=sleep, request_max_retries=1) as client:
        events = await collect(client)
    assert sleep.delays == [expected]
    assert isinstance(events[-1], Completed)


def test_retry_after_parsing() -> None:
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_try_again_in("Rate limit reached. Please try again in 1.5s.") == 1.5
    assert parse_try_again_in("try again in 250ms") == 0.25
    assert parse_try_again_in("no hint") is None
    delays = [backoff_delay(n) for n in range(1, 6)]
    for n, d in enumerate(delays, 1):
        assert 0.2 * 2 ** (n - 1) * 0.9 <= d <= 0.2 * 2 ** (n - 1) * 1.1
    assert backoff_delay(50) == 30.0


async def test_400_is_not_retried_and_shows_body(mock_model: MockModelServer) -> None:
    mock_model.enqueue(http_error(400))
    with pytest.raises(ApiError) as info:
        async with make_client(mock_model.url, request_max_retries=3, stream_max_retries=3) as client:
            await collect(client)
    assert len(mock_model.requests) == 1
    assert info.value.status == 400
    assert str(info.value) == (
        'unexpected status 400 Bad Request: {"error": {"message": "mock HTTP 400", '
        '"type": "server_error", "code": "mock_error"}}'
    )


@pytest.mark.parametrize("status", [401, 403])
async def test_unauthorized(mock_model: MockModelServer, status: int) -> None:
    mock_model.enqueue(http_error(status, {"error": {"message": "bad key"}}))
    with pytest.raises(Unauthorized) as info:
        async with make_client(mock_model.url, request_max_retries=3) as client:
            await collect(client)
    assert len(mock_model.requests) == 1
    reason = {401: "Unauthorized", 403: "Forbidden"}[status]
    # Codex's shape: the provider's error.message (not the JSON) and the URL; then our hint.
    assert str(info.value) == (
        f"unexpected status {status} {reason}: bad key, url: {mock_model.url}/responses"
        " — check your API key or run `pycodex login`"
    )


@pytest.mark.parametrize(
    "error, exc_type",
    [
        ({"type": "usage_limit_reached", "message": "limit", "resets_at": 1704069000}, UsageLimitReached),
        ({"type": "insufficient_quota", "code": "insufficient_quota", "message": "pay"}, QuotaExceeded),
    ],
)
async def test_429_usage_limits_are_not_retried(
    mock_model: MockModelServer, error: dict[str, object], exc_type: type[Exception]
) -> None:
    headers = {"x-codex-primary-used-percent": "100", "x-codex-primary-window-minutes": "300"}
    mock_model.enqueue(http_error(429, {"error": error}, headers=headers))
    with pytest.raises(exc_type) as info:
        async with make_client(mock_model.url, request_max_retries=3, stream_max_retries=3) as client:
            await collect(client)
    assert len(mock_model.requests) == 1
    if isinstance(info.value, UsageLimitReached):
        assert info.value.resets_at == 1704069000
        assert info.value.rate_limits is not None and info.value.rate_limits.primary is not None
        assert info.value.rate_limits.primary.used_percent == 100.0
        assert "2024-01-01" in str(info.value)


async def test_dropped_stream_is_retried_then_succeeds(mock_model: MockModelServer) -> None:
    partial = sse([
        {"type": "response.created", "response": {"id": "r0"}},
        {"type": "response.output_item.done", "output_index": 0,
         "item": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "partial"}]}},
        {"type": "response.completed", "response": {"id": "r0"}},
    ], drop_after=2)
    mock_model.enqueue(partial, drop(), response(message("whole")))
    async with make_client(mock_model.url, stream_max_retries=2) as client:
        events = await collect(client)
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("StreamRetry") == 2
    retry = next(e for e in events if isinstance(e, StreamRetry))
    assert retry.message.startswith("stream disconnected before completion")
    after_last_retry = events[max(i for i, e in enumerate(events) if isinstance(e, StreamRetry)) + 1:]
    done = [e.item for e in after_last_retry if isinstance(e, OutputItemDone)]
    assert len(done) == 1 and done[0].text() == "whole"  # type: ignore[union-attr]
    assert len(mock_model.requests) == 3


async def test_response_failed_is_retried_then_fails(mock_model: MockModelServer) -> None:
    mock_model.enqueue(failed("mock response.failed"), failed("mock response.failed"))
    retries: list[StreamRetry] = []
    with pytest.raises(RetryLimitReached) as info:
        async with make_client(mock_model.url, stream_max_retries=1) as client:
            async for event in client.stream(prompt()):
                if isinstance(event, StreamRetry):
                    retries.append(event)
    assert [r.message for r in retries] == ["stream disconnected before completion: mock response.failed"]
    assert isinstance(info.value.last_error, StreamDisconnected)
    assert "stream disconnected before completion: mock response.failed" in str(info.value)
    assert len(mock_model.requests) == 2


async def test_rate_limit_failure_uses_server_delay(mock_model: MockModelServer) -> None:
    mock_model.enqueue(
        failed("Rate limit reached. Please try again in 0.75s.", code="rate_limit_exceeded"),
        response(message("ok")),
    )
    sleep = RecordingSleep()
    async with make_client(mock_model.url, sleep=sleep, stream_max_retries=1) as client:
        events = await collect(client)
    assert sleep.delays == [0.75]
    assert isinstance(events[-1], Completed)


@pytest.mark.parametrize(
    "code, exc_type",
    [("context_length_exceeded", ContextWindowExceeded), ("insufficient_quota", QuotaExceeded)],
)
async def test_fatal_response_failed_codes(
    mock_model: MockModelServer, code: str, exc_type: type[Exception]
) -> None:
    mock_model.enqueue(failed("too much", code=code))
    with pytest.raises(exc_type):
        async with make_client(mock_model.url, stream_max_retries=3) as client:
            await collect(client)
    assert len(mock_model.requests) == 1


async def test_idle_timeout(mock_model: MockModelServer) -> None:
    # The hangs end in a dropped connection after 5 s: failing with the idle timeout (not
    # a drop) shows the client gave up on the silence by itself.
    mock_model.enqueue(hang(total_s=5), hang(total_s=5))
    with pytest.raises(RetryLimitReached) as info:
        async with make_client(mock_model.url, stream_idle_timeout_ms=100, stream_max_retries=1) as client:
            await collect(client)
    assert isinstance(info.value.last_error, StreamIdleTimeout)
    assert "idle timeout" in str(info.value)
    assert len(mock_model.requests) == 2


async def test_keepalive_comments_count_as_activity(mock_model: MockModelServer) -> None:
    events = [{"type": "response.created", "response": {"id": "r"}},
              {"type": "response.completed", "response": {"id": "r"}}]
    mock_model.enqueue(sse(events, delay_s=0.3, keepalive_s=0.03))
    async with make_client(mock_model.url, stream_idle_timeout_ms=120) as client:
        got = await collect(client)
    assert isinstance(got[-1], Completed)


def _refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def test_connection_refused_is_bounded_and_names_url() -> None:
    url = _refused_url()
    sleep = RecordingSleep()
    client = make_client(url, sleep=sleep, request_max_retries=2, stream_max_retries=1)
    retries: list[StreamRetry] = []
    with pytest.raises(ConnectionFailed) as info:
        async with client:
            async for event in client.stream(prompt()):
                assert isinstance(event, StreamRetry)
                retries.append(event)
    assert [(r.attempt, r.max_attempts) for r in retries] == [(1, 2), (2, 2)]
    assert info.value.retries == 2 and client.last_attempts == 3
    assert str(info.value).startswith(f"could not connect to {url}/responses: ")
    assert str(info.value).endswith(" (gave up after 2 retries)")
    assert len(sleep.delays) == 2


UNRESOLVABLE = "http://nonexistent.invalid/v1"  # `.invalid` never resolves (RFC 2606)


@pytest.mark.parametrize("budget, expected_retries", [(0, 0), (1, 1), (5, 2)])
async def test_unresolvable_host_is_retried_briefly(budget: int, expected_retries: int) -> None:
    sleep = RecordingSleep()
    client = make_client(UNRESOLVABLE, sleep=sleep, request_max_retries=budget, stream_max_retries=budget)
    retries: list[StreamRetry] = []
    with pytest.raises(HostNotFound) as info:
        async with client:
            async for event in client.stream(prompt()):
                assert isinstance(event, StreamRetry)
                retries.append(event)
    shown = [(r.attempt, r.max_attempts) for r in retries]
    assert shown == [(n, expected_retries) for n in range(1, expected_retries + 1)]
    assert client.last_attempts == expected_retries + 1
    assert sleep.delays == [r.delay_s for r in retries] and all(d < 1 for d in sleep.delays)
    msg = str(info.value)
    assert msg.startswith(f"could not connect to {UNRESOLVABLE}/responses: cannot resolve the host name (")
    gave_up = {0: "", 1: " (gave up after 1 retry)", 2: " (gave up after 2 retries)"}[expected_retries]
    assert msg.endswith(")" + gave_up) and "\n" not in msg


async def test_garbage_sse_is_invalid_response_not_retried(mock_model: MockModelServer) -> None:
    mock_model.enqueue(Reply(steps=(_Write(b"event: response.created\ndata: <html>oops</html>\n\n"),)))
    with pytest.raises(InvalidResponse) as info:
        async with make_client(mock_model.url, stream_max_retries=3) as client:
            await collect(client)
    assert "not JSON" in str(info.value) and "<html>" in str(info.value)
    assert len(mock_model.requests) == 1


async def test_missing_key_of_a_custom_provider_names_the_variable_to_set(
    mock_model: MockModelServer,
) -> None:
    provider = mock_provider(mock_model.url, env_key_instructions="Get a key at https://example.test.")
    client = ModelClient(provider, model="m", thread_id="t", env={"MOCK_KEY": " "})
    with pytest.raises(MissingApiKey) as info:
        async with client:
            await collect(client)
    # `pycodex login` stores a key only OpenAI-auth providers read: no use here.
    assert str(info.value) == (
        "Missing environment variable: `MOCK_KEY`. Get a key at https://example.test."
        " Set MOCK_KEY to your API key for model provider `mock` (e.g. `export MOCK_KEY=...`)."
    )
    assert mock_model.requests == []


async def test_missing_key_of_an_openai_auth_provider_mentions_login(mock_model: MockModelServer) -> None:
    provider = mock_provider(mock_model.url, requires_openai_auth=True)
    client = ModelClient(provider, model="m", thread_id="t", env={})
    with pytest.raises(MissingApiKey) as info:
        async with client:
            await collect(client)
    assert str(info.value) == (
        "Missing environment variable: `MOCK_KEY`. Set it, or run `pycodex login` to store credentials."
    )
    assert mock_model.requests == []


async def test_provider_without_env_key_sends_no_authorization(mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("ok")), response(message("ok")))
    async with make_client(mock_model.url, env={}, env_key=None) as client:
        await collect(client)
    assert "authorization" not in mock_model.requests[0].headers
    provider = mock_provider(mock_model.url, env_key=None, experimental_bearer_token="tok")
    async with ModelClient(provider, model="m", thread_id="t", env={}) as client:
        await collect(client)
    assert mock_model.requests[1].headers["authorization"] == "Bearer tok"


async def test_api_key_resolver_may_be_async(mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("ok")))

    async def resolver() -> str:
        return "from-auth-json"

    provider = ModelProviderInfo(name="p", base_url=mock_model.url, env_key="UNSET_KEY")
    async with ModelClient(provider, model="m", thread_id="t", env={}, api_key_resolver=resolver) as client:
        await collect(client)
    assert mock_model.requests[0].headers["authorization"] == "Bearer from-auth-json"


async def test_real_sleeps_500_twice_then_success(mock_model: MockModelServer) -> None:
    """End to end with real asyncio.sleep and a tiny backoff base."""
    mock_model.enqueue(http_error(500), http_error(500), response(message("finally")))
    provider = mock_provider(mock_model.url, request_max_retries=0, stream_max_retries=2)
    slept: list[float] = []

    async def real_sleep(delay: float) -> None:
        slept.append(delay)
        await asyncio.sleep(delay)

    async with ModelClient(provider, model="m", thread_id="t", env={"MOCK_KEY": "k"},
                           backoff_base_s=0.02, sleep=real_sleep) as client:
        events = await collect(client)
    retries = [e for e in events if isinstance(e, StreamRetry)]
    assert len(retries) == 2
    # Each announced delay is actually waited, in order, before the next attempt.
    assert slept == [r.delay_s for r in retries] and all(d > 0 for d in slept)
    assert isinstance(events[-1], Completed)


class _WatchingWire:
    """The client's own wire, noting in `log` when a response is closed."""

    def __init__(self, log: list[str]) -> None:
        self._inner = ThreadedWire()
        self._log = log

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes, *, timeouts: Timeouts
    ) -> WireResponse:
        response = await self._inner.post(url, headers, body, timeouts=timeouts)
        inner_close = response.aclose

        async def aclose() -> None:
            self._log.append("response closed")
            await inner_close()

        response.aclose = aclose  # type: ignore[method-assign]
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_consumer_stopping_early_closes_the_response(mock_model: MockModelServer) -> None:
    """The response is closed by the time the consumer's `aclose()` returns, not later when
    the loop finalizes the abandoned inner generator (nor when the client closes)."""
    mock_model.enqueue(hang(keepalive_s=0.02, total_s=5))
    log: list[str] = []
    client = ModelClient(
        mock_provider(mock_model.url), model="gpt-5.5", thread_id="t",
        env={"MOCK_KEY": "x"}, wire=_WatchingWire(log),
    )
    async with client:
        stream = client.stream(prompt())
        async for _event in stream:
            break  # e.g. the user interrupted the turn
        await stream.aclose()  # type: ignore[attr-defined]
        log.append("consumer closed the stream")
        # Let the loop run the finalizers of abandoned generators: without aclosing, the
        # response closes here, too late.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    assert log == ["response closed", "consumer closed the stream"]


@pytest.mark.parametrize(
    "provider_text, expected",
    [
        (
            "Your input exceeds the context window of this model.",
            "pycodex ran out of room in the model's context window. Start a new thread or"
            " clear earlier history before retrying.",
        ),
        (
            "maximum context length is 128000 tokens, you asked for 130000",
            "pycodex ran out of room in the model's context window. Start a new thread or"
            " clear earlier history before retrying. (maximum context length is 128000"
            " tokens, you asked for 130000)",
        ),
    ],
)
async def test_context_window_message_says_what_to_do_once(
    mock_model: MockModelServer, provider_text: str, expected: str
) -> None:
    mock_model.enqueue(failed(provider_text, code="context_length_exceeded"))
    with pytest.raises(ContextWindowExceeded) as info:
        async with make_client(mock_model.url) as client:
            await collect(client)
    assert str(info.value) == expected


async def test_usage_limit_without_reset_time_says_later(mock_model: MockModelServer) -> None:
    mock_model.enqueue(http_error(429, {"error": {"type": "usage_limit_reached", "message": "x"}}))
    with pytest.raises(UsageLimitReached) as info:
        async with make_client(mock_model.url) as client:
            await collect(client)
    assert str(info.value) == "You\u2019ve hit your usage limit. Try again later."


async def test_a_web_page_instead_of_a_stream_says_so_and_is_not_retried(
    mock_model: MockModelServer,
) -> None:
    """A base_url pointing at a web page (or a proxy's error page answered with 200)."""
    page = Reply(content_type="text/html", steps=(_Write(b"<html>Welcome to nginx!</html>"),), streaming=False)
    mock_model.enqueue(page)
    with pytest.raises(InvalidResponse) as info:
        async with make_client(mock_model.url, stream_max_retries=3) as client:
            await collect(client)
    assert len(mock_model.requests) == 1
    assert str(info.value) == (
        f"invalid response from the model provider: {mock_model.url}/responses answered HTTP 200"
        " with text/html instead of an event stream (check base_url): <html>Welcome to nginx!</html>"
    )


async def test_an_event_stream_cut_short_is_still_a_retried_disconnect(mock_model: MockModelServer) -> None:
    cut = sse([{"type": "response.created", "response": {"id": "r0"}}])  # no response.completed
    mock_model.enqueue(cut, response(message("ok")))
    async with make_client(mock_model.url, stream_max_retries=1, sleep=RecordingSleep()) as client:
        events = await collect(client)
    assert isinstance(events[-1], Completed) and len(mock_model.requests) == 2


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ({"error": {"message": "Not found", "type": "invalid_request_error"}}, "Not found"),
        ("<html>404 page not found</html>", "<html>404 page not found</html>"),
    ],
)
async def test_other_4xx_name_the_message_and_the_url_as_codex(
    mock_model: MockModelServer, body: dict[str, object] | str, shown: str
) -> None:
    mock_model.enqueue(http_error(404, body))
    with pytest.raises(ApiError) as info:
        async with make_client(mock_model.url, request_max_retries=3) as client:
            await collect(client)
    assert len(mock_model.requests) == 1
    assert str(info.value) == f"unexpected status 404 Not Found: {shown}, url: {mock_model.url}/responses"
