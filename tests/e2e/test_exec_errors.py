"""`pycodex exec` failures: provider errors, retries, bad setup. Each exits non-zero with a
clear message and sends no more requests than the retry bounds allow.
"""

from __future__ import annotations

import re
import socket

import pytest

from tests.support.exec_cli import ExecHarness, call_outputs, shell_call
from tests.support.mock_model import (
    MockModelServer,
    failed,
    hang,
    http_error,
    message,
    response,
    response_events,
    sse,
)

pytestmark = pytest.mark.e2e


def retries(request: int, stream: int) -> tuple[str, ...]:
    return (
        "-c", f"model_providers.mock.request_max_retries={request}",
        "-c", f"model_providers.mock.stream_max_retries={stream}",
    )


# --- provider errors --------------------------------------------------------------------------

def test_http_500_is_retried_then_succeeds(harness: ExecHarness, mock_model: MockModelServer) -> None:
    mock_model.enqueue(http_error(500), response(message("Recovered.")))

    r = harness.run("--json", *retries(0, 2), "[[error500]]")

    assert r.rc == 0, r.stderr
    assert r.pairs() == [
        ("thread.started", None),
        ("turn.started", None),
        ("error", None),
        ("item.completed", "agent_message"),
        ("turn.completed", None),
    ]
    [notice] = r.of_type("error")
    assert notice["message"].startswith("Reconnecting... 1/2 (")
    assert "500" in notice["message"]
    assert r.items("agent_message")[0]["text"] == "Recovered."
    reqs = mock_model.model_requests()
    assert len(reqs) == 2
    assert reqs[0].body == reqs[1].body  # the same request, re-sent
    # Usage counts only the response that completed.
    assert r.last["usage"]["input_tokens"] == 100


def test_http_500_retries_are_bounded(harness: ExecHarness, mock_model: MockModelServer) -> None:
    mock_model.enqueue(*[http_error(500)] * 2)

    r = harness.run("--json", *retries(1, 1), "[[error500_retries]]")

    assert r.rc == 1
    # One budget per request (the larger of the two settings): 1 retry, 2 POSTs, failure.
    assert len(mock_model.model_requests()) == 2
    assert [e["message"].split(" (")[0] for e in r.of_type("error")][:1] == ["Reconnecting... 1/1"]
    assert r.pairs()[-2:] == [("error", None), ("turn.failed", None)]
    assert "500" in r.last["error"]["message"]


def test_http_400_fails_without_retry_showing_the_body(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(http_error(400), response(message("never sent")))

    r = harness.run("--json", *retries(3, 3), "[[error400]]")

    assert r.rc == 1
    assert r.pairs() == [
        ("thread.started", None),
        ("turn.started", None),
        ("error", None),
        ("turn.failed", None),
    ]
    body = '{"error": {"message": "mock HTTP 400", "type": "server_error", "code": "mock_error"}}'
    assert body in r.last["error"]["message"]
    assert r.of_type("error")[0]["message"] == r.last["error"]["message"]
    assert len(mock_model.model_requests()) == 1


def test_response_failed_fails_the_turn(harness: ExecHarness, mock_model: MockModelServer) -> None:
    mock_model.enqueue(failed("mock response.failed"))

    r = harness.run("--json", "[[failed]]")

    assert r.rc == 1
    assert r.pairs() == [
        ("thread.started", None),
        ("turn.started", None),
        ("error", None),
        ("turn.failed", None),
    ]
    # With retries disabled the message is Codex's, word for word.
    assert r.last["error"]["message"] == "stream disconnected before completion: mock response.failed"
    assert r.of_type("error")[0]["message"] == r.last["error"]["message"]
    assert len(mock_model.model_requests()) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_fails_in_bounded_time(harness: ExecHarness) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    harness.write_config(base_url=url)

    r = harness.run("--json", *retries(1, 1), "hello?", timeout=15)

    assert r.rc == 1
    assert r.elapsed_s < 10
    message = r.last["error"]["message"]
    assert r.last["type"] == "turn.failed"
    assert f"{url}/responses" in message
    assert "could not connect" in message
    assert message.endswith("(gave up after 1 retry)")
    assert [e["message"].split(" (")[0] for e in r.of_type("error")][:1] == ["Reconnecting... 1/1"]


def test_missing_api_key_names_the_env_var(harness: ExecHarness) -> None:
    env = {k: v for k, v in harness.env.items() if k != "MOCK_KEY"}

    r = harness.run("--json", "hello?", env=env)

    assert r.rc == 1
    assert r.last["type"] == "turn.failed"
    assert "`MOCK_KEY`" in r.last["error"]["message"]
    assert harness.mock.requests == []


# --- bad setup --------------------------------------------------------------------------------

def test_not_a_git_repo(harness: ExecHarness) -> None:
    outside = harness.root / "not-a-repo"
    outside.mkdir()

    r = harness.run("--json", "hi", cwd=outside)

    assert r.rc == 1
    assert r.stdout == ""
    assert (
        "Not inside a trusted directory and --skip-git-repo-check was not specified."
        in r.stderr.splitlines()[-1]
    )
    assert harness.mock.requests == []


def test_skip_git_repo_check(harness: ExecHarness) -> None:
    outside = harness.root / "not-a-repo"
    outside.mkdir()
    harness.mock.enqueue(response(message("Just text, no tools.")))

    r = harness.run("--json", "--skip-git-repo-check", "[[text]]", cwd=outside)

    assert r.rc == 0, r.stderr
    assert r.items("agent_message")[0]["text"] == "Just text, no tools."
    assert len(harness.mock.model_requests()) == 1


def test_cd_flag_selects_the_workspace(harness: ExecHarness) -> None:
    outside = harness.root / "not-a-repo"
    outside.mkdir()
    harness.mock.enqueue(response(message("ok")))

    r = harness.run("--json", "-C", str(harness.workspace), "[[text]]", cwd=outside)

    assert r.rc == 0, r.stderr
    assert f"<cwd>{harness.workspace}</cwd>" in str(harness.mock.model_requests()[0].body["input"])


def test_bad_flag_is_a_usage_error(harness: ExecHarness) -> None:
    r = harness.run("--json", "--bogus", "hi")

    assert r.rc == 2
    assert r.stdout == ""
    assert "--bogus" in r.stderr
    assert harness.mock.requests == []


def test_malformed_config_names_file_line_and_column(harness: ExecHarness) -> None:
    config = harness.write_config(extra="[broken\nkey = 1\n")

    r = harness.run("--json", "hi")

    assert r.rc == 1
    assert r.stdout == ""
    last = r.stderr.strip().splitlines()[-1]
    assert re.fullmatch(rf"Error: {re.escape(str(config))}:12:\d+: .+", last), last
    assert harness.mock.requests == []


def test_bad_config_override_value(harness: ExecHarness) -> None:
    r = harness.run("--json", "-c", "model_provider=123", "hi")

    assert r.rc == 1
    assert r.stdout == ""
    assert "model_provider" in r.stderr
    assert harness.mock.requests == []


def test_dropped_stream_is_retried_and_its_calls_run_once(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    # The first stream delivers the whole function_call item, then drops before
    # response.completed: the call must not run from the discarded attempt.
    call = shell_call("echo ran >> runs.txt")
    events = response_events(call)
    assert events[-1]["type"] == "response.completed"
    mock_model.enqueue(
        sse(events, drop_after=len(events) - 1),
        response(call),
        response(message("All done.")),
    )

    r = harness.run("--json", "-s", "danger-full-access", *retries(0, 1), "append once")

    assert r.rc == 0, r.stderr
    assert (harness.workspace / "runs.txt").read_text(encoding="utf-8") == "ran\n"
    assert len(r.items("command_execution")) == 1
    [notice] = r.of_type("error")
    assert notice["message"].startswith("Reconnecting... 1/1 (stream disconnected before completion")
    reqs = mock_model.model_requests()
    assert len(reqs) == 3
    assert reqs[0].body == reqs[1].body
    assert len(call_outputs(reqs[2])) == 1


def test_idle_stream_times_out_and_is_retried(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(hang(total_s=10), response(message("Finally.")))

    r = harness.run(
        "--json", *retries(0, 1), "-c", "model_providers.mock.stream_idle_timeout_ms=300", "hi"
    )

    assert r.rc == 0, r.stderr
    assert r.elapsed_s < 8
    [notice] = r.of_type("error")
    assert notice["message"].startswith("Reconnecting... 1/1 (idle timeout")
    assert r.items("agent_message")[0]["text"] == "Finally."
    assert len(mock_model.model_requests()) == 2
