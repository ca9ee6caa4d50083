"""`pycodex exec` against `mcp-server-time` from PyPI over stdio: a Python MCP server we
did not write (its own venv, its own `mcp` and pydantic).

Installed by the test set-up (`.ci/run`): `python3 -m venv DIR && DIR/bin/pip install
mcp-server-time`; `MCP_TIME_BIN` points at `DIR/bin/mcp-server-time`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.exec_cli import ExecHarness, input_items
from tests.support.mock_model import MockModelServer, function_call, message, response

pytestmark = pytest.mark.e2e

BIN = Path(os.environ.get("MCP_TIME_BIN", "/tmp/mcptime-venv/bin/mcp-server-time"))
requires_time_server = pytest.mark.skipif(
    not os.access(BIN, os.X_OK),
    reason=f"mcp-server-time is not installed at {BIN} (pip install, see the module docstring)",
)


@requires_time_server
def test_mcp_server_time_from_pypi_converts_and_reports_errors(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    harness.write_config(
        extra=f'\n[mcp_servers.time]\ncommand = "{BIN}"\nargs = ["--local-timezone=UTC"]\n'
    )
    mock_model.enqueue(
        response(
            function_call("mcp__time__convert_time",
                          {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}, "c1"),
            function_call("mcp__time__get_current_time", {"timezone": "Mars/Olympus"}, "c2"),
        ),
        response(message("done")),
    )
    r = harness.run("--json", "what time is it in Tokyo at noon UTC?", timeout=90)
    assert r.rc == 0, r.stderr
    tools = {t.get("name"): t for t in mock_model.model_requests()[0].body["tools"]}
    assert {"mcp__time__convert_time", "mcp__time__get_current_time"} <= set(tools)
    assert tools["mcp__time__get_current_time"]["parameters"]["required"] == ["timezone"]

    outputs = {o["call_id"]: o["output"] for o in input_items(mock_model.model_requests()[-1], "function_call_output")}
    converted = outputs["c1"]
    text = converted if isinstance(converted, str) else json.dumps(converted)
    assert "Asia/Tokyo" in text and "21:00:00+09:00" in text  # what the server computed
    failed = outputs["c2"]
    failed_text = failed if isinstance(failed, str) else json.dumps(failed)
    assert "No time zone found with key Mars/Olympus" in failed_text

    items = {i["tool"]: i for i in r.items("mcp_tool_call")}
    assert items["convert_time"]["status"] == "completed"
    assert items["convert_time"]["server"] == "time"
    assert items["get_current_time"]["status"] == "failed"
