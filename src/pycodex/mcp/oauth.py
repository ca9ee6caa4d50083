"""OAuth for streamable-HTTP MCP servers: `pycodex mcp login NAME`, and the stored tokens
on every later connection.

The mcp SDK's `OAuthClientProvider` does the protocol (discovery, dynamic client
registration, PKCE, the code exchange, refresh); pycodex supplies what is around it:

* :class:`FileTokenStorage` — the SDK's token storage over :mod:`.oauth_store`
  (`$PYCODEX_HOME/mcp_oauth_credentials.json`, mode 0600);
* :class:`StoredOAuth` — the provider with two fixes for credentials that outlive the
  process: a stored token's expiry is absolute, so one that expired while pycodex was not
  running is refreshed before it is sent, and the authorization server's metadata found
  at login is restored, so the refresh goes to its real token endpoint;
* :func:`login` — the browser flow: a loopback callback server, the authorization URL
  printed (and opened in a browser when there is one), five minutes to finish.

A connection with stored credentials never starts an interactive flow: when its tokens
are refused and cannot be refreshed, it fails with "run `pycodex mcp login NAME`".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthMetadata,
    OAuthToken,
)

from pycodex import __version__
from pycodex.mcp import oauth_store
from pycodex.mcp.errors import McpError

LOGIN_TIMEOUT_S = 300.0
CALLBACK_PATH = "/callback"


class FileTokenStorage:
    """The SDK's `TokenStorage` for one server, backed by the credentials file."""

    def __init__(self, home: Path, name: str, url: str, *, fresh: bool = False) -> None:
        self.home, self.name, self.url = home, name, url
        # A new login: the stored tokens (if any) are not offered, only replaced once the
        # login succeeds; a failed login leaves them as they were.
        self.fresh = fresh

    def _entry(self) -> dict[str, Any]:
        try:
            return oauth_store.load_entry(self.home, self.name, self.url) or {}
        except oauth_store.OAuthStoreError as exc:
            raise McpError(str(exc)) from None

    async def get_tokens(self) -> OAuthToken | None:
        if self.fresh:
            return None
        entry = self._entry()
        raw = entry.get("tokens")
        if not isinstance(raw, dict):
            return None
        token = OAuthToken.model_validate(raw)
        expires_at = entry.get("expires_at")
        if isinstance(expires_at, (int, float)):
            token.expires_in = max(int(expires_at - time.time()), 0)
        return token

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.fresh = False
        oauth_store.save_tokens(self.home, self.name, self.url, tokens.model_dump(mode="json", exclude_none=True))

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        raw = self._entry().get("client_info")
        return OAuthClientInformationFull.model_validate(raw) if isinstance(raw, dict) else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        info = client_info.model_dump(mode="json", exclude_none=True)
        oauth_store.update_entry(self.home, self.name, self.url, client_info=info)

    def metadata(self) -> OAuthMetadata | None:
        raw = self._entry().get("server_metadata")
        return OAuthMetadata.model_validate(raw) if isinstance(raw, dict) else None

    def save_metadata(self, metadata: OAuthMetadata | None) -> None:
        if metadata is not None:
            raw = metadata.model_dump(mode="json", exclude_none=True)
            oauth_store.update_entry(self.home, self.name, self.url, server_metadata=raw)


class StoredOAuth(OAuthClientProvider):
    """`OAuthClientProvider` whose stored token knows when it expires (see the module)."""

    def __init__(self, storage: FileTokenStorage, **kwargs: Any) -> None:
        super().__init__(storage.url, storage=storage, **kwargs)
        self._file = storage

    async def _initialize(self) -> None:
        await super()._initialize()
        tokens = self.context.current_tokens
        if tokens is not None and tokens.expires_in is not None:
            self.context.update_token_expiry(tokens)
        if self.context.oauth_metadata is None:
            self.context.oauth_metadata = self._file.metadata()


def _client_metadata(redirect_uri: str, scopes: list[str] | None) -> OAuthClientMetadata:
    return OAuthClientMetadata.model_validate({
        "client_name": "pycodex",
        "client_uri": "https://github.com/openai/codex",
        "software_id": "pycodex",
        "software_version": __version__,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": " ".join(scopes) if scopes else None,
    })


def connection_auth(home: Path, name: str, url: str) -> StoredOAuth | None:
    """The auth of a connection to `name`, when `mcp login` stored credentials for it."""
    if not oauth_store.has_tokens(home, name, url):
        return None

    async def no_browser(_url: str) -> None:
        raise McpError(f"MCP server '{name}' needs a new login: run `pycodex mcp login {name}`")

    async def no_callback() -> AuthorizationCodeResult:  # never reached: no_browser raised
        raise McpError(f"MCP server '{name}' needs a new login: run `pycodex mcp login {name}`")

    storage = FileTokenStorage(home, name, url)
    metadata = _client_metadata(f"http://127.0.0.1/{CALLBACK_PATH.lstrip('/')}", None)
    return StoredOAuth(storage, client_metadata=metadata, redirect_handler=no_browser,
                       callback_handler=no_callback)


# --- the browser flow -----------------------------------------------------------------------


class _Callback:
    """A loopback HTTP server that takes one `/callback?code=…&state=…` request."""

    def __init__(self) -> None:
        self.result: asyncio.Future[AuthorizationCodeResult] | None = None
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> None:
        self.result = asyncio.get_running_loop().create_future()
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            parts = line.decode("latin-1").split()
            target = urlsplit(parts[1]) if len(parts) >= 2 else None
            query = {k: v[0] for k, v in parse_qs(target.query).items()} if target else {}
            if target is None or target.path != CALLBACK_PATH:
                await _respond(writer, 404, "Not found.")
                return
            if "code" not in query:
                error = query.get("error_description") or query.get("error") or "no authorization code"
                await _respond(writer, 400, f"Login failed: {error}. You can close this window.")
                self._settle(McpError(f"the authorization server refused the login: {error}"))
                return
            await _respond(writer, 200, "Logged in: you can close this window and return to pycodex.")
            self._settle(AuthorizationCodeResult(code=query["code"], state=query.get("state"),
                                                 iss=query.get("iss")))
        except (TimeoutError, OSError, UnicodeDecodeError):
            pass
        finally:
            writer.close()

    def _settle(self, outcome: AuthorizationCodeResult | Exception) -> None:
        if self.result is None or self.result.done():
            return
        if isinstance(outcome, Exception):
            self.result.set_exception(outcome)
        else:
            self.result.set_result(outcome)

    async def wait(self) -> AuthorizationCodeResult:
        assert self.result is not None
        try:
            return await asyncio.wait_for(asyncio.shield(self.result), LOGIN_TIMEOUT_S)
        except TimeoutError:
            raise McpError(f"the login was not completed within {int(LOGIN_TIMEOUT_S / 60)} minutes") from None

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


async def _respond(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    body = f"<!doctype html><title>pycodex</title><p>{text}</p>\n".encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
    )
    with contextlib.suppress(OSError):
        await writer.drain()


async def login(
    home: Path,
    name: str,
    url: str,
    headers: dict[str, str],
    *,
    scopes: list[str] | None,
    out: TextIO,
    open_browser: Callable[[str], bool],
) -> None:
    """Run the browser flow for server `name` and store its tokens; raises McpError."""
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    callback = _Callback()
    await callback.start()

    async def show(authorization_url: str) -> None:
        out.write(f"Authorize `{name}` by opening this URL in your browser:\n{authorization_url}\n")
        out.flush()
        if not open_browser(authorization_url):
            out.write("(No browser could be opened: open the URL yourself.)\n")
            out.flush()

    # Stale credentials would be refreshed rather than replaced: a login starts afresh
    # (the client registration is kept: it is tied to the server, not to a login).
    storage = FileTokenStorage(home, name, url, fresh=True)
    provider = StoredOAuth(storage, client_metadata=_client_metadata(callback.redirect_uri, scopes),
                           redirect_handler=show, callback_handler=callback.wait)
    try:
        async with create_mcp_http_client(headers=headers, auth=provider) as client, \
                streamable_http_client(url, http_client=client) as streams, \
                ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
    except Exception as exc:  # the SDK's flow errors, HTTP errors, a refused registration
        inner = _innermost(exc)
        if isinstance(inner, McpError):
            raise inner from None
        detail = str(inner) or type(inner).__name__
        raise McpError(f"OAuth login to MCP server '{name}' failed: {detail}") from None
    finally:
        callback.close()
    if storage.fresh:  # no token was ever set
        raise McpError(f"MCP server '{name}' did not ask for a login: it needs no OAuth")
    storage.save_metadata(provider.context.oauth_metadata)


def _innermost(exc: BaseException) -> BaseException:
    """The one error inside the task groups' exception groups (the SDK nests them)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc
