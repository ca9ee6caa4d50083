"""`ModelClient`: one streaming interface over the Responses and Chat Completions wires,
with bounded retries.

Two retry layers, as in Codex:
* request level — a POST that fails with 429/5xx or cannot connect is re-sent up to
  `request_max_retries` times, silently (nothing was streamed yet);
* stream level — when that is exhausted, or the stream breaks (dropped, idle, retryable
  `response.failed`), the whole request is redone up to `stream_max_retries` times, each
  announced by a `StreamRetry` event so the consumer discards the partial response.
So HTTP 500 forever costs (request_max_retries+1) × (stream_max_retries+1) POSTs, then
`RetryLimitReached` (or `ConnectionFailed` when the provider was never reachable).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import msgspec

from pycodex import __version__
from pycodex.client import chat, responses
from pycodex.client.errors import (
    ApiError,
    ConnectionFailed,
    ContextWindowExceeded,
    InvalidResponse,
    MissingApiKey,
    ModelClientError,
    QuotaExceeded,
    RetryLimitReached,
    StreamDisconnected,
    StreamIdleTimeout,
    TransientHttpError,
    Unauthorized,
    UsageLimitReached,
    UsageNotIncluded,
)
from pycodex.client.events import RateLimits, ResponseEvent, StreamRetry
from pycodex.client.headers import build_headers, endpoint_url, resolve_base_url, user_agent
from pycodex.client.prompt import Prompt
from pycodex.client.rate_limits import parse_rate_limits
from pycodex.client.responses import RequestSettings
from pycodex.client.retry import BASE_DELAY_S, backoff_delay, parse_retry_after, parse_try_again_in
from pycodex.client.sse import SseDecoder, SseEvent
from pycodex.config.providers import ModelProviderInfo
from pycodex.http import httpx2
from pycodex.tls import take_default_ssl_context

ApiKeyResolver = Callable[[], "str | Awaitable[str | None] | None"]
Sleep = Callable[[float], Awaitable[None]]

_CONNECT_TIMEOUT_S = 30.0
_BODY_START_BYTES = 300


class _BodyStart(msgspec.Struct):
    """What a response body began with, to explain one that was not an event stream."""

    events: int = 0
    head: bytes = b""


def _request_url(response: httpx2.Response) -> str | None:
    try:
        return str(response.request.url)
    except RuntimeError:  # a Response built without its request (tests)
        return None


def classify_http_error(response: httpx2.Response, body: bytes) -> ModelClientError:
    """Map a non-2xx answer to an error; ``retryable`` says whether to try again."""
    status = response.status_code
    reason = response.reason_phrase or ""
    text = body.decode("utf-8", errors="replace")
    error: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        parsed = json.loads(text)
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            error = parsed["error"]
    kind = {error.get("type"), error.get("code")}
    raw_message = error.get("message")
    message = raw_message if isinstance(raw_message, str) else None
    if status in (401, 403):
        return Unauthorized(
            status,
            text,
            reason=reason,
            url=_request_url(response),
            detail=message,
        )
    if "usage_limit_reached" in kind:
        active = response.headers.get("x-codex-active-limit")
        resets = error.get("resets_at")
        return UsageLimitReached(
            rate_limits=parse_rate_limits(response.headers, limit_id=active),
            resets_at=resets if isinstance(resets, int) else None,
            plan_type=error.get("plan_type") if isinstance(error.get("plan_type"), str) else None,
        )
    if "usage_not_included" in kind:
        return UsageNotIncluded()
    if "insufficient_quota" in kind:
        return QuotaExceeded(message)
    if "context_length_exceeded" in kind:
        return ContextWindowExceeded(message)
    if status == 429 or status >= 500:
        delay = parse_retry_after(response.headers)
        if delay is None:
            delay = parse_try_again_in(message)
        return TransientHttpError(status, text, reason, delay_s=delay)
    return ApiError(
        status,
        text,
        reason,
        url=_request_url(response),
        detail=message,
    )


class ModelClient:
    """Streams one model response per :meth:`stream` call. Not thread-safe; one per thread
    of conversation. Call :meth:`aclose` (or use ``async with``) when done."""

    def __init__(
        self,
        provider: ModelProviderInfo,
        *,
        model: str,
        thread_id: str,
        api_key: str | None = None,
        api_key_resolver: ApiKeyResolver | None = None,
        originator: str = "pycodex_exec",
        reasoning_effort: str | None = None,
        reasoning_summary: str | None = None,
        verbosity: str | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        env: Mapping[str, str] | None = None,
        sleep: Sleep | None = None,
        backoff_base_s: float = BASE_DELAY_S,
    ) -> None:
        self.provider = provider
        self.model = model
        self.thread_id = thread_id
        self.originator = originator
        self.reasoning_effort = reasoning_effort
        self.reasoning_summary = reasoning_summary
        self.verbosity = verbosity
        self._api_key = api_key
        self._api_key_resolver = api_key_resolver
        self._env: Mapping[str, str] = os.environ if env is None else env
        self._sleep: Sleep = sleep or asyncio.sleep
        self._backoff_base_s = backoff_base_s
        self._transport = transport
        self._http: httpx2.AsyncClient | None = None
        self.base_url = resolve_base_url(provider, self._env)
        self.user_agent = user_agent(originator, __version__, self._env)
        #: POSTs made by the most recent :meth:`stream` call (for diagnostics and tests).
        self.last_attempts = 0

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- public -----------------------------------------------------------------------

    async def stream(self, prompt: Prompt) -> AsyncIterator[ResponseEvent]:
        """Yield the events of one model response, retrying within the provider's bounds."""
        api_key = await self._resolve_api_key()
        is_chat = self.provider.wire_api == "chat"
        settings = self._settings(prompt)
        if is_chat:
            path, body = chat.PATH, chat.build_body(prompt, settings)
        else:
            path, body = responses.PATH, responses.build_body(prompt, settings, self.thread_id)
        url = endpoint_url(self.base_url, path, self.provider.query_params)
        headers = build_headers(
            self.provider, api_key=api_key, originator=self.originator,
            user_agent_value=self.user_agent, thread_id=self.thread_id, env=self._env,
        )
        headers.update({k.lower(): v for k, v in prompt.extra_headers.items()})
        # UTF-8 and compact, as Codex (serde_json) sends it; msgspec encodes a big history
        # several times faster than json.dumps.
        payload = msgspec.json.encode(body)
        _, custom_tools = chat.convert_tools(prompt.tools) if is_chat else ([], set())

        max_retries = self.provider.effective_stream_max_retries()
        self.last_attempts = 0
        retry = 0
        while True:
            failure: ModelClientError
            attempt = self._attempt(url, headers, payload, is_chat, custom_tools)
            try:
                # aclosing: when the consumer stops early, the HTTP response closes now,
                # not whenever the garbage collector finalizes the generator.
                async with contextlib.aclosing(attempt):
                    async for event in attempt:
                        yield event
                return
            except ModelClientError as err:
                if not err.retryable:
                    raise
                failure = err
            if retry >= max_retries:
                raise self._exhausted(failure) from failure
            retry += 1
            delay = failure.delay_s
            if delay is None:
                delay = backoff_delay(retry, base_s=self._backoff_base_s)
            yield StreamRetry(retry, max_retries, failure.message, delay, failure)
            await self._sleep(delay)

    # --- internals --------------------------------------------------------------------

    def _settings(self, prompt: Prompt) -> RequestSettings:
        o = prompt.settings
        return RequestSettings(
            model=o.model or self.model,
            reasoning_effort=o.reasoning_effort or self.reasoning_effort,
            reasoning_summary=o.reasoning_summary or self.reasoning_summary,
            verbosity=o.verbosity or self.verbosity,
        )

    async def _resolve_api_key(self) -> str | None:
        # Order: explicit key, configured bearer token, the auth resolver, the env var.
        if self._api_key:
            return self._api_key
        if self.provider.experimental_bearer_token:
            return self.provider.experimental_bearer_token
        if self._api_key_resolver is not None:
            value = self._api_key_resolver()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
        env_key = self.provider.env_key
        if not env_key:
            return None  # e.g. a local Ollama: no authorization header at all
        value = self._env.get(env_key, "").strip()
        if not value:
            raise MissingApiKey(env_key, self.provider.env_key_instructions)
        return value

    def _tls_context(self) -> ssl.SSLContext | bool:
        if self.base_url.startswith("http://"):
            # A plain-HTTP provider (a local model) needs no CA certificates: loading them
            # costs ~20-60 ms before the first request. This context verifies nothing and
            # so refuses any TLS peer, should a request ever reach one.
            return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        # The same context httpx2 would build (verify=True), when `pycodex exec` had it
        # built in the background at startup (`pycodex.tls`).
        context = take_default_ssl_context() if self._transport is None else None
        return context if context is not None else True

    def _client(self) -> httpx2.AsyncClient:
        if self._http is None:
            idle = self.provider.effective_stream_idle_timeout_s()
            self._http = httpx2.AsyncClient(
                transport=self._transport,
                timeout=httpx2.Timeout(idle, connect=min(idle, _CONNECT_TIMEOUT_S)),
                verify=self._tls_context(),
            )
        return self._http

    def _exhausted(self, err: ModelClientError) -> ModelClientError:
        if isinstance(err, ConnectionFailed):
            return ConnectionFailed(err.url, err.reason, attempts=self.last_attempts)
        return RetryLimitReached(err, self.last_attempts)

    async def _attempt(
        self, url: str, headers: dict[str, str], payload: bytes, is_chat: bool, custom_tools: set[str]
    ) -> AsyncGenerator[ResponseEvent, None]:
        response = await self._send(url, headers, payload)
        seen = _BodyStart()
        try:
            snapshot = parse_rate_limits(response.headers)
            if snapshot is not None:
                yield RateLimits(snapshot)
            sse_events = self._sse_events(response, seen)
            parsed = (
                chat.parse_stream(sse_events, custom_tools) if is_chat
                else responses.parse_stream(sse_events)
            )
            async with contextlib.aclosing(sse_events), contextlib.aclosing(parsed):
                async for event in parsed:
                    yield event
        except StreamDisconnected:
            content_type = response.headers.get("content-type", "")
            if seen.events == 0 and "event-stream" not in content_type:
                # Not a stream at all: typically a base_url that points at a web page or a
                # proxy's error page. Retrying would not help; saying what came back does.
                raise InvalidResponse(
                    f"{url} answered HTTP {response.status_code} with "
                    f"{content_type or 'no content type'} instead of an event stream "
                    f"(check base_url): {seen.head.decode('utf-8', errors='replace')}"
                ) from None
            raise
        finally:
            await response.aclose()

    async def _send(self, url: str, headers: dict[str, str], payload: bytes) -> httpx2.Response:
        """POST with request-level retries; returns a 2xx streaming response."""
        client = self._client()
        max_retries = self.provider.effective_request_max_retries()
        attempt = 0
        while True:
            self.last_attempts += 1
            err: ModelClientError
            try:
                request = client.build_request(
                    "POST", url, headers=_with_length(headers, payload), content=_body(payload)
                )
                response = await client.send(request, stream=True)
            except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
                err = ConnectionFailed(url, str(exc) or type(exc).__name__)
            except httpx2.TimeoutException:
                err = StreamIdleTimeout(self.provider.effective_stream_idle_timeout_s())
            except httpx2.TransportError as exc:
                err = StreamDisconnected(f"{type(exc).__name__}: {exc}")
            else:
                if response.is_success:
                    return response
                try:
                    body = await response.aread()
                except httpx2.HTTPError:
                    body = b""
                finally:
                    await response.aclose()
                err = classify_http_error(response, body)
                if not err.retryable:
                    raise err
            if attempt >= max_retries:
                raise err
            attempt += 1
            delay = err.delay_s
            if delay is None:
                delay = backoff_delay(attempt, base_s=self._backoff_base_s)
            await self._sleep(delay)

    async def _sse_events(
        self, response: httpx2.Response, seen: _BodyStart
    ) -> AsyncGenerator[SseEvent, None]:
        """SSE events of the body; raises StreamIdleTimeout when no byte arrives for the idle
        timeout (keepalive comments count as activity) and StreamDisconnected on I/O errors."""
        idle = self.provider.effective_stream_idle_timeout_s()
        decoder = SseDecoder()
        chunks = response.aiter_bytes()
        try:
            while True:
                try:
                    async with asyncio.timeout(idle):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise StreamIdleTimeout(idle) from None
                except httpx2.TimeoutException:
                    raise StreamIdleTimeout(idle) from None
                except httpx2.TransportError as exc:
                    raise StreamDisconnected(f"{type(exc).__name__}: {exc}") from None
                if len(seen.head) < _BODY_START_BYTES:
                    seen.head += chunk[: _BODY_START_BYTES - len(seen.head)]
                for event in decoder.feed(chunk):
                    seen.events += 1
                    yield event
            for event in decoder.close():
                seen.events += 1
                yield event
        finally:
            with contextlib.suppress(Exception):
                await chunks.aclose()


# Bodies above this go out in slices: one huge write makes asyncio's transport buffer the
# rest and move it down after every send (a resumed 80 MB history took ~3x as long).
_SLICE = 1 << 20


def _body(payload: bytes) -> bytes | AsyncIterator[bytes]:
    if len(payload) <= _SLICE:
        return payload
    return _slices(payload)


async def _slices(payload: bytes) -> AsyncIterator[bytes]:
    view = memoryview(payload)
    for start in range(0, len(payload), _SLICE):
        yield bytes(view[start : start + _SLICE])


def _with_length(headers: dict[str, str], payload: bytes) -> dict[str, str]:
    # Sliced bodies keep a Content-Length (not chunked encoding, which some servers refuse).
    if len(payload) <= _SLICE:
        return headers
    return {**headers, "content-length": str(len(payload))}
