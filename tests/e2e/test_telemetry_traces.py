"""OpenTelemetry traces (`[otel] trace_exporter`) from a real `pycodex exec` run to a local
OTLP receiver, for each exporter; spans decoded with `opentelemetry-proto`. The run flushes
at exit, so the receiver has every span once `exec` has returned."""

from __future__ import annotations

import pytest

from tests.e2e.test_telemetry import run_traced
from tests.support.exec_cli import ExecHarness
from tests.support.otlp_receiver import EXPORTERS, HEADERS, OtlpReceiver

pytestmark = pytest.mark.e2e


def trace_config(exporter: str, endpoint: str) -> str:
    table = EXPORTERS[exporter][1].format(e=endpoint, h=HEADERS)
    return f'\n[otel]\nenvironment = "ci"\ntrace_exporter = {{ {table} }}\n'


def test_a_turn_is_a_trace_with_its_requests_and_tool_calls(
    harness: ExecHarness, receiver: OtlpReceiver, exporter: str
) -> None:
    result = run_traced(harness, trace_config(exporter, receiver.traces_endpoint))
    assert result.rc == 0, result.stderr
    thread_id = result.of_type("thread.started")[0]["thread_id"]
    spans = receiver.spans()
    turns = [s for s in spans if s["_name"] == "codex.turn"]
    assert len(turns) == 1
    turn = turns[0]
    assert turn["_parent"] == "" and turn["_status"] == "STATUS_CODE_UNSET"
    assert turn["conversation.id"] == thread_id and turn["model"] == "gpt-5.5"
    assert turn["_resource"]["service.name"] == "pycodex_exec"
    children = [s for s in spans if s is not turn]
    assert sorted(s["_name"] for s in children) == ["codex.api_request", "codex.api_request", "codex.tool_call"]
    for child in children:
        assert child["_trace_id"] == turn["_trace_id"] and child["_parent"] == turn["_span_id"]
        assert turn["_start"] <= child["_start"] <= child["_end"] <= turn["_end"]
    tool = next(s for s in children if s["_name"] == "codex.tool_call")
    assert tool["tool_name"] == "shell" and tool["success"] == "true"
    requests = [s for s in children if s["_name"] == "codex.api_request"]
    assert all(s["http.response.status_code"] == 200 for s in requests)
    assert receiver.events() == []  # traces only: no log records were asked for
