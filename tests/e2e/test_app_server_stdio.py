"""`pycodex app-server` over stdio: handshake, Codex's errors word for word, malformed input,
backpressure and a clean exit at end of input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_app_server_support import (
    AppServer,
    Json,
    children_of,
    initialize_params,
    reference_error,
    server_env,
    version_of,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AppServer]:
    app = AppServer(tmp_path)
    try:
        yield app
    finally:
        app.stop()


def initialize(app: AppServer, *, experimental: bool = False) -> Json:
    answer = app.rpc("initialize", initialize_params(experimental=experimental))
    app.send({"method": "initialized"})
    return answer


def test_initialize_answers_codex_shape_and_a_version_the_sdk_accepts(
    server: AppServer, tmp_path: Path
) -> None:
    answer = server.rpc("initialize", initialize_params("my_ide"))
    result = answer["result"]
    assert list(answer) == ["id", "result"]
    assert list(result) == ["userAgent", "codexHome", "platformFamily", "platformOs"]
    assert result["codexHome"] == str(tmp_path / "pycodex-home")
    assert (result["platformFamily"], result["platformOs"]) == ("unix", "linux")
    agent = result["userAgent"]
    assert agent.startswith("my_ide/")
    assert agent.endswith(" xterm (my_ide; 1.2.3)")
    # The official Python SDK refuses runtimes older than 0.151.0 for newer options.
    assert version_of(agent) >= (0, 151, 0)


def test_errors_are_codex_word_for_word_and_the_connection_survives(server: AppServer) -> None:
    assert server.rpc("thread/list", {})["error"] == reference_error("thread/list [error]")
    initialize(server)
    again = server.rpc("initialize", {"clientInfo": {"name": "x", "version": "1"}})
    assert again["error"] == reference_error("initialize [error]")
    assert list(again) == ["error", "id"]
    unknown = server.rpc("thread/doesNotExist", {})
    assert unknown["error"] == reference_error("thread/doesNotExist [error]")
    gone = server.rpc("thread/rollback", {"threadId": "t", "numTurns": 1})
    assert gone["error"] == reference_error("thread/rollback [error]")
    bad = server.rpc("thread/start", {"cwd": 123})
    assert bad["error"] == reference_error("thread/start [error]")
    missing = server.rpc("initialize", {"clientInfo": {"version": "1"}})
    assert missing["error"] == {"code": -32600, "message": "Invalid request: missing field `name`"}
    # Still serving: a known method pycodex lacks is a clear, distinct error.
    lacking = server.rpc("plugin/list", {})["error"]
    assert lacking["code"] == -32601
    assert lacking["message"] == "`plugin/list` is not supported by pycodex yet"


def test_experimental_methods_and_fields_need_the_capability(tmp_path: Path) -> None:
    stable = AppServer(tmp_path)
    try:
        initialize(stable)
        assert stable.rpc("thread/search", {})["error"] == {
            "code": -32600,
            "message": "thread/search requires experimentalApi capability",
        }
        field = stable.rpc("thread/start", {"mockExperimentalField": "on"})["error"]
        assert field == {
            "code": -32600,
            "message": "thread/start.mockExperimentalField requires experimentalApi capability",
        }
    finally:
        stable.stop()
    opted_in = AppServer(tmp_path)
    try:
        initialize(opted_in, experimental=True)
        # Past the gate: what answers now is only that pycodex lacks the method.
        assert opted_in.rpc("thread/search", {})["error"]["code"] == -32601
        assert "result" in opted_in.rpc("thread/start", {"mockExperimentalField": "on"})
    finally:
        opted_in.stop()


@pytest.mark.parametrize(
    ("garbage", "logged"),
    [
        (b"this is not json\n", "Failed to deserialize JSONRPCMessage"),
        (b'{"id": 1, "params": {}}\n', "Failed to deserialize JSONRPCMessage"),
        (b'{"id": 1, "method": "model/list", "params": "\xff\xfe"}\n', "not valid UTF-8"),
    ],
    ids=["not-json", "not-a-message", "not-utf8"],
)
def test_malformed_input_is_logged_unanswered_and_the_connection_survives(
    server: AppServer, garbage: bytes, logged: str
) -> None:
    initialize(server)
    server.send_raw(garbage)
    # No reply to the garbage: the very next line answers the next request.
    answer = server.rpc("thread/doesNotExist", {})
    assert answer["error"]["code"] == -32600
    assert logged in server.stderr.until(logged)


def test_end_of_input_answers_what_was_sent_then_exits_zero_leaving_nothing(
    server: AppServer,
) -> None:
    lines = [
        {"id": 1, "method": "initialize", "params": initialize_params()},
        {"method": "initialized"},
        {"id": 2, "method": "thread/doesNotExist"},
    ]
    server.send_raw(b"".join(json.dumps(m).encode() + b"\n" for m in lines))
    server.close_stdin()
    assert [server.recv()["id"], server.recv()["id"]] == [1, 2]
    assert server.stdout.next() is None  # stdout closed: nothing more, nothing unsolicited
    assert server.wait() == 0
    assert children_of(server.proc.pid) == []


def test_a_full_inbound_queue_answers_requests_with_the_overload_error(tmp_path: Path) -> None:
    app = AppServer(tmp_path, env=server_env(tmp_path, PYCODEX_APP_SERVER_INBOUND_QUEUE="1"))
    try:
        initialize(app)
        ids = list(range(1, 41))
        # One write: the server reads these lines before it processes any of them, so the
        # one-slot queue overflows deterministically.
        app.send_raw(b"".join(
            json.dumps({"id": i, "method": "thread/doesNotExist"}).encode() + b"\n" for i in ids
        ))
        answers = {}
        for _ in ids:
            message = app.recv()
            assert message["id"] not in answers, f"answered twice: {message}"
            answers[message["id"]] = message["error"]
        assert sorted(answers) == ids
        overloaded = [i for i, error in answers.items() if error["code"] == -32001]
        assert overloaded, "no request was refused with the overload error"
        assert {answers[i]["message"] for i in overloaded} == {"Server overloaded; retry later."}
        assert {error["code"] for error in answers.values()} <= {-32001, -32600}
        # Retrying later works: the connection is fine.
        assert app.rpc("thread/doesNotExist", {})["error"]["code"] == -32600
    finally:
        app.stop()


def test_bad_listen_url_is_a_usage_error(tmp_path: Path) -> None:
    app = AppServer(tmp_path, "--listen", "tcp://1.2.3.4:5")
    try:
        assert app.wait() == 2
        assert "unsupported --listen URL `tcp://1.2.3.4:5`" in app.stderr.text()
    finally:
        app.stop()
