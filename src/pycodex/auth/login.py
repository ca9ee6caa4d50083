"""ChatGPT sign-in: the browser flow (PKCE + loopback callback) and the device-code flow.

Both end the same way: the tokens are checked against `forced_chatgpt_workspace_id` and
saved atomically, or nothing is saved. `echo` prints to the user (stderr in the CLI);
secrets are never passed to it.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import msgspec

from pycodex.auth import oauth
from pycodex.auth.callback_server import DEFAULT_PORT, CallbackServer, cancel_previous
from pycodex.auth.errors import LoginFailed
from pycodex.auth.persist import save_login
from pycodex.auth.storage import CredentialStore
from pycodex.auth.store import StoredAuth

Echo = Callable[[str], None]
PORT_ENV = "PYCODEX_LOGIN_CALLBACK_PORT"
FALLBACK_PORT = 1457
_BIND_ATTEMPTS = 10


class LoginTarget(msgspec.Struct, frozen=True):
    """Where the tokens go and what they must satisfy."""

    store: object  # CredentialStore
    home: Path
    workspace_id: str | None
    issuer: str
    originator: str = "pycodex_cli"


def _bind(state: str, on_code: Callable[[str], object], port: int) -> CallbackServer:
    """The callback server on `port`; a forgotten login holding it is asked to stop."""
    candidates = [port] if port != DEFAULT_PORT else [DEFAULT_PORT, FALLBACK_PORT]
    last: OSError | None = None
    for candidate in candidates:
        for attempt in range(_BIND_ATTEMPTS):
            try:
                return CallbackServer(candidate, state, on_code)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise LoginFailed(f"cannot listen on 127.0.0.1:{candidate}: {exc.strerror}") from None
                last = exc
                if attempt == 0:
                    cancel_previous(candidate)
                time.sleep(0.2)  # the cancelled login needs a moment to release the port
    raise LoginFailed(f"port {candidates[-1]} is already in use ({last.strerror if last else ''})")


def can_open_browser(env: Mapping[str, str]) -> bool:
    """A graphical browser can be opened (a text one would take over the terminal)."""
    if env.get("PYCODEX_NO_BROWSER") or not sys.stdin.isatty():
        return False
    return sys.platform in ("darwin", "win32") or bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


class PendingBrowserLogin:
    """A browser login under way: its URL to open, then `wait()` for the browser to come
    back (blocking; raises LoginFailed), or `cancel()` it from elsewhere."""

    def __init__(self, target: LoginTarget, env: Mapping[str, str]) -> None:
        pkce, state = oauth.new_pkce(), oauth.new_state()
        redirect: dict[str, str] = {}

        def on_code(code: str) -> StoredAuth:
            tokens = oauth.exchange_code(
                target.issuer, code=code, redirect_uri=redirect["uri"], verifier=pkce.verifier
            )
            store: CredentialStore = target.store  # type: ignore[assignment]
            return save_login(tokens, store, target.home, target.workspace_id)

        port = int(env.get(PORT_ENV, "") or DEFAULT_PORT)
        self._server = _bind(state, on_code, port)
        self.port = self._server.port
        redirect["uri"] = f"http://localhost:{self.port}/auth/callback"
        self.url = oauth.authorize_url(
            target.issuer, redirect_uri=redirect["uri"], pkce=pkce, state=state,
            originator=target.originator, workspace_id=target.workspace_id,
        )

    def wait(self) -> StoredAuth:
        result = self._server.wait()
        assert isinstance(result, StoredAuth)
        return result

    def cancel(self) -> None:
        cancel_previous(self.port)


def browser_login(target: LoginTarget, echo: Echo, env: Mapping[str, str]) -> StoredAuth:
    pending = PendingBrowserLogin(target, env)
    echo(f"Starting local login server on http://localhost:{pending.port}.")
    opened = False
    if can_open_browser(env):
        import webbrowser

        opened = webbrowser.open(pending.url)
    lead = "If your browser did not open" if opened else "Open this URL in a browser"
    echo(f"{lead}, navigate to this URL to authenticate:\n\n{pending.url}\n")
    try:
        return pending.wait()
    except KeyboardInterrupt:
        raise LoginFailed("Login cancelled") from None


class PendingDeviceLogin:
    """A device-code login under way: `verification_url` and `user_code` to show the user,
    then `wait()` while they enter the code (blocking; raises LoginFailed), or `cancel()`
    it from elsewhere (the poll stops at its next pause)."""

    def __init__(self, target: LoginTarget) -> None:
        import threading

        from pycodex.auth.device import request_device_code

        self._target = target
        self._code = request_device_code(target.issuer)
        self.verification_url = self._code.verification_url
        self.user_code = self._code.user_code
        self._cancelled = threading.Event()

    def _pause(self, seconds: float) -> None:
        if self._cancelled.wait(seconds):
            raise LoginFailed("Login cancelled")

    def wait(self) -> StoredAuth:
        from pycodex.auth.device import poll_device_code

        target = self._target
        self._pause(0)
        grant = poll_device_code(target.issuer, self._code, sleep=self._pause)
        self._pause(0)
        tokens = oauth.exchange_code(
            target.issuer,
            code=grant.authorization_code,
            redirect_uri=f"{target.issuer}/deviceauth/callback",
            verifier=grant.code_verifier,
        )
        store: CredentialStore = target.store  # type: ignore[assignment]
        return save_login(tokens, store, target.home, target.workspace_id)

    def cancel(self) -> None:
        self._cancelled.set()


def device_login(target: LoginTarget, echo: Echo) -> StoredAuth:
    pending = PendingDeviceLogin(target)
    echo(
        "Follow these steps to sign in with ChatGPT using device code authorization:\n\n"
        f"1. Open this link in your browser and sign in to your account\n   {pending.verification_url}\n\n"
        f"2. Enter this one-time code (expires in 15 minutes)\n   {pending.user_code}\n\n"
        "Device codes are a common phishing target. Never share this code.\n"
    )
    return pending.wait()


def default_issuer() -> str:
    return oauth.issuer(os.environ)
