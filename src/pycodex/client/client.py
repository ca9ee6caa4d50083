"""`ModelClient`: one streaming interface over the Responses and Chat Completions wires,
with bounded retries.

One retry budget per model request, with one counter: whatever fails — a POST answered
429/5xx or that cannot connect, a stream that drops, idles or ends in a retryable
`response.failed` — the whole request is sent again, and each retry is announced by a
`StreamRetry` event (`Reconnecting... N/M`) so the consumer discards the partial response.
The budget M is the larger of the provider's `request_max_retries` and
`stream_max_retries` (Codex's two settings, kept for its configs; counting them apart
multiplied the POSTs and made the counters the user saw disagree). A host name that does
not resolve gets at most `DNS_MAX_RETRIES` of them. When the budget is spent the last
failure is raised, saying how many retries were made: `RetryLimitReached`, or
`ConnectionFailed` when the provider was never reachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import socket
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from pycodex import __version__
from pycodex.client import chat, responses
from pycodex.client.errors import (
    ApiError,
    ConnectionFailed,
    ContextWindowExceeded,
    HostNotFound,
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
from pycodex.client.hooks import AuthProvider, RequestObserver
from pycodex.client.prompt import Prompt
from pycodex.client.rate_limits import parse_rate_limits
from pycodex.client.responses import RequestSettings
from pycodex.client.retry import BASE_DELAY_S, backoff_delay, parse_retry_after, parse_try_again_in
from pycodex.client.sse import SseDecoder, SseEvent
from pycodex.client.wire import (
    Timeouts,
    Wire,
    WireConnectError,
    WireError,
    WireResponse,
    WireTimeout,
    proxy_configured,
)
from pycodex.config.providers import ModelProviderInfo
from pycodex.tls import prewarm_default_ssl_context, take_default_ssl_context

if TYPE_CHECKING:
    from pycodex.http import httpx2

ApiKeyResolver = Callable[[], "str | Awaitable[str | None] | None"]
Sleep = Callable[[float], Awaitable[None]]

_CONNECT_TIMEOUT_S = 30.0
_BODY_START_BYTES = 300
#: Retries left to a request whose host name does not resolve (within the budget).
DNS_MAX_RETRIES = 2


class _BodyStart(msgspec.Struct):
    """What a response body began with, to explain one that was not an event stream."""

    events: int = 0
    head: bytes = b""


def classify_http_error(response: WireResponse, body: bytes) -> ModelClientError:
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
            url=response.url,
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
        url=response.url,
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
        wire: Wire | None = None,
        env: Mapping[str, str] | None = None,
        sleep: Sleep | None = None,
        backoff_base_s: float = BASE_DELAY_S,
        auth: AuthProvider | None = None,
        observer: RequestObserver | None = None,
        route: Callable[[], ModelProviderInfo] | None = None,
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
        self._wire_: Wire | None = wire
        self._auth = auth
        self._observer = observer
        # `route`: the provider as the thread's auth addresses it at the moment of a request
        # (a login or logout while the thread runs moves it); None: always `provider`.
        self._route = route
        self.base_url = resolve_base_url(provider, self._env)
        self.user_agent = user_agent(originator, __version__, self._env)
        if wire is None and transport is None and self.base_url.startswith("https://"):
            # The CA bundle (~20 ms, GIL released) loads on a thread while the session is
            # set up, ready for the first request; a plain-HTTP provider needs none.
            prewarm_default_ssl_context()
        #: POSTs made by the most recent :meth:`stream` call (for diagnostics and tests).
        self.last_attempts = 0

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._wire_ is not None:
            await self._wire_.aclose()
            self._wire_ = None

    # --- public -----------------------------------------------------------------------

    async def stream(self, prompt: Prompt) -> AsyncIterator[ResponseEvent]:
        """Yield the events of one model response, retrying within the provider's bounds."""
        request = await self._request(prompt)
        self.last_attempts = 0
        retry = 0
        reauthorized = False
        while True:
            failure: ModelClientError
            attempt = self._attempt(request)
            try:
                # aclosing: when the consumer stops early, the HTTP response closes now,
                # not whenever the garbage collector finalizes the generator.
                async with contextlib.aclosing(attempt):
                    async for event in attempt:
                        yield event
                return
            except ModelClientError as err:
                if not reauthorized and isinstance(err, Unauthorized) and await self._reauthorize():
                    # Refreshed credentials: the same request once more, outside the budget.
                    reauthorized = True
                    request = await self._request(prompt)
                    continue
                if not err.retryable:
                    raise
                failure = err
            limit = self._retry_limit(failure)
            if retry >= limit:
                raise _exhausted(failure, retry) from failure
            retry += 1
            delay = failure.delay_s
            if delay is None:
                delay = backoff_delay(retry, base_s=self._backoff_base_s)
            yield StreamRetry(retry, limit, failure.message, delay, failure)
            await self._sleep(delay)

    # --- internals --------------------------------------------------------------------

    async def _auth_headers(self) -> Mapping[str, str]:
        if self._auth is None:
            return {}
        from pycodex.auth.errors import AuthError

        try:
            return await self._auth.auth_headers()
        except AuthError as exc:
            raise ModelClientError(str(exc)) from None

    async def _reauthorize(self) -> bool:
        if self._auth is None or self._api_key:
            return False
        from pycodex.auth.errors import AuthError

        try:
            return await self._auth.unauthorized()
        except AuthError as exc:
            raise ModelClientError(str(exc)) from None

    async def _request(self, prompt: Prompt) -> _Request:
        auth_headers = {} if self._api_key else await self._auth_headers()
        api_key = None if "authorization" in auth_headers else await self._resolve_api_key()
        is_chat = self.provider.wire_api == "chat"
        settings = self._settings(prompt)
        if is_chat:
            path, body = chat.PATH, chat.build_body(prompt, settings)
        else:
            path, body = responses.PATH, responses.build_body(prompt, settings, self.thread_id)
        headers = build_headers(
            self.provider, api_key=api_key, originator=self.originator,
            user_agent_value=self.user_agent, thread_id=self.thread_id, env=self._env,
        )
        headers.update(auth_headers)
        headers.update({k.lower(): v for k, v in prompt.extra_headers.items()})
        return _Request(
            url=endpoint_url(self.current_base_url(), path, self.provider.query_params),
            headers=headers,
            # UTF-8 and compact, as Codex (serde_json) sends it; msgspec encodes a big
            # history several times faster than json.dumps.
            payload=msgspec.json.encode(body),
            is_chat=is_chat,
            custom_tools=chat.convert_tools(prompt.tools)[1] if is_chat else set(),
        )

    def current_base_url(self) -> str:
        """Where a request sent now goes."""
        if self._route is None:
            return self.base_url
        return resolve_base_url(self._route(), self._env)

    def _retry_limit(self, failure: ModelClientError) -> int:
        """How many retries this request may make, given its latest failure."""
        provider = self.provider
        budget = max(provider.effective_request_max_retries(), provider.effective_stream_max_retries())
        if isinstance(failure, HostNotFound):
            # Waiting ~25 s for a typo in base_url to start resolving helps nobody; a
            # resolver that hiccuped gets its second and third chance.
            return min(budget, DNS_MAX_RETRIES)
        return budget

    def _settings(self, prompt: Prompt) -> RequestSettings:
        o = prompt.settings
        if o.complete:
            return RequestSettings(
                model=o.model or self.model,
                reasoning_effort=o.reasoning_effort,
                reasoning_summary=o.reasoning_summary,
                verbosity=o.verbosity,
            )
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
            raise MissingApiKey(
                env_key,
                self.provider.env_key_instructions,
                provider_name=self.provider.name,
                # Only a provider taking OpenAI auth reads the key `pycodex login` stores.
                login_helps=self.provider.requires_openai_auth,
            )
        return value

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.base_url.startswith("http://"):
            # A plain-HTTP provider (a local model) needs no CA certificates (~20-60 ms to
            # load): none now, httpcore2 loads them if a request is ever routed to https.
            return None
        if self._transport is not None:
            return None  # a caller's httpx2 transport: httpx2 builds its own
        # The default context (system CAs; SSL_CERT_FILE/SSL_CERT_DIR honoured), built in
        # the background at startup when `pycodex exec` could (`pycodex.tls`), else now:
        # once per client, not once per connection as httpcore2 would without one.
        context = take_default_ssl_context()
        if context is None:
            from pycodex.http_core import httpcore2

            context = httpcore2.default_ssl_context()
        return context

    def _wire(self) -> Wire:
        if self._wire_ is None:
            context = self._tls_context()
            if self._transport is None and not proxy_configured(self._env):
                # httpcore2's pool on worker threads: no httpx2, no anyio (wire_threads.py).
                from pycodex.client.wire_threads import ThreadedWire

                self._wire_ = ThreadedWire(context)
            else:
                from pycodex.client.wire_httpx import HttpxWire

                try:
                    self._wire_ = HttpxWire(self._transport, context)
                except ImportError as exc:  # a socks5:// proxy without socksio installed
                    raise ModelClientError(f"cannot use the configured proxy: {exc}") from None
        return self._wire_

    def _timeouts(self) -> Timeouts:
        idle = self.provider.effective_stream_idle_timeout_s()
        return Timeouts(connect=min(idle, _CONNECT_TIMEOUT_S), read=idle)

    async def _attempt(self, request: _Request) -> AsyncGenerator[ResponseEvent, None]:
        url = request.url
        response = await self._send(request)
        seen = _BodyStart()
        try:
            snapshot = parse_rate_limits(response.headers)
            if snapshot is not None:
                yield RateLimits(snapshot)
            sse_events = self._sse_events(response, seen)
            parsed = (
                chat.parse_stream(sse_events, request.custom_tools) if request.is_chat
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

    async def _send(self, request: _Request) -> WireResponse:
        """One POST; returns a 2xx streaming response or raises (retryable or not)."""
        wire = self._wire()
        url = request.url
        self.last_attempts += 1
        started = time.monotonic()
        try:
            response = await wire.post(
                url, request.headers, request.payload, timeouts=self._timeouts()
            )
        except WireConnectError as exc:
            self._observe_failure(started, exc.__cause__ or exc)
            resolution = _resolution_failure(exc)
            if resolution is not None:
                raise HostNotFound(url, resolution.strerror or str(resolution)) from None
            raise ConnectionFailed(url, str(exc)) from None
        except WireTimeout as exc:
            self._observe_failure(started, exc.__cause__ or exc)
            raise StreamIdleTimeout(self.provider.effective_stream_idle_timeout_s()) from None
        except WireError as exc:
            self._observe_failure(started, exc.__cause__ or exc)
            raise StreamDisconnected(_describe(exc)) from None
        status = response.status_code
        success = 200 <= status < 300
        error = None if success else f"HTTP {status}"
        self._observe_request(started, status, error, response.headers.get("cf-ray"))
        if success:
            return response
        try:
            body = await response.aread()
        except WireError:
            body = b""
        finally:
            await response.aclose()
        raise classify_http_error(response, body)

    def _observe_request(
        self, started: float, status: int | None, error: str | None, cf_ray: str | None
    ) -> None:
        if self._observer is not None:
            self._observer.api_request(
                attempt=self.last_attempts, duration_ms=int((time.monotonic() - started) * 1000),
                status=status, error=error, cf_ray=cf_ray,
            )

    def _observe_failure(self, started: float, exc: BaseException) -> None:
        self._observe_request(started, None, f"{type(exc).__name__}: {exc}", None)

    async def _sse_events(
        self, response: WireResponse, seen: _BodyStart
    ) -> AsyncGenerator[SseEvent, None]:
        """SSE events of the body; raises StreamIdleTimeout when no byte arrives for the idle
        timeout (keepalive comments count as activity) and StreamDisconnected on I/O errors."""
        idle = self.provider.effective_stream_idle_timeout_s()
        decoder = SseDecoder()
        chunks = response.aiter_bytes()
        last = time.monotonic()
        try:
            while True:
                try:
                    async with asyncio.timeout(idle):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except (TimeoutError, WireTimeout):
                    raise StreamIdleTimeout(idle) from None
                except WireError as exc:
                    raise StreamDisconnected(_describe(exc)) from None
                if len(seen.head) < _BODY_START_BYTES:
                    seen.head += chunk[: _BODY_START_BYTES - len(seen.head)]
                for event in decoder.feed(chunk):
                    seen.events += 1
                    if self._observer is not None:
                        now = time.monotonic()
                        self._observer.sse_event(
                            kind=event.event, duration_ms=int((now - last) * 1000), data=event.data
                        )
                        last = now
                    yield event
            for event in decoder.close():
                seen.events += 1
                yield event
        finally:
            with contextlib.suppress(Exception):
                await chunks.aclose()


class _Request(msgspec.Struct, frozen=True):
    """One model request, built once and sent again as is on every retry."""

    url: str
    headers: dict[str, str]
    payload: bytes
    is_chat: bool
    custom_tools: set[str]


def _exhausted(err: ModelClientError, retries: int) -> ModelClientError:
    if isinstance(err, ConnectionFailed):
        return err.gave_up(retries)
    return RetryLimitReached(err, retries)


def _resolution_failure(exc: BaseException) -> socket.gaierror | None:
    """The name-resolution error under an httpx connect error, if that is what it was."""
    seen: BaseException | None = exc
    for _ in range(8):  # the chain is short (httpx2 -> httpcore2 -> OS); never loop forever
        if seen is None:
            return None
        if isinstance(seen, socket.gaierror):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _describe(exc: WireError) -> str:
    """`Kind: message` of the HTTP library's error under a wire error (as users saw it)."""
    cause = exc.__cause__
    if cause is not None and not isinstance(cause, OSError):
        return f"{type(cause).__name__}: {cause}"
    return str(exc)
