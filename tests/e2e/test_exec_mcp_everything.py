"""`pycodex exec` against `@modelcontextprotocol/server-everything` (npm), the MCP
project's reference server, over stdio and over streamable HTTP: a server we did not write.

Installed by the test set-up (`.ci/run`):
`npm install --prefix /tmp/mcp-everything --no-audit --no-fund @modelcontextprotocol/server-everything@2026.8.31`;
`MCP_EVERYTHING_BIN` may point elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.exec_cli import ExecHarness, input_items
from tests.support.mock_model import MockModelServer, function_call, message, response

pytestmark = pytest.mark.e2e

BIN = Path(
    os.environ.get("MCP_EVERYTHING_BIN", "/tmp/mcp-everything/node_modules/.bin/mcp-server-everything")
)
requires_everything = pytest.mark.skipif(
    not os.access(BIN, os.X_OK),
    reason=f"server-everything is not installed at {BIN} (npm install, see the module docstring)",
)


@requires_everything
def test_server_everything_tools_are_offered_and_called(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    harness.write_config(extra=f'\n[mcp_servers.everything]\ncommand = "{BIN}"\nargs = ["stdio"]\n')
    mock_model.enqueue(
        response(
            function_call("mcp__everything__echo", {"message": "hi"}, "c1"),
            function_call("mcp__everything__get-tiny-image", {}, "c2"),
        ),
        response(message("done")),
    )
    r = harness.run("--json", "go", timeout=90)
    assert r.rc == 0, r.stderr
    offered = {t.get("name") for t in mock_model.model_requests()[0].body["tools"]}
    assert {"mcp__everything__echo", "mcp__everything__get-tiny-image"} <= offered
    outputs = {o["call_id"]: o["output"] for o in input_items(mock_model.model_requests()[-1], "function_call_output")}
    assert [p["text"] for p in outputs["c1"][1:]] == ["Echo: hi"]
    assert any(p["type"] == "input_image" and p["image_url"].startswith("data:image/png;base64,")
               for p in outputs["c2"])
    assert {i["tool"]: i["status"] for i in r.items("mcp_tool_call")} == {
        "echo": "completed", "get-tiny-image": "completed"
    }


@requires_everything
def test_server_everything_over_streamable_http(harness: ExecHarness, mock_model: MockModelServer) -> None:
    """The same server as a separate process serving streamable HTTP (`url = …/mcp`)."""
    import socket
    import subprocess

    with socket.socket() as probe:  # a free port for it (it cannot report one it picked)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(BIN), "streamableHttp"], env={**os.environ, "PORT": str(port)},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        assert server.stderr is not None
        for line in server.stderr:  # blocking reads until it listens (or ends: then fail)
            if "listening on port" in line:
                break
        else:
            raise AssertionError("server-everything ended before listening")
        harness.write_config(extra=f'\n[mcp_servers.everything]\nurl = "http://127.0.0.1:{port}/mcp"\n')
        mock_model.enqueue(response(function_call("mcp__everything__echo", {"message": "over http"}, "c1")),
                           response(message("done")))
        r = harness.run("--json", "go", timeout=90)
        assert r.rc == 0, r.stderr
        outputs = {o["call_id"]: o["output"] for o in input_items(mock_model.model_requests()[-1], "function_call_output")}
        assert [p["text"] for p in outputs["c1"][1:]] == ["Echo: over http"]
        assert {i["tool"]: i["status"] for i in r.items("mcp_tool_call")} == {"echo": "completed"}
    finally:
        os.killpg(server.pid, 9)
        server.wait(timeout=10)
