"""ChatGPT tokens supplied by a host application (app-server `chatgptAuthTokens`).

Held in memory only — never written to `auth.json` or a keyring — and refreshed by the
host: after a 401 the model client asks :meth:`ExternalTokens.refresh`, which calls the
refresher the front end installed (the app-server sends `account/chatgptAuthTokens/refresh`
to its client, waiting 10 s at most), adopts the tokens it answers and lets the request be
retried once. Concurrent 401s share one refresh: a caller whose stale token was already
replaced simply retries with the new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pycodex.auth.errors import RefreshFailed

REFRESH_TIMEOUT_S = 10.0

#: (previous account id) -> (access token, account id, plan type or None)
Refresher = Callable[[str | None], Awaitable[tuple[str, str, str | None]]]


class ExternalTokens:
    def __init__(self) -> None:
        self.access_token: str | None = None
        self.account_id: str | None = None
        self.plan_type: str | None = None
        self._refresher: Refresher | None = None
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        return bool(self.access_token)

    def set(self, access_token: str, account_id: str, plan_type: str | None, refresher: Refresher | None) -> None:
        self.access_token, self.account_id, self.plan_type = access_token, account_id, plan_type
        self._refresher = refresher

    def clear(self) -> None:
        self.access_token = self.account_id = self.plan_type = None
        self._refresher = None

    def headers(self) -> dict[str, str]:
        assert self.access_token is not None
        headers = {"authorization": f"Bearer {self.access_token}"}
        if self.account_id:
            headers["chatgpt-account-id"] = self.account_id
        return headers

    async def refresh(self, stale_access_token: str | None) -> bool:
        """New tokens from the host after a 401; True when a retry may now succeed."""
        async with self._lock:
            if not self.active:
                return False  # logged out meanwhile
            if self.access_token != stale_access_token:
                return True  # another request refreshed them already
            if self._refresher is None:
                raise RefreshFailed("the ChatGPT tokens were refused and their host cannot refresh them")
            try:
                access, account, plan = await asyncio.wait_for(self._refresher(self.account_id), REFRESH_TIMEOUT_S)
            except TimeoutError:
                raise RefreshFailed(
                    f"the client did not refresh the ChatGPT tokens within {int(REFRESH_TIMEOUT_S)} s"
                ) from None
            except RefreshFailed:
                raise
            except Exception as exc:  # the client's JSON-RPC error, a closed connection
                raise RefreshFailed(f"the client could not refresh the ChatGPT tokens: {exc}") from None
            self.access_token, self.account_id, self.plan_type = access, account, plan
            return True
