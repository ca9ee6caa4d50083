"""The loopback server that receives the browser's redirect after a ChatGPT sign-in.

It listens on 127.0.0.1 only, answers `/auth/callback?code=…&state=…` once (a wrong state
is refused and waited past, so a stray request cannot end the login), and `/cancel` so a
second `pycodex login` can stop a forgotten one holding the port. The code is handed to
`on_code`, which exchanges and saves it; its outcome is what the browser page says and
what :meth:`CallbackServer.wait` returns or raises.
"""

from __future__ import annotations

import html
import queue
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pycodex.auth.errors import AuthError, LoginFailed

DEFAULT_PORT = 1455  # the redirect URIs the issuer allows for this client
_SUCCESS_PAGE = (
    "<!doctype html><title>Signed in to pycodex</title>"
    "<h1>Signed in</h1><p>You can close this tab and return to your terminal.</p>"
)

OnCode = Callable[[str], object]


def _page(title: str, text: str) -> bytes:
    return (
        f"<!doctype html><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the query string holds the authorization code: never log it

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/cancel":
            self._reply(200, b"Login cancelled")
            self.server.finish(LoginFailed("Login cancelled (another login took its place)"))
        elif url.path == "/auth/callback":
            self._callback({k: v[0] for k, v in parse_qs(url.query).items()})
        else:
            self._reply(404, b"Not Found")

    def _callback(self, params: dict[str, str]) -> None:
        if params.get("state") != self.server.state:
            self._reply(400, b"State mismatch")
            return
        if params.get("error"):
            text = params.get("error_description") or params["error"]
            self._reply(403, _page("Sign-in failed", text))
            self.server.finish(LoginFailed(f"Sign-in failed: {text}"))
            return
        code = params.get("code")
        if not code:
            self._reply(400, _page("Sign-in failed", "Missing authorization code."))
            self.server.finish(LoginFailed("Sign-in failed: missing authorization code"))
            return
        try:
            outcome = self.server.on_code(code)
        except AuthError as exc:
            self._reply(403, _page("Sign-in could not be completed", str(exc)))
            self.server.finish(exc)
            return
        self._reply(200, _SUCCESS_PAGE.encode())
        self.server.finish(outcome)

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


class _Server(HTTPServer):
    def __init__(self, port: int, state: str, on_code: OnCode) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = state
        self.on_code = on_code
        self.outcome: queue.Queue[object] = queue.Queue(maxsize=1)

    def finish(self, outcome: object) -> None:
        if self.outcome.empty():
            self.outcome.put(outcome)


class CallbackServer:
    def __init__(self, port: int, state: str, on_code: OnCode) -> None:
        self._server = _Server(port, state, on_code)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="login-callback", daemon=True
        )
        self._thread.start()

    def wait(self) -> object:
        """The value `on_code` returned, once the browser came back; raises its error."""
        try:
            outcome = self._server.outcome.get()
        finally:
            self.close()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def cancel_previous(port: int) -> None:
    """Ask a forgotten `pycodex login` on `port` to stop (best effort)."""
    import http.client

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/cancel")
        conn.getresponse().read()
        conn.close()
    except OSError:
        pass
