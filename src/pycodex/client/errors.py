"""Errors raised by :class:`pycodex.client.ModelClient`.

Every error is a :class:`ModelClientError` whose ``str()`` is one line fit for the user.
``retryable`` tells the client's retry loop whether a new request may help; ``delay_s`` is a
server-suggested wait (Retry-After, "try again in 3s"), honoured instead of the backoff.

Tree::

    ModelClientError
      MissingApiKey          no key in the provider's env var (and none given)
      Unauthorized           HTTP 401/403
      ContextWindowExceeded  the input is too long for the model
      UsageLimitReached      plan usage limit hit (carries rate limits / reset time)
      UsageNotIncluded       the plan does not include this usage
      QuotaExceeded          insufficient_quota (billing)
      ApiError               any other non-retryable HTTP status (status + raw body)
      TransientHttpError     HTTP 429/5xx (retryable)
      RetryLimitReached      retries exhausted; wraps the last error
      ConnectionFailed       could not reach the provider (retryable until the bound)
        HostNotFound         its host name does not resolve (retried briefly)
      StreamIdleTimeout      no byte from the provider for too long (retryable)
      StreamDisconnected     the stream ended before completion (retryable)
      InvalidResponse        the provider sent something that is not the wire format
"""

from __future__ import annotations

import datetime as _dt

from pycodex.client.events import RateLimitSnapshot

_EXCERPT = 300


def one_line(text: str, limit: int | None = None) -> str:
    """Collapse whitespace so a body or message fits on one line; optionally truncate."""
    flat = " ".join(text.split())
    if limit is not None and len(flat) > limit:
        return flat[: limit - 1] + "…"
    return flat


class ModelClientError(Exception):
    retryable: bool = False

    def __init__(self, message: str, *, delay_s: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.delay_s = delay_s

    def __str__(self) -> str:
        return self.message


class MissingApiKey(ModelClientError):
    """No key in the provider's variable. ``login_helps``: the provider also takes the key
    `pycodex login` stores (the OpenAI provider); for any other provider the variable is the
    only way in, so that is what the hint names."""

    def __init__(
        self,
        env_key: str,
        instructions: str | None = None,
        *,
        provider_name: str | None = None,
        login_helps: bool = True,
    ) -> None:
        message = f"Missing environment variable: `{env_key}`."
        if instructions:
            message += f" {one_line(instructions)}"
        if login_helps:
            if "pycodex login" not in message:
                message += " Set it, or run `pycodex login` to store credentials."
        else:
            whose = f" for model provider `{provider_name}`" if provider_name else ""
            message += f" Set {env_key} to your API key{whose} (e.g. `export {env_key}=...`)."
        super().__init__(message)
        self.env_key = env_key
        self.instructions = instructions


class Unauthorized(ModelClientError):
    """401/403: Codex's text (see `ApiError`), plus where to fix the credentials."""

    def __init__(
        self,
        status: int,
        body: str,
        *,
        reason: str = "",
        url: str | None = None,
        detail: str | None = None,
    ) -> None:
        shown = one_line(detail or body, _EXCERPT)
        super().__init__(
            f"{_http_failure(status, reason, shown, url)} — check your API key or run `pycodex login`"
        )
        self.status = status
        self.body = body


_CONTEXT_WINDOW = (
    "pycodex ran out of room in the model's context window. "
    "Start a new thread or clear earlier history before retrying."
)


class ContextWindowExceeded(ModelClientError):
    def __init__(self, detail: str | None = None) -> None:
        # The provider's wording adds nothing to ours unless it carries figures.
        message = _CONTEXT_WINDOW
        if detail and any(ch.isdigit() for ch in detail):
            message += f" ({one_line(detail, _EXCERPT)})"
        super().__init__(message)


class UsageLimitReached(ModelClientError):
    def __init__(
        self,
        *,
        rate_limits: RateLimitSnapshot | None = None,
        resets_at: int | None = None,
        plan_type: str | None = None,
    ) -> None:
        # Codex's text (the provider's message is generic: "usage limit reached").
        message = "You\u2019ve hit your usage limit."
        if resets_at is not None:
            when = _dt.datetime.fromtimestamp(resets_at, _dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            message += f" Try again at {when}."
        else:
            message += " Try again later."
        super().__init__(message)
        self.rate_limits = rate_limits
        self.resets_at = resets_at
        self.plan_type = plan_type


class UsageNotIncluded(ModelClientError):
    def __init__(self) -> None:
        super().__init__("This usage is not included in your plan.")


class QuotaExceeded(ModelClientError):
    def __init__(self, detail: str | None = None) -> None:
        message = "Quota exceeded. Check your plan and billing details."
        if detail:
            message += f" ({one_line(detail, _EXCERPT)})"
        super().__init__(message)


def _status_text(status: int, reason: str) -> str:
    return f"{status} {reason}".strip()


def _http_failure(status: int, reason: str, shown: str, url: str | None) -> str:
    """`unexpected status 404 Not Found: <what the provider said>, url: <url>` (Codex's)."""
    where = f", url: {url}" if url else ""
    return f"unexpected status {_status_text(status, reason)}: {shown or '(empty body)'}{where}"


class ApiError(ModelClientError):
    """A non-retryable HTTP status. Like Codex: a 400 shows the raw body (it says what in
    the request was wrong); other statuses show the provider's `error.message` (else the
    body) and the URL, which is what a wrong `base_url` needs."""

    def __init__(
        self,
        status: int,
        body: str,
        reason: str = "",
        *,
        url: str | None = None,
        detail: str | None = None,
    ) -> None:
        if status == 400:
            text = _http_failure(status, reason, one_line(body, 2000), None)
        else:
            text = _http_failure(status, reason, one_line(detail or body, 2000), url)
        super().__init__(text)
        self.status = status
        self.reason = reason
        self.body = body


class TransientHttpError(ModelClientError):
    retryable = True

    def __init__(self, status: int, body: str, reason: str = "", *, delay_s: float | None = None) -> None:
        detail = one_line(body, _EXCERPT)
        text = _status_text(status, reason)
        super().__init__(f"{text}: {detail}" if detail else text, delay_s=delay_s)
        self.status = status
        self.reason = reason
        self.body = body


def _retries(count: int) -> str:
    # The same number the user saw last in "Reconnecting... N/M".
    return f"{count} retry" if count == 1 else f"{count} retries"


class RetryLimitReached(ModelClientError):
    def __init__(self, last_error: ModelClientError, retries: int) -> None:
        if retries == 0:
            # Retries were disabled: there was no "retry limit" from the user's view.
            message = last_error.message
        elif isinstance(last_error, TransientHttpError):
            message = f"exceeded retry limit after {_retries(retries)}, last status: {last_error.message}"
        else:
            message = f"exceeded retry limit after {_retries(retries)}, last error: {last_error.message}"
        super().__init__(message)
        self.last_error = last_error
        self.retries = retries


class ConnectionFailed(ModelClientError):
    retryable = True

    def __init__(self, url: str, reason: str, retries: int | None = None) -> None:
        message = f"could not connect to {url}: {one_line(reason, _EXCERPT) or 'connection failed'}"
        if retries:
            message += f" (gave up after {_retries(retries)})"
        super().__init__(message)
        self.url = url
        self.reason = reason
        self.retries = retries

    def gave_up(self, retries: int) -> ConnectionFailed:
        """This failure as the final error, after ``retries`` retries."""
        return ConnectionFailed(self.url, self.reason, retries)


class HostNotFound(ConnectionFailed):
    """The host name did not resolve. Usually a typo in `base_url` rather than a resolver
    that is briefly down, so the client retries it only briefly. The message does not name
    a host of its own: behind a proxy the name that failed may be the proxy's."""

    def __init__(self, url: str, detail: str, retries: int | None = None) -> None:
        super().__init__(url, f"cannot resolve the host name ({detail})", retries)
        self.detail = detail

    def gave_up(self, retries: int) -> HostNotFound:
        return HostNotFound(self.url, self.detail, retries)


class StreamIdleTimeout(ModelClientError):
    retryable = True

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"idle timeout: no data from the model provider for {timeout_s:g}s")
        self.timeout_s = timeout_s


class StreamDisconnected(ModelClientError):
    retryable = True

    def __init__(self, detail: str, *, delay_s: float | None = None) -> None:
        super().__init__(f"stream disconnected before completion: {one_line(detail, _EXCERPT)}", delay_s=delay_s)
        self.detail = detail


class InvalidResponse(ModelClientError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"invalid response from the model provider: {one_line(detail, _EXCERPT)}")
