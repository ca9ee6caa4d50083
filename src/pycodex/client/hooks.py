"""What the model client lets others plug in: auth and observation.

Both are optional and duck-typed (Protocols), so `client/` imports neither `auth/` nor
`telemetry/` and a test can pass a small fake.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class AuthProvider(Protocol):
    """Supplies authorization headers; told about a 401 so it can refresh.

    ``auth_headers`` may refresh credentials first (e.g. tokens about to expire). An empty
    mapping means "no credential here": the client falls back to the provider's env key.
    ``unauthorized`` returns True when a retry of the refused request may succeed; the
    client retries once. Either may raise ``pycodex.auth.errors.AuthError``.
    """

    async def auth_headers(self) -> Mapping[str, str]: ...

    async def unauthorized(self) -> bool: ...


class RequestObserver(Protocol):
    """Sees every POST and every SSE event (telemetry). Must be cheap and never raise."""

    def api_request(
        self, *, attempt: int, duration_ms: int, status: int | None, error: str | None,
        cf_ray: str | None,
    ) -> None: ...

    def sse_event(self, *, kind: str, duration_ms: int, data: str) -> None: ...
