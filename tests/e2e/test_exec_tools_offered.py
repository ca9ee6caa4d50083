"""Which tools a request offers, by model, wire API and config (`web_search`, `tools.*`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.exec_cli import ExecHarness, call_outputs
from tests.support.mock_model import MockModelServer, chat_text, function_call, message, response

pytestmark = pytest.mark.e2e

REFERENCE_REQUEST = (
    Path(__file__).resolve().parents[3] / "shared/reference/requests/exec_shell.request1.shape.json"
)


def offered(harness: ExecHarness, mock: MockModelServer, *args: str) -> list[dict[str, Any]]:
    mock.enqueue(response(message("ok")))
    r = harness.run("--json", *args, "hi")
    assert r.rc == 0, r.stderr
    tools: list[dict[str, Any]] = mock.model_requests()[-1].body["tools"]
    return tools


def names(tools: list[dict[str, Any]]) -> list[str]:
    return [t.get("name", t["type"]) for t in tools]


def test_web_search_is_offered_as_codex_offers_it(harness: ExecHarness, mock_model: MockModelServer) -> None:
    tools = offered(harness, mock_model)
    [search] = [t for t in tools if t["type"] == "web_search"]
    if REFERENCE_REQUEST.is_file():
        reference = json.loads(REFERENCE_REQUEST.read_text())["body"]["tools"]
        assert search == next(t for t in reference if t["type"] == "web_search")
    assert search == {"type": "web_search", "external_web_access": False, "search_content_types": ["text", "image"]}
    assert names(tools)[-1] == "web_search"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("-c", 'web_search="live"'), True),
        (("-c", 'web_search="cached"'), False),
        (("-c", "tools.web_search=true"), True),
        (("-c", "tools.web_search={}"), True),  # a [tools.web_search] table enables it
        (("-c", 'web_search="disabled"'), None),
        (("-c", "tools.web_search=false"), None),
        (("-m", "qwen2.5-coder"), None),  # not an OpenAI model: no hosted tools
        # Without a sandbox Codex searches live by default; an explicit mode still wins.
        (("-s", "danger-full-access"), True),
        (("-s", "danger-full-access", "-c", 'web_search="cached"'), False),
        (("-s", "workspace-write"), False),
    ],
)
def test_web_search_modes(
    harness: ExecHarness, mock_model: MockModelServer, args: tuple[str, ...], expected: bool | None
) -> None:
    tools = offered(harness, mock_model, *args)
    search = [t for t in tools if t["type"] == "web_search"]
    assert [t["external_web_access"] for t in search] == ([] if expected is None else [expected])


def test_no_hosted_search_over_chat_completions(harness: ExecHarness, mock_model: MockModelServer) -> None:
    mock_model.enqueue(chat_text("ok"))
    r = harness.run("--json", "-c", 'model_providers.mock.wire_api="chat"', "hi")
    assert r.rc == 0, r.stderr
    body = mock_model.model_requests()[-1].body
    assert all(t["type"] == "function" for t in body["tools"])


def test_tools_switched_off_in_config_are_not_offered(harness: ExecHarness, mock_model: MockModelServer) -> None:
    default = names(offered(harness, mock_model))
    trimmed = names(
        offered(harness, mock_model, "-c", "tools.update_plan={enabled=false}", "-c", "tools.view_image=false")
    )
    assert {"update_plan", "view_image"} <= set(default)
    assert "update_plan" not in trimmed and "view_image" not in trimmed
    assert {"exec_command", "apply_patch"} <= set(trimmed)


def test_unknown_web_search_mode_is_a_config_error(harness: ExecHarness) -> None:
    r = harness.run("--json", "-c", 'web_search="sometimes"', "hi")
    assert r.rc == 1
    assert "web_search" in r.stderr and "disabled" in r.stderr and "live" in r.stderr
    assert harness.mock.model_requests() == []


def test_a_hosted_tool_called_as_a_function_is_answered(harness: ExecHarness, mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(function_call("web_search", {"query": "x"})), response(message("ok")))
    r = harness.run("--json", "hi")
    assert r.rc == 0, r.stderr
    assert call_outputs(mock_model.model_requests()[-1]) == [
        ("call_1", "web_search runs on the provider's side; it cannot be called as a function")
    ]
