"""`pycodex app-server --listen unix://PATH`: a socket only this user can open, websocket
frames over it, one session per connection, and a client that stops reading stalls nobody
else."""

from __future__ import annotations

import signal
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_app_server_support import (
    AppServer,
    FrameClient,
    initialize_params,
    reference_error,
    server_env,
)

pytestmark = pytest.mark.e2e


def start(tmp_path: Path, path: Path, **env: str) -> AppServer:
    app = AppServer(tmp_path, "--listen", f"unix://{path}", env=server_env(tmp_path, **env))
    app.stderr.until(r"listening on: unix://")
    return app


@pytest.fixture
def sock_path(tmp_path: Path) -> Path:
    return tmp_path / "app.sock"


@pytest.fixture
def server(tmp_path: Path, sock_path: Path) -> Iterator[AppServer]:
    app = start(tmp_path, sock_path)
    try:
        yield app
    finally:
        app.stop()


def test_socket_is_private_and_speaks_json_rpc_in_frames(server: AppServer, sock_path: Path) -> None:
    assert stat.S_ISSOCK(sock_path.lstat().st_mode)
    assert stat.S_IMODE(sock_path.lstat().st_mode) == 0o600
    client = FrameClient(sock_path)
    try:
        assert client.rpc("thread/list")["error"] == reference_error("thread/list [error]")
        result = client.rpc("initialize", initialize_params("unix_client"))["result"]
        assert result["userAgent"].startswith("unix_client/")
        assert client.rpc("thread/doesNotExist")["error"] == reference_error(
            "thread/doesNotExist [error]"
        )
        # A second connection has its own handshake state.
        other = FrameClient(sock_path)
        try:
            assert other.rpc("thread/list")["error"] == reference_error("thread/list [error]")
        finally:
            other.close()
        again = client.rpc("initialize", initialize_params())
        assert again["error"] == reference_error("initialize [error]")
    finally:
        client.close()


def test_sigterm_exits_zero_and_removes_the_socket(server: AppServer, sock_path: Path) -> None:
    client = FrameClient(sock_path)
    client.rpc("initialize", initialize_params())
    server.proc.send_signal(signal.SIGTERM)
    assert server.wait() == 0
    assert client.recv() is None  # the connection was closed, not left hanging
    client.close()
    assert not sock_path.exists()


def test_a_client_that_never_reads_stalls_nobody_else_and_gets_overload_errors(
    tmp_path: Path, sock_path: Path
) -> None:
    app = start(
        tmp_path, sock_path,
        PYCODEX_APP_SERVER_INBOUND_QUEUE="2",
        PYCODEX_APP_SERVER_OUTBOUND_QUEUE="2",
        PYCODEX_APP_SERVER_OVERLOAD_QUEUE="100000",
    )
    slow = FrameClient(sock_path)
    try:
        slow.rpc("initialize", initialize_params("slow"))
        # ~6 KB per answer: far more than the socket buffers hold, so the server's writer
        # for this connection blocks, its queues fill, and later requests overflow.
        ids = list(range(1, 2001))
        for request_id in ids:
            slow.send({"id": request_id, "method": "thread/doesNotExist"})
        other = FrameClient(sock_path)
        try:
            assert "result" in other.rpc("initialize", initialize_params("other"))
            assert other.rpc("thread/doesNotExist")["error"]["code"] == -32600
        finally:
            other.close()
        answers: dict[int, int] = {}
        for _ in ids:
            message = slow.recv()
            assert message is not None
            assert message["id"] not in answers, f"answered twice: {message['id']}"
            answers[message["id"]] = message["error"]["code"]
            if message["error"]["code"] == -32001:
                assert message["error"]["message"] == "Server overloaded; retry later."
        assert sorted(answers) == ids
        assert -32001 in answers.values() and -32600 in answers.values()
        assert slow.rpc("thread/doesNotExist")["error"]["code"] == -32600
    finally:
        slow.close()
        app.stop()


def test_a_stale_socket_is_replaced_but_a_file_is_never_clobbered(
    tmp_path: Path, sock_path: Path
) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock_path))
    stale.close()  # bound, never listening: what a crashed server leaves behind
    app = start(tmp_path, sock_path)
    try:
        FrameClient(sock_path).rpc("initialize", initialize_params())
    finally:
        app.stop()
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    refused = AppServer(tmp_path, "--listen", f"unix://{precious}")
    try:
        assert refused.wait() == 1
        assert "exists and is not a socket" in refused.stderr.text()
        assert precious.read_text() == "keep me"
    finally:
        refused.stop()
