"""MCP questions ⇄ `mcpServer/elicitation/request` (shapes checked against Codex's schema)."""

from __future__ import annotations

from typing import Any

import pytest

from pycodex.frontends.app_server.elicitation import elicitation_params, elicitation_response
from pycodex.mcp.elicitation import ElicitationRequest
from tests.support.app_server_traffic import TrafficValidator


def _sent(params: Any) -> None:
    TrafficValidator().received({"id": 3, "method": "mcpServer/elicitation/request", "params": params})


def test_a_tool_approval_is_a_form_without_fields_naming_the_tool() -> None:
    request = ElicitationRequest(server="fx", kind="tool_approval", message="", tool="rm", arguments={"p": "/"})
    params = elicitation_params(request, thread_id="t", turn_id="u")
    _sent(params)
    assert params["mode"] == "form" and params["requestedSchema"] == {"type": "object", "properties": {}}  # type: ignore[index]
    assert "`rm`" in params["message"] and '"p": "/"' in params["message"]  # type: ignore[index]


def test_a_url_elicitation_gets_an_id() -> None:
    request = ElicitationRequest(server="fx", kind="server", message="Sign in", url="https://x.test/a")
    params = elicitation_params(request, thread_id="t", turn_id=None)
    _sent(params)
    assert params["mode"] == "url" and params["elicitationId"]  # type: ignore[index]


def test_generator_extras_are_dropped_from_a_form() -> None:
    schema = {"title": "Confirm", "type": "object", "required": ["ok"],
              "properties": {"ok": {"type": "boolean", "title": "Ok", "examples": [True]}}}
    params = elicitation_params(ElicitationRequest(server="fx", kind="server", message="Go?", requested_schema=schema),
                                thread_id="t", turn_id=None)
    _sent(params)
    assert params["requestedSchema"] == {  # type: ignore[index]
        "type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean", "title": "Ok"}}
    }


@pytest.mark.parametrize("bad", [None, {}, {"action": "maybe"}, {"action": "accept", "content": [1]}])
def test_answers_that_are_not_answers_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        elicitation_response(bad)


def test_an_accept_carries_its_content() -> None:
    answer = elicitation_response({"action": "accept", "content": {"ok": True}})
    assert (answer.action, answer.content) == ("accept", {"ok": True})
