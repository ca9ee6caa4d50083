"""`HttpxWire`: the model client's wire over an `httpx2.AsyncClient`.

Used when the environment names a proxy (httpx2 reads `HTTP(S)_PROXY`, `ALL_PROXY` and
`NO_PROXY` and mounts a proxy transport per pattern) and when a caller hands the model
client an httpx2 transport (tests use `httpx2.MockTransport`). httpx2's errors become the
wire's (`pycodex.client.wire`).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping

from pycodex.client.wire import Headers, Timeouts, WireConnectError, WireError, WireTimeout
from pycodex.http import httpx2

__all__ = ["HttpxWire"]

# Bodies above this go out in slices: one huge write makes asyncio's transport buffer the
# rest and move it down after every send (a resumed 80 MB history took ~3x as long).
_SLICE = 1 << 20


@contextlib.contextmanager
def _wire_errors() -> Iterator[None]:
    try:
        yield
    except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
        raise WireConnectError(str(exc) or type(exc).__name__) from exc
    except httpx2.TimeoutException as exc:
        raise WireTimeout(str(exc) or type(exc).__name__) from exc
    except httpx2.HTTPError as exc:
        raise WireError(f"{type(exc).__name__}: {exc}") from exc


class HttpxWire:
    """POSTs through an `httpx2.AsyncClient` over `transport` (httpx2's default when None,
    with the environment's proxies)."""

    def __init__(
        self,
        transport: httpx2.AsyncBaseTransport | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._client = httpx2.AsyncClient(
            transport=transport, verify=ssl_context if ssl_context is not None else True
        )

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes, *, timeouts: Timeouts
    ) -> _HttpxResponse:
        timeout = httpx2.Timeout(timeouts.read, connect=timeouts.connect)
        content: bytes | AsyncIterator[bytes] = body
        sent_headers = dict(headers)
        if len(body) > _SLICE:
            # Sliced bodies keep a Content-Length (not chunked encoding, which some servers
            # refuse).
            content = _slices(body)
            sent_headers["content-length"] = str(len(body))
        request = self._client.build_request(
            "POST", url, headers=sent_headers, content=content, timeout=timeout
        )
        with _wire_errors():
            response = await self._client.send(request, stream=True)
        return _HttpxResponse(url, response)

    async def aclose(self) -> None:
        await self._client.aclose()


class _HttpxResponse:
    def __init__(self, url: str, response: httpx2.Response) -> None:
        self.url = url
        self.status_code = response.status_code
        self.reason_phrase = response.reason_phrase or ""
        self.headers = Headers(response.headers.multi_items())
        self._response = response

    async def aiter_bytes(self) -> AsyncGenerator[bytes, None]:
        with _wire_errors():
            async for chunk in self._response.aiter_bytes():
                yield chunk

    async def aread(self) -> bytes:
        with _wire_errors():
            return await self._response.aread()

    async def aclose(self) -> None:
        await self._response.aclose()


async def _slices(payload: bytes) -> AsyncIterator[bytes]:
    view = memoryview(payload)
    for start in range(0, len(payload), _SLICE):
        yield bytes(view[start : start + _SLICE])
