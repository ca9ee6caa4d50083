"""`pycodex app-server --listen ws://IP:PORT`: the banner Codex prints, health checks, one
message per text frame, per-connection handshake, browsers refused, loopback only."""

from __future__ import annotations

import json
import re
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from tests.e2e.test_app_server_support import (
    HANG,
    AppServer,
    Json,
    initialize_params,
    reference_error,
)
from tests.support.app_server_traffic import TrafficValidator

pytestmark = pytest.mark.e2e


class WsServer:
    def __init__(self, app: AppServer) -> None:
        self.app = app
        banner = [app.stderr.until(r"app-server \(WebSockets\)")]
        banner += [app.stderr.next().decode() for _ in range(4)]  # type: ignore[union-attr]
        self.banner = [line.rstrip("\n") for line in banner]
        match = re.fullmatch(r"  listening on: ws://(127\.0\.0\.1|0\.0\.0\.0):(\d+)", self.banner[1])
        assert match, self.banner
        self.port = int(match.group(2))
        self.url = f"ws://127.0.0.1:{self.port}"  # a wildcard bind is reached on loopback too


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[WsServer]:
    app = AppServer(tmp_path, "--listen", "ws://127.0.0.1:0")
    try:
        yield WsServer(app)
    finally:
        app.stop()


def rpc(conn: ClientConnection, request_id: int, method: str, params: Json | None = None) -> Json:
    request = {"id": request_id, "method": method, "params": params or {}}
    traffic = TrafficValidator()
    traffic.sent(request)
    conn.send(json.dumps(request))
    answer: Json = json.loads(conn.recv(timeout=HANG))
    traffic.received(answer)
    assert answer["id"] == request_id
    return answer


def test_port_zero_prints_the_bound_address_as_codex_does(ws: WsServer) -> None:
    port = ws.port
    assert port > 0
    assert ws.banner == [
        "pycodex app-server (WebSockets)",
        f"  listening on: ws://127.0.0.1:{port}",
        f"  readyz: http://127.0.0.1:{port}/readyz",
        f"  healthz: http://127.0.0.1:{port}/healthz",
        "  note: binds localhost only (use SSH port-forwarding for remote access)",
    ]
    for path in ("readyz", "healthz"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=HANG) as response:
            assert (response.status, response.read()) == (200, b"")


def test_json_rpc_over_frames_with_a_handshake_per_connection(ws: WsServer) -> None:
    with connect(ws.url, open_timeout=HANG) as first:
        assert rpc(first, 1, "thread/list")["error"] == reference_error("thread/list [error]")
        result = rpc(first, 2, "initialize", initialize_params("ws_client"))["result"]
        assert result["userAgent"].startswith("ws_client/")
        first.send(json.dumps({"method": "initialized"}))
        assert rpc(first, 3, "thread/start", {"cwd": 123})["error"] == reference_error(
            "thread/start [error]"
        )
        first.send("not json at all")  # logged, unanswered, harmless
        with connect(ws.url, open_timeout=HANG) as second:
            assert rpc(second, 1, "thread/list")["error"] == reference_error("thread/list [error]")
        assert rpc(first, 4, "initialize", initialize_params())["error"] == reference_error(
            "initialize [error]"
        )
    assert "Failed to deserialize JSONRPCMessage" in ws.app.stderr.until("Failed to deserialize")


def test_browser_origins_are_refused(ws: WsServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws.url, origin=Origin("http://evil.example"), open_timeout=HANG)
    assert refused.value.response.status_code == 403


def test_sigterm_closes_connections_and_exits_zero(ws: WsServer) -> None:
    with connect(ws.url, open_timeout=HANG) as conn:
        rpc(conn, 1, "initialize", initialize_params())
        ws.app.proc.send_signal(signal.SIGTERM)
        assert ws.app.wait() == 0


def test_non_loopback_address_is_refused(tmp_path: Path) -> None:
    app = AppServer(tmp_path, "--listen", "ws://0.0.0.0:0")
    try:
        assert app.wait() == 1
        assert "refusing to listen on 0.0.0.0: not a loopback address; require a token with --ws-auth" in app.stderr.text()
    finally:
        app.stop()


# --- --ws-auth: a token required (and then a non-loopback bind allowed) ---------------------

TOKEN = "s3cret-capability-token"


def _jwt(secret: bytes, claims: Json) -> str:
    import base64
    import hashlib
    import hmac

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = part(b'{"alg":"HS256","typ":"JWT"}') + "." + part(json.dumps(claims).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + part(signature)


def _status_without(url: str, bearer: str | None) -> int | None:
    """The HTTP status a handshake with `bearer` is refused with; None when it is accepted."""
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else None
    try:
        with connect(url, additional_headers=headers, open_timeout=HANG) as conn:
            assert "result" in rpc(conn, 1, "initialize", initialize_params())
            return None
    except InvalidStatus as refused:
        return refused.response.status_code


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "ws.token"
    path.write_text(TOKEN + "\n")
    return path


def test_a_capability_token_is_required_and_allows_a_non_loopback_bind(
    tmp_path: Path, token_file: Path
) -> None:
    app = AppServer(tmp_path, "--listen", "ws://0.0.0.0:0", "--ws-auth", "capability-token",
                    "--ws-token-file", str(token_file))
    try:
        server = WsServer(app)
        assert server.banner[1].startswith("  listening on: ws://0.0.0.0:")
        assert _status_without(server.url, TOKEN) is None
        assert _status_without(server.url, None) == 401
        assert _status_without(server.url, "not-the-token") == 401
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/readyz", timeout=HANG) as ready:
            assert ready.status == 200  # health checks need no token
    finally:
        app.stop()


def test_a_token_known_only_by_its_digest(tmp_path: Path) -> None:
    import hashlib

    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    app = AppServer(tmp_path, "--listen", "ws://127.0.0.1:0", "--ws-auth", "capability-token",
                    "--ws-token-sha256", digest)
    try:
        server = WsServer(app)
        assert _status_without(server.url, TOKEN) is None
        assert _status_without(server.url, TOKEN + "x") == 401
    finally:
        app.stop()


def test_signed_bearer_tokens_are_checked_for_signature_expiry_and_audience(tmp_path: Path) -> None:
    import time

    secret = b"k" * 32
    (tmp_path / "secret").write_bytes(secret)
    app = AppServer(tmp_path, "--listen", "ws://127.0.0.1:0", "--ws-auth", "signed-bearer-token",
                    "--ws-shared-secret-file", str(tmp_path / "secret"), "--ws-issuer", "me",
                    "--ws-audience", "pycodex", "--ws-max-clock-skew-seconds", "5")
    now = int(time.time())
    good = {"iss": "me", "aud": "pycodex", "exp": now + 60}
    try:
        server = WsServer(app)
        assert _status_without(server.url, _jwt(secret, good)) is None
        assert _status_without(server.url, _jwt(b"x" * 32, good)) == 401  # another key
        assert _status_without(server.url, _jwt(secret, {**good, "exp": now - 60})) == 401
        assert _status_without(server.url, _jwt(secret, {**good, "aud": "other"})) == 401
        assert _status_without(server.url, _jwt(secret, {**good, "iss": "them"})) == 401
    finally:
        app.stop()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--ws-token-file", "/x"], "--ws-token-file requires --ws-auth"),
        (["--ws-auth", "capability-token"], "exactly one of --ws-token-file or --ws-token-sha256"),
        (["--ws-auth", "capability-token", "--ws-token-file", "relative.token"], "must be an absolute path"),
        (["--ws-auth", "capability-token", "--ws-token-sha256", "abc"], "64 hexadecimal digits"),
        (["--ws-auth", "capability-token", "--ws-token-sha256", "0" * 64, "--ws-issuer", "me"],
         "--ws-issuer cannot be used with --ws-auth capability-token"),
        (["--ws-auth", "signed-bearer-token"], "needs --ws-shared-secret-file"),
        (["--ws-auth", "signed-bearer-token", "--ws-shared-secret-file", "/nonexistent/secret"],
         "--ws-shared-secret-file /nonexistent/secret:"),
    ],
)
def test_bad_auth_flags_are_usage_errors(tmp_path: Path, flags: list[str], message: str) -> None:
    app = AppServer(tmp_path, "--listen", "ws://127.0.0.1:0", *flags)
    try:
        assert app.wait() == 2
        assert message in app.stderr.text()
    finally:
        app.stop()


def test_a_short_shared_secret_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret").write_bytes(b"short")
    app = AppServer(tmp_path, "--listen", "ws://127.0.0.1:0", "--ws-auth", "signed-bearer-token",
                    "--ws-shared-secret-file", str(tmp_path / "secret"))
    try:
        assert app.wait() == 2
        assert "at least 32 bytes" in app.stderr.text()
    finally:
        app.stop()
