"""A mock of OpenAI's OAuth issuer on loopback, for `pycodex login` and token refresh.

Real HTTP (``ThreadingHTTPServer`` in a thread), the endpoints pycodex uses:

* ``GET /oauth/authorize`` — records the PKCE challenge, state and redirect URI, issues a
  code and answers 302 to ``redirect_uri?code=…&state=…`` (the test plays the browser
  by following it to pycodex's loopback server).
* ``POST /oauth/token`` — ``authorization_code`` (form; checks the code, redirect URI and
  PKCE verifier) and ``refresh_token`` (JSON; rotates the refresh token, refuses a revoked
  or already used one with 401 ``refresh_token_invalidated`` / ``refresh_token_reused``).
* ``POST /api/accounts/deviceauth/usercode`` and ``…/deviceauth/token`` — the device
  flow; the token poll *blocks* until :meth:`MockOAuthServer.approve` (or 10 s, then 403),
  so a test synchronises on an event, never on a sleep.

Tokens are unsigned JWTs (``header.payload.sig``) whose claims carry the email, the
workspace (``chatgpt_account_id``), the plan and ``exp``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

AUTH_CLAIM = "https://api.openai.com/auth"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}.sig"


@dataclass
class Issued:
    id_token: str
    access_token: str
    refresh_token: str


@dataclass
class _Pending:
    challenge: str
    redirect_uri: str


@dataclass
class _Device:
    user_code: str
    approved: threading.Event = field(default_factory=threading.Event)
    verifier: str = "device-verifier-0123456789"
    code: str = ""


class MockOAuthServer:
    def __init__(self, *, workspace: str = "ws-1", email: str = "user@example.com",
                 plan: str = "pro", access_ttl_s: int = 3600) -> None:
        self.workspace = workspace
        self.email = email
        self.plan = plan
        self.access_ttl_s = access_ttl_s
        self.requests: list[tuple[str, str, dict[str, Any]]] = []  # (method, path, params)
        self.refreshes = 0
        self.polls_in_flight = 0  # device-code polls held open, waiting for approval
        self.poll_started = threading.Event()  # set when a device-code poll comes in
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._codes: dict[str, _Pending] = {}
        self._refresh_tokens: dict[str, str] = {}  # token -> "active" | "used" | "revoked"
        self._devices: dict[str, _Device] = {}
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> MockOAuthServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.owner = self  # type: ignore[attr-defined]
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True, name="mock-oauth").start()
        return self

    def __exit__(self, *exc: object) -> None:
        for device in self._devices.values():
            device.approved.set()  # release a blocked poll
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # tokens ---------------------------------------------------------------------------
    def issue(self, *, expires_in: int | None = None, workspace: str | None = None) -> Issued:
        """A fresh token set, its refresh token active (`expires_in` < 0: already expired)."""
        n = next(self._counter)
        exp = int(time.time()) + (self.access_ttl_s if expires_in is None else expires_in)
        auth = {"chatgpt_account_id": workspace or self.workspace, "chatgpt_plan_type": self.plan}
        id_token = make_jwt({"email": self.email, AUTH_CLAIM: auth, "n": n})
        access = make_jwt({"exp": exp, AUTH_CLAIM: auth, "n": n})
        refresh = f"refresh-{n}"
        with self._lock:
            self._refresh_tokens[refresh] = "active"
        return Issued(id_token, access, refresh)

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self._refresh_tokens[refresh_token] = "revoked"

    def approve(self, user_code: str) -> None:
        """The user typed `user_code` on the device page."""
        for device in list(self._devices.values()):
            if device.user_code == user_code:
                device.approved.set()
                return
        raise AssertionError(f"no device code {user_code!r} was handed out")

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]

    # handlers -------------------------------------------------------------------------
    def authorize(self, q: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        code = f"code-{next(self._counter)}"
        with self._lock:
            self._codes[code] = _Pending(q["code_challenge"], q["redirect_uri"])
        location = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"
        return 302, {"Location": location}, b""

    def token(self, params: dict[str, Any]) -> tuple[int, Any]:
        grant = params.get("grant_type")
        if grant == "authorization_code":
            return self._exchange(params)
        if grant == "refresh_token":
            return self._refresh(params)
        return 400, {"error": "unsupported_grant_type"}

    def _exchange(self, params: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            pending = self._codes.pop(str(params.get("code")), None)
        if pending is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown code"}
        verifier = str(params.get("code_verifier", ""))
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        if challenge != pending.challenge or params.get("redirect_uri") != pending.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "PKCE or redirect mismatch"}
        issued = self.issue()
        return 200, issued.__dict__

    def _refresh(self, params: dict[str, Any]) -> tuple[int, Any]:
        token = str(params.get("refresh_token"))
        with self._lock:
            state = self._refresh_tokens.get(token)
            if state == "active":
                self._refresh_tokens[token] = "used"
                self.refreshes += 1
        if state != "active":
            code = {"used": "refresh_token_reused"}.get(state or "", "refresh_token_invalidated")
            return 401, {"error": {"code": code, "message": "Your refresh token is no longer valid."}}
        return 200, self.issue().__dict__

    def usercode(self) -> tuple[int, Any]:
        n = next(self._counter)
        device = _Device(user_code=f"ABCD-{n:04d}")
        device.code = f"code-{n}"
        challenge = _b64(hashlib.sha256(device.verifier.encode()).digest())
        with self._lock:
            self._devices[f"dev-{n}"] = device
            self._codes[device.code] = _Pending(challenge, f"{self.url}/deviceauth/callback")
        return 200, {"device_auth_id": f"dev-{n}", "user_code": device.user_code, "interval": "0"}

    def device_token(self, params: dict[str, Any]) -> tuple[int, Any]:
        device = self._devices.get(str(params.get("device_auth_id")))
        if device is None or device.user_code != params.get("user_code"):
            return 400, {"error": "unknown device code"}
        with self._lock:
            self.polls_in_flight += 1
        self.poll_started.set()
        try:
            approved = device.approved.wait(10)
        finally:
            with self._lock:
                self.polls_in_flight -= 1
        if not approved:
            return 403, {"error": "authorization_pending"}
        challenge = self._codes[device.code].challenge
        return 200, {"authorization_code": device.code, "code_challenge": challenge,
                     "code_verifier": device.verifier}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def owner(self) -> MockOAuthServer:
        return self.server.owner  # type: ignore[attr-defined, no-any-return]

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.owner.requests.append(("GET", url.path, query))
        if url.path == "/oauth/authorize":
            status, headers, body = self.owner.authorize(query)
            self._send(status, body, headers)
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        if "json" in self.headers.get("content-type", ""):
            params: dict[str, Any] = json.loads(raw or b"{}")
        else:
            params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        self.owner.requests.append(("POST", url.path, params))
        routes = {
            "/oauth/token": lambda: self.owner.token(params),
            "/api/accounts/deviceauth/usercode": self.owner.usercode,
            "/api/accounts/deviceauth/token": lambda: self.owner.device_token(params),
        }
        route = routes.get(url.path)
        status, body = route() if route else (404, {"error": "not found"})
        self._send(status, body)

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
