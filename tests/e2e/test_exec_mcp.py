"""`pycodex exec` with MCP servers: tools offered, called, results and failures as the
model and the user see them. The servers are real processes: the fixture server of
`tests/support/mcp_fixture_server.py` (the official SDK's server API)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.exec_cli import ExecHarness, Result, input_items
from tests.support.mcp_config import fixture_server
from tests.support.mock_model import MockModelServer, function_call, message, response

pytestmark = pytest.mark.e2e

Json = dict[str, Any]


def call_output(mock: MockModelServer, call_id: str) -> Any:
    """The `output` of the function_call_output for `call_id` in the last request."""
    [out] = [
        i for i in input_items(mock.model_requests()[-1], "function_call_output")
        if i["call_id"] == call_id
    ]
    return out["output"]


def texts(output: Any) -> list[str]:
    assert isinstance(output, list), output
    return [part["text"] for part in output if part["type"] == "input_text"]


def process_alive(pid: int, grace_s: float = 5.0) -> bool:
    """Whether `pid` still runs (not a zombie) after up to `grace_s` (a reaped process
    may take a moment to disappear from /proc)."""
    deadline = time.monotonic() + grace_s
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        if state == "Z" or time.monotonic() > deadline:
            return state != "Z"
        time.sleep(0.05)


def run_call(
    harness: ExecHarness, mock: MockModelServer, tool: str, args: Json, *flags: str, config: str = ""
) -> Result:
    harness.write_config(extra=config or fixture_server())
    mock.enqueue(response(function_call(tool, args, "c1")), response(message("done")))
    return harness.run("--json", *flags, "go", timeout=60)


def test_tools_are_offered_with_codex_names_and_schemas(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    harness.write_config(extra=fixture_server())
    mock_model.enqueue(response(message("ok")))
    r = harness.run("--json", "hi", timeout=60)
    assert r.rc == 0, r.stderr
    tools = {t.get("name"): t for t in mock_model.model_requests()[0].body["tools"]}
    echo = tools["mcp__fx__echo"]
    assert echo["type"] == "function" and echo["description"] == "Echo the given text back."
    assert echo["parameters"]["properties"]["text"]["type"] == "string"
    assert echo["parameters"]["required"] == ["text"]
    assert tools["mcp__fx__hang"]["parameters"] == {
        "type": "object", "properties": {}, "title": "hangArguments"
    }
    for name in ("list_mcp_resources", "list_mcp_resource_templates", "read_mcp_resource"):
        assert name in tools


def test_a_call_and_its_result_reach_the_model_and_the_jsonl(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    r = run_call(harness, mock_model, "mcp__fx__echo", {"text": "ping"})
    assert r.rc == 0, r.stderr
    output = call_output(mock_model, "c1")
    assert texts(output)[0].startswith("Wall time: ") and texts(output)[0].endswith(" seconds\nOutput:")
    assert texts(output)[1:] == ["echo: ping"]
    [started] = r.items("mcp_tool_call", event="item.started")
    assert (started["server"], started["tool"], started["status"]) == ("fx", "echo", "in_progress")
    assert started["arguments"] == {"text": "ping"}
    [done] = r.items("mcp_tool_call")
    assert done["status"] == "completed" and done["error"] is None
    # As Codex's exec prints it (reference/exec/mcp.stdout): snake_case result keys.
    assert done["result"] == {"content": [{"type": "text", "text": "echo: ping"}], "structured_content": None}
    assert r.pairs()[-1] == ("turn.completed", None)


def test_is_error_result_is_a_failed_call_the_model_hears_about(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    r = run_call(harness, mock_model, "mcp__fx__fail", {"message": "nope"})
    assert r.rc == 0, r.stderr
    assert texts(call_output(mock_model, "c1"))[1:] == ["failed: nope"]
    [done] = r.items("mcp_tool_call")
    # The tool answered: its result is kept and there is no call error (as Codex).
    assert done["status"] == "failed" and done["error"] is None
    assert done["result"]["content"] == [{"type": "text", "text": "failed: nope"}]


def test_structured_content_is_sent_as_json_text(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    r = run_call(harness, mock_model, "mcp__fx__structured", {})
    assert r.rc == 0, r.stderr
    output = call_output(mock_model, "c1")
    assert isinstance(output, str) and output.endswith('seconds\nOutput:\n{"answer":42}')


def test_images_links_and_embedded_resources_are_passed_on(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    harness.write_config(extra=fixture_server())
    mock_model.enqueue(
        response(function_call("mcp__fx__image", {}, "c1"), function_call("mcp__fx__mixed", {}, "c2")),
        response(message("done")),
    )
    r = harness.run("--json", "go", timeout=60)
    assert r.rc == 0, r.stderr
    [_, image] = call_output(mock_model, "c1")
    assert image["type"] == "input_image" and image["image_url"].startswith("data:image/png;base64,iVBOR")
    mixed = texts(call_output(mock_model, "c2"))[1:]
    assert mixed[0] == "see below"
    assert json.loads(mixed[1]) == {"type": "resource_link", "uri": "fixture://greeting", "name": "greeting"}
    assert json.loads(mixed[2])["resource"] == {"uri": "fixture://note", "text": "a note"}


def test_a_tool_timeout_is_an_error_for_the_model(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    config = fixture_server(tool_timeout_sec=0.5)
    r = run_call(harness, mock_model, "mcp__fx__hang", {}, config=config)
    assert r.rc == 0, r.stderr
    [_, error] = texts(call_output(mock_model, "c1"))
    assert "timed out after 0.5 seconds" in error
    [done] = r.items("mcp_tool_call")
    assert done["status"] == "failed" and "timed out" in done["error"]["message"]


def test_a_server_crashing_mid_call_is_an_error_with_its_stderr(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    r = run_call(harness, mock_model, "mcp__fx__crash", {})
    assert r.rc == 0, r.stderr
    [_, error] = texts(call_output(mock_model, "c1"))
    assert "fx/crash" in error and "crashing on purpose" in error
    [done] = r.items("mcp_tool_call")
    # No answer: the call error says why, and there is no result.
    assert done["status"] == "failed" and done["result"] is None
    assert "crashing on purpose" in done["error"]["message"]


def test_a_server_that_never_starts_costs_its_timeout_and_is_reported(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    config = fixture_server(startup_timeout_sec=1, env={"MCP_FIXTURE_MODE": "never_start"})
    config += fixture_server("ok")
    harness.write_config(extra=config)
    mock_model.enqueue(response(message("fine")))
    r = harness.run("--json", "hi", timeout=60)
    assert r.rc == 0, r.stderr
    [warning] = [e["message"] for e in r.items("error")]
    assert warning.startswith("MCP client for `fx` timed out after 1 seconds.")
    names = [t.get("name") for t in mock_model.model_requests()[0].body["tools"]]
    assert "mcp__ok__echo" in names and not any(n and n.startswith("mcp__fx__") for n in names)
    assert r.items("agent_message")[0]["text"] == "fine"


def test_a_required_server_that_fails_ends_exec_naming_it(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    config = fixture_server("needed", required=True, env={"MCP_FIXTURE_MODE": "fail_start"})
    harness.write_config(extra=config)
    r = harness.run("--json", "hi", timeout=60)
    assert r.rc == 1
    assert "needed" in r.stderr and "missing FIXTURE_TOKEN" in r.stderr
    assert mock_model.model_requests() == []


def test_an_optional_server_that_fails_is_a_warning_only(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    harness.write_config(extra=fixture_server(env={"MCP_FIXTURE_MODE": "fail_start"}))
    mock_model.enqueue(response(message("fine")))
    r = harness.run("--json", "hi", timeout=60)
    assert r.rc == 0, r.stderr
    [warning] = [e["message"] for e in r.items("error")]
    assert warning.startswith("MCP client for `fx` failed to start:")
    assert "missing FIXTURE_TOKEN" in warning


def test_enabled_and_disabled_tools_filter_what_is_offered(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    config = fixture_server("a", enabled_tools=["echo", "peek"])
    config += fixture_server("b", disabled_tools=["echo"])
    harness.write_config(extra=config)
    mock_model.enqueue(response(function_call("mcp__b__echo", {"text": "x"}, "c1")), response(message("ok")))
    r = harness.run("--json", "hi", timeout=60)
    assert r.rc == 0, r.stderr
    names = {t.get("name") for t in mock_model.model_requests()[0].body["tools"]}
    assert {n for n in names if n and n.startswith("mcp__a__")} == {"mcp__a__echo", "mcp__a__peek"}
    assert "mcp__b__echo" not in names and "mcp__b__peek" in names
    assert call_output(mock_model, "c1") == "unsupported call: mcp__b__echo"


def test_a_tool_that_may_write_is_asked_about_and_exec_declines(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    # exec runs `never` unless --full-auto (on-request); `untrusted` is covered by
    # tests/unit/test_mcp_tool_handler.py.
    harness.write_config(extra=fixture_server())
    mock_model.enqueue(
        response(
            function_call("mcp__fx__echo", {"text": "x"}, "c1"),
            function_call("mcp__fx__peek", {"text": "y"}, "c2"),
        ),
        response(message("ok")),
    )
    r = harness.run("--json", "--full-auto", "hi", timeout=60)
    assert r.rc == 0, r.stderr
    assert texts(call_output(mock_model, "c1"))[1:] == ["user rejected MCP tool call"]
    assert texts(call_output(mock_model, "c2"))[1:] == ["peeked: y"]  # readOnlyHint: not asked
    [warning] = [e["message"] for e in r.items("error")]
    assert "declined the call of MCP tool `fx/echo`" in warning
    statuses = {i["tool"]: i["status"] for i in r.items("mcp_tool_call")}
    assert statuses == {"echo": "failed", "peek": "completed"}


def test_never_policy_runs_the_tool_without_asking(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    r = run_call(harness, mock_model, "mcp__fx__echo", {"text": "x"})
    assert r.rc == 0, r.stderr
    assert r.items("error") == []
    assert texts(call_output(mock_model, "c1"))[1:] == ["echo: x"]


def test_a_server_elicitation_is_declined_with_a_warning(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    r = run_call(harness, mock_model, "mcp__fx__ask", {})
    assert r.rc == 0, r.stderr
    assert texts(call_output(mock_model, "c1"))[1:] == ["elicitation: decline"]
    [warning] = [e["message"] for e in r.items("error")]
    assert "declined a request from MCP server `fx` (Proceed?)" in warning


def test_resources_are_listed_and_read(harness: ExecHarness, mock_model: MockModelServer) -> None:
    harness.write_config(extra=fixture_server())
    mock_model.enqueue(
        response(
            function_call("list_mcp_resources", {}, "c1"),
            function_call("list_mcp_resource_templates", {"server": "fx"}, "c2"),
            function_call("read_mcp_resource", {"server": "fx", "uri": "fixture://greeting"}, "c3"),
        ),
        response(message("ok")),
    )
    r = harness.run("--json", "hi", timeout=60)
    assert r.rc == 0, r.stderr
    listed = json.loads(call_output(mock_model, "c1"))
    assert [(e["server"], e["uri"]) for e in listed["resources"]] == [("fx", "fixture://greeting")]
    templates = json.loads(call_output(mock_model, "c2"))
    assert templates["server"] == "fx"
    assert templates["resourceTemplates"][0]["uriTemplate"] == "fixture://item/{item_id}"
    read = json.loads(call_output(mock_model, "c3"))
    assert read["contents"][0]["text"] == "hello from the fixture"
    assert {i["tool"] for i in r.items("mcp_tool_call")} == {
        "list_mcp_resources", "list_mcp_resource_templates", "read_mcp_resource"
    }


def test_no_server_process_outlives_exec(
    harness: ExecHarness, mock_model: MockModelServer, tmp_path: Path
) -> None:
    pid_file = tmp_path / "server.pid"
    harness.write_config(extra=fixture_server(env={"MCP_FIXTURE_PID_FILE": str(pid_file)}))
    mock_model.enqueue(response(message("ok")))
    r = harness.run("--json", "hi", timeout=60)
    assert r.rc == 0, r.stderr
    pid = int(pid_file.read_text())
    assert not process_alive(pid), f"MCP server {pid} outlived exec"


def test_what_a_server_started_dies_with_the_session(
    harness: ExecHarness, mock_model: MockModelServer, tmp_path: Path
) -> None:
    child_pid = tmp_path / "child.pid"
    r = run_call(harness, mock_model, "mcp__fx__spawn_child", {"pid_file": str(child_pid)})
    assert r.rc == 0, r.stderr
    pid = int(child_pid.read_text())
    assert not process_alive(pid), f"the server's child {pid} outlived exec"
