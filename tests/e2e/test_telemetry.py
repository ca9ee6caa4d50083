"""OpenTelemetry from a real `pycodex exec` run to a local OTLP receiver, for each exporter
(OTLP/HTTP protobuf and JSON, OTLP/gRPC); payloads decoded with `opentelemetry-proto`.

The run exports at exit (the batch is flushed before the process ends), so the receiver
has everything once `exec` has returned: no waiting, no polling.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.support.exec_cli import ExecHarness, shell_call
from tests.support.mock_model import message, response
from tests.support.otlp_receiver import EXPORTERS, HEADERS, OtlpReceiver

pytestmark = pytest.mark.e2e

CATALOGUE = {
    "codex.conversation_starts", "codex.user_prompt", "codex.api_request",
    "codex.sse_event", "codex.tool_decision", "codex.tool_result",
}
COMMON = {"event.timestamp", "conversation.id", "app.version", "terminal.type", "model", "slug"}
def otel_config(exporter: str, endpoint: str, *, log_user_prompt: bool = False) -> str:
    table = EXPORTERS[exporter][1].format(e=endpoint, h=HEADERS)
    return (f'\n[otel]\nenvironment = "ci"\nlog_user_prompt = {str(log_user_prompt).lower()}\n'
            f"exporter = {{ {table} }}\n")


def run_traced(harness: ExecHarness, extra: str, prompt: str = "list files please") -> Any:
    harness.write_config(extra=extra)
    harness.mock.enqueue(response(shell_call("echo traced")), response(message("done")))
    env = {**harness.env, "OTLP_TOKEN": "token-123", "TERM": "xterm-test"}
    return harness.run("--json", "-s", "danger-full-access", prompt, env=env)


def by_name(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event.name"] == name]


def test_exec_exports_the_catalogue_with_common_attributes(
    harness: ExecHarness, receiver: OtlpReceiver, exporter: str
) -> None:
    result = run_traced(harness, otel_config(exporter, receiver.endpoint))
    assert result.rc == 0, result.stderr
    thread_id = result.of_type("thread.started")[0]["thread_id"]
    events = receiver.events()
    assert {e["event.name"] for e in events} == CATALOGUE
    for event in events:
        assert event.keys() >= COMMON, event
        assert event["conversation.id"] == thread_id
        assert event["model"] == event["slug"] == "gpt-5.5"
        assert event["terminal.type"] == "xterm-test"
        assert event["_resource"]["service.name"] == "pycodex_exec"
        assert event["_resource"]["env"] == "ci"
        assert event["auth_mode"] == "apikey"
    assert all(h.get("x-otlp-api-key") == "token-123" for h in receiver.headers)
    if exporter == "http-json":
        assert all("json" in ct for ct in receiver.content_types)

    start = by_name(events, "codex.conversation_starts")[0]
    assert start["provider_name"] == "mock" and start["sandbox_policy"] == "danger-full-access"
    requests = by_name(events, "codex.api_request")
    assert [r["attempt"] for r in requests] == [1, 1]
    assert {r["http.response.status_code"] for r in requests} == {200}
    completed = [e for e in by_name(events, "codex.sse_event")
                 if e["event.kind"] == "response.completed"]
    assert len(completed) == 2
    assert (completed[0]["input_token_count"], completed[0]["output_token_count"],
            completed[0]["cached_token_count"], completed[0]["reasoning_token_count"]) == (100, 10, 20, 3)
    decision = by_name(events, "codex.tool_decision")[0]
    assert (decision["tool_name"], decision["decision"], decision["source"]) == (
        "shell", "approved", "config")
    tool = by_name(events, "codex.tool_result")[0]
    assert (tool["tool_name"], tool["call_id"], tool["success"]) == ("shell", "call_1", "true")
    assert "echo traced" in tool["arguments"] and "traced" in tool["output"]
    assert isinstance(tool["duration_ms"], int)
    prompt = by_name(events, "codex.user_prompt")[0]
    assert (prompt["prompt"], prompt["prompt_length"]) == ("[REDACTED]", len("list files please"))


def test_prompt_is_exported_only_with_log_user_prompt(harness: ExecHarness) -> None:
    with OtlpReceiver("http") as rx:
        result = run_traced(harness, otel_config("http-binary", rx.endpoint, log_user_prompt=True),
                            prompt="secret plan")
        assert result.rc == 0, result.stderr
        prompts = by_name(rx.events(), "codex.user_prompt")
    assert [p["prompt"] for p in prompts] == ["secret plan"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("exporter_name", ["http-binary", "grpc"])
def test_dead_collector_does_not_fail_the_run(harness: ExecHarness, exporter_name: str) -> None:
    port = closed_port()
    endpoint = f"http://127.0.0.1:{port}" + ("/v1/logs" if exporter_name != "grpc" else "")
    result = run_traced(harness, otel_config(exporter_name, endpoint))
    assert result.rc == 0, result.stderr
    assert result.items("agent_message")[-1]["text"] == "done"
    warnings = [line for line in result.stderr.splitlines() if "OpenTelemetry export" in line]
    assert len(warnings) == 1, result.stderr
    assert "token-123" not in result.stderr
