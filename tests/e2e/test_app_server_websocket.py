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
        match = re.fullmatch(r"  listening on: (ws://127\.0\.0\.1:(\d+))", self.banner[1])
        assert match, self.banner
        self.url, self.port = match.group(1), int(match.group(2))


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
        assert "refusing to listen on 0.0.0.0: not a loopback address" in app.stderr.text()
    finally:
        app.stop()
