"""The model client's HTTP seam: one POST, its status and headers, its body as chunks.

`ModelClient` needs very little of HTTP: send a request, look at the answer's status and
headers, read the body as it streams in, close it early. This module states that much as
a `Wire` protocol, with the few failures the client tells apart:

* :class:`WireConnectError` — no connection (refused, name not resolved, connect timeout);
* :class:`WireTimeout` — the connection stalled (read, write or pool timeout);
* :class:`WireError` — the root: anything else on the way (a dropped connection, a
  malformed answer, a proxy that refused).

Two wires implement it:

* `pycodex.client.wire_threads.ThreadedWire` — httpcore2's connection pool (keep-alive,
  TLS, HTTP/1.1) driven from worker threads. Used when no proxy is configured: it loads
  neither httpx2 (with the `http.cookiejar`, `urllib.request` and `email` modules its
  models import) nor anyio, ~25–40 ms of every `pycodex exec` before the first request.
* `pycodex.client.wire_httpx.HttpxWire` — an `httpx2.AsyncClient`: used when the
  environment names a proxy (httpx2 resolves `HTTP(S)_PROXY`/`ALL_PROXY`/`NO_PROXY` and
  mounts its proxy transports), and when a caller hands the client an httpx2 transport
  (tests use `httpx2.MockTransport`).

Standard library only at import time.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Iterator, Mapping
from typing import Protocol

__all__ = [
    "Headers",
    "Timeouts",
    "Wire",
    "WireConnectError",
    "WireError",
    "WireResponse",
    "WireTimeout",
    "proxy_configured",
]


class WireError(Exception):
    """The request or its answer failed on the way (the root of the wire's errors)."""


class WireConnectError(WireError):
    """No connection to the server (the cause chain holds the OS error, if any)."""


class WireTimeout(WireError):
    """A connect, read, write or pool timeout."""


class Headers(Mapping[str, str]):
    """Response headers, looked up without regard to case; a repeated header's values are
    joined with ", " (as httpx2 does)."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        merged: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        self._values = merged

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Headers({self._values!r})"


class WireResponse(Protocol):
    """An answer whose body has not been read yet."""

    status_code: int
    reason_phrase: str
    headers: Headers
    url: str

    def aiter_bytes(self) -> AsyncGenerator[bytes, None]:
        """The body as it arrives; raises a `WireError` if the connection fails."""
        ...

    async def aread(self) -> bytes:
        """The whole body (what is left of it)."""
        ...

    async def aclose(self) -> None:
        """Done with the answer: a body not read to its end closes its connection now."""
        ...


class Wire(Protocol):
    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes, *, timeouts: Timeouts
    ) -> WireResponse:
        """Send a POST; return once the answer's head arrived. Raises a `WireError`."""
        ...

    async def aclose(self) -> None: ...


class Timeouts:
    """How long to wait for a connection, and for each read or write once connected."""

    __slots__ = ("connect", "read")

    def __init__(self, *, connect: float, read: float) -> None:
        self.connect = connect
        self.read = read


def proxy_configured(env: Mapping[str, str]) -> bool:
    """Whether the environment names a proxy for HTTP(S) requests (any case, as curl and
    httpx2 read them); NO_PROXY alone changes nothing."""
    names = {"http_proxy", "https_proxy", "all_proxy"}
    return any(value.strip() for key, value in env.items() if key.lower() in names)

