"""MCP servers behind `pycodex app-server`: a server's `elicitation/create` reaches the client
as `mcpServer/elicitation/request`, and the client's answer goes back to the server;
`mcpServerStatus/list` shows each server's state, tools and resources."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_app_server_support import AppServer, server_env, write_mock_config
from tests.e2e.test_app_server_threads import Client, initialized_client, start_thread
from tests.support.mcp_config import fixture_server
from tests.support.mock_model import MockModelServer, function_call, message, response

pytestmark = pytest.mark.e2e
Json = dict[str, Any]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def client(tmp_path: Path, mock_model: MockModelServer) -> Iterator[Client]:
    servers = fixture_server(startup_timeout_sec=30) + '\n[mcp_servers.broken]\ncommand = "/nonexistent/mcp-server"\n'
    write_mock_config(tmp_path / "pycodex-home", mock_model.url, servers)
    yield from initialized_client(AppServer(tmp_path, env=server_env(tmp_path, MOCK_KEY="x")))


def _tool_output(mock: MockModelServer) -> str:
    [out] = [i for i in mock.model_requests()[-1].body["input"] if i.get("type") == "function_call_output"]
    return json.dumps(out["output"])


def _answer_the_question(client: Client, thread_id: str, answer: Json | None) -> Json:
    """Read until the elicitation request; answer it (or not: None); the request."""
    while True:
        msg = client.server.recv()
        if msg.get("method") == "mcpServer/elicitation/request":
            if answer is not None:
                client.server.send({"id": msg["id"], "result": answer})
            return msg
        assert msg.get("method") != "turn/completed", "the turn ended without asking"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [({"action": "accept", "content": {"ok": True}}, "elicitation: accept"),
     ({"action": "decline"}, "elicitation: decline")],
)
def test_a_server_question_goes_to_the_client_and_its_answer_back(
    client: Client, mock_model: MockModelServer, workspace: Path, answer: Json, expected: str
) -> None:
    mock_model.enqueue(response(function_call("mcp__fx__ask", {}, "c1")), response(message("done")))
    thread_id = start_thread(client, workspace)
    client.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "ask me"}]})
    request = _answer_the_question(client, thread_id, answer)
    params = request["params"]
    assert (params["threadId"], params["serverName"], params["mode"], params["message"]) == (
        thread_id, "fx", "form", "Proceed?"
    )
    assert params["requestedSchema"]["properties"]["ok"]["type"] == "boolean"
    resolved = client.until("serverRequest/resolved", threadId=thread_id)
    assert resolved["requestId"] == request["id"]
    client.until("turn/completed", threadId=thread_id)
    assert expected in _tool_output(mock_model)


def _by_name(listing: Json) -> dict[str, Json]:
    return {server["name"]: server for server in listing["data"]}


def test_status_without_a_thread_starts_the_servers_to_look(client: Client) -> None:
    listing = client.call("mcpServerStatus/list", {})["result"]
    servers = _by_name(listing)
    assert sorted(servers) == ["broken", "fx"] and listing["nextCursor"] is None
    fx = servers["fx"]
    assert (fx["runtimeStatus"], fx["authStatus"], fx["toolsError"]) == ("connected", "unsupported", None)
    assert {"echo", "ask"} <= set(fx["tools"]) and fx["tools"]["echo"]["inputSchema"]["type"] == "object"
    assert [r["uri"] for r in fx["resources"]] == ["fixture://greeting"]
    assert [t["uriTemplate"] for t in fx["resourceTemplates"]] == ["fixture://item/{item_id}"]
    assert fx["serverInfo"]["name"] == "fixture"
    broken = servers["broken"]
    assert broken["runtimeStatus"] == "failed" and "/nonexistent/mcp-server" in broken["toolsError"]
    assert broken["tools"] == {}


def test_status_of_a_thread_filtered_and_paged(client: Client, workspace: Path) -> None:
    thread_id = start_thread(client, workspace)
    # The thread's servers start in the background: "starting" until each has settled.
    deadline = time.monotonic() + 30
    while True:
        states = _by_name(client.call("mcpServerStatus/list", {"threadId": thread_id})["result"])
        if states["fx"]["runtimeStatus"] != "starting" or time.monotonic() > deadline:
            break
        assert states["fx"]["tools"] == {}  # nothing claimed before it is known
        time.sleep(0.05)  # polling a condition, with a deadline
    assert states["fx"]["runtimeStatus"] == "connected"
    first = client.call("mcpServerStatus/list", {"threadId": thread_id, "limit": 1})["result"]
    assert len(first["data"]) == 1 and first["nextCursor"] == "1"
    only = client.call("mcpServerStatus/list", {"threadId": thread_id, "serverName": "fx",
                                                "detail": "toolsAndAuthOnly"})["result"]["data"]
    assert [s["name"] for s in only] == ["fx"] and only[0]["resources"] == [] and "echo" in only[0]["tools"]
    unknown = client.call("mcpServerStatus/list", {"threadId": "no-such-thread"})
    assert "error" in unknown
    bad_cursor = client.call("mcpServerStatus/list", {"threadId": thread_id, "cursor": "x"})
    assert bad_cursor["error"]["message"] == "invalid cursor: 'x'"


def test_reload_restarts_each_thread_s_servers_from_the_config_as_it_is_now(
    client: Client, mock_model: MockModelServer, workspace: Path, tmp_path: Path
) -> None:
    thread_id = start_thread(client, workspace)
    config = tmp_path / "pycodex-home" / "config.toml"
    text = config.read_text()
    config.write_text(text.replace("[mcp_servers.fx]", "[mcp_servers.fx2]").replace("[mcp_servers.fx.env]", "[mcp_servers.fx2.env]"))
    assert client.call("config/mcpServer/reload", {})["result"] == {}
    states = _by_name(client.call("mcpServerStatus/list", {"threadId": thread_id})["result"])
    assert sorted(states) == ["broken", "fx2"]

    mock_model.enqueue(response(message("ok")))
    client.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "tools?"}]})
    client.until("turn/completed", threadId=thread_id)
    offered = {tool.get("name") for tool in mock_model.model_requests()[-1].body["tools"]}
    assert "mcp__fx2__echo" in offered and "mcp__fx__echo" not in offered
