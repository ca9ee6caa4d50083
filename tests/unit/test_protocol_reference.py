"""The protocol models against data captured from Codex 0.163 (shared/reference/).

Every captured item / event must parse and serialize back to exactly what Codex wrote.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pycodex.protocol.events import ItemCompletedEvent, parse_event_msg
from pycodex.protocol.items import (
    AgentMessageTurnItem,
    CommandExecutionTurnItem,
    UserMessageTurnItem,
)
from pycodex.protocol.models import OtherItem, item_to_wire, parse_response_item
from pycodex.protocol.policies import (
    AskForApproval,
    ReadOnlyPolicy,
    ReasoningSummary,
    SandboxPolicy,
    WorkspaceWritePolicy,
)


def _reference_dir() -> Path:
    env = os.environ.get("PYCODEX_SHARED")
    shared = Path(env) if env else Path(__file__).resolve().parents[3] / "shared"
    reference = shared / "reference"
    if not (reference / "state").is_dir():
        raise RuntimeError(
            f"captured Codex data not found under {reference}: set PYCODEX_SHARED to the "
            "shared docs directory"
        )
    return reference


REF = _reference_dir()


def _rollout_lines() -> list[tuple[str, dict[str, Any]]]:
    lines = []
    for path in sorted((REF / "state").glob("rollout-*.jsonl")):
        for n, raw in enumerate(path.read_text().splitlines(), 1):
            lines.append((f"{path.name}:{n}", json.loads(raw)))
    return lines


ROLLOUT = _rollout_lines()


def _by_type(kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(where, line["payload"]) for where, line in ROLLOUT if line["type"] == kind]


def _sse_items() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((REF / "responses-sse").glob("*.sse")):
        for raw in path.read_text().splitlines():
            if not raw.startswith("data:"):
                continue
            try:
                data = json.loads(raw[len("data:") :])
            except json.JSONDecodeError:
                continue
            if data.get("type") == "response.output_item.done":
                found.append((f"{path.name}:{data['item'].get('id')}", data["item"]))
    return found


def _request_input_items() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((REF / "requests").glob("*.shape.json")):
        body = json.loads(path.read_text())["body"]
        for n, item in enumerate(body["input"]):
            found.append((f"{path.name}#{n}", item))
    return found


RESPONSE_ITEMS = _by_type("response_item")
EVENT_MSGS = _by_type("event_msg")
TURN_CONTEXTS = _by_type("turn_context")
SSE_ITEMS = _sse_items()
REQUEST_ITEMS = _request_input_items()


def test_reference_data_is_not_empty() -> None:
    # Guards the parametrized tests below against silently running over nothing.
    assert len(RESPONSE_ITEMS) >= 10
    assert len(EVENT_MSGS) >= 20
    assert len(TURN_CONTEXTS) >= 3
    assert len(SSE_ITEMS) >= 8
    assert len(REQUEST_ITEMS) >= 10


def _ids(cases: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [where for where, _ in cases]


@pytest.mark.parametrize(
    "where,item",
    RESPONSE_ITEMS + SSE_ITEMS + REQUEST_ITEMS,
    ids=_ids(RESPONSE_ITEMS + SSE_ITEMS + REQUEST_ITEMS),
)
def test_response_item_round_trips_exactly(where: str, item: dict[str, Any]) -> None:
    parsed = parse_response_item(item)
    assert not isinstance(parsed, OtherItem), f"{where}: {item['type']} fell back to OtherItem"
    assert item_to_wire(parsed) == item


@pytest.mark.parametrize("where,payload", EVENT_MSGS, ids=_ids(EVENT_MSGS))
def test_rollout_event_msg_round_trips_exactly(where: str, payload: dict[str, Any]) -> None:
    event = parse_event_msg(payload)
    assert event.type == payload["type"]
    assert event.to_wire() == payload


def test_rollout_item_completed_payloads_are_typed() -> None:
    kinds = set()
    for _, payload in EVENT_MSGS:
        if payload["type"] == "item_completed":
            event = parse_event_msg(payload)
            assert isinstance(event, ItemCompletedEvent)
            kinds.add(type(event.item))
    assert {UserMessageTurnItem, AgentMessageTurnItem, CommandExecutionTurnItem} <= kinds


def test_rollout_command_execution_fields() -> None:
    payload = next(
        p
        for _, p in EVENT_MSGS
        if p["type"] == "item_completed" and p["item"]["type"] == "CommandExecution"
    )
    event = parse_event_msg(payload)
    assert isinstance(event, ItemCompletedEvent)
    item = event.item
    assert isinstance(item, CommandExecutionTurnItem)
    assert item.command == ["/bin/bash", "-lc", "echo hello-from-tool"]
    assert item.exit_code == 0
    assert item.duration is not None and item.duration.total_seconds() == pytest.approx(8.843e-6)
    assert item.parsed_cmd[0].type == "unknown"


@pytest.mark.parametrize("where,ctx", TURN_CONTEXTS, ids=_ids(TURN_CONTEXTS))
def test_turn_context_policies_parse(where: str, ctx: dict[str, Any]) -> None:
    policy = SandboxPolicy.parse(ctx["sandbox_policy"])
    assert isinstance(policy, ReadOnlyPolicy)
    assert policy.to_wire() == ctx["sandbox_policy"]
    assert AskForApproval(ctx["approval_policy"]) is AskForApproval.NEVER
    assert ReasoningSummary(ctx["summary"]) is ReasoningSummary.NONE


def _app_server_sandbox_policies() -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("sandbox", "sandboxPolicy") and isinstance(value, dict):
                    found[json.dumps(value, sort_keys=True)] = value
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted((REF / "app-server").glob("*.transcript.jsonl")):
        for raw in path.read_text().splitlines():
            walk(json.loads(raw))
    return list(found.values())


APP_SERVER_POLICIES = _app_server_sandbox_policies()


def test_app_server_policies_found() -> None:
    kinds = {p["type"] for p in APP_SERVER_POLICIES}
    assert {"readOnly", "workspaceWrite"} <= kinds


@pytest.mark.parametrize(
    "v2", APP_SERVER_POLICIES, ids=[json.dumps(p) for p in APP_SERVER_POLICIES]
)
def test_app_server_camel_case_policies_convert(v2: dict[str, Any]) -> None:
    policy = SandboxPolicy.from_app_server(v2)
    rendered = policy.to_app_server()
    # Codex sometimes abbreviates readOnly to {"type": "readOnly"}; our rendering is the
    # complete form, so compare on the keys the capture has.
    assert {k: rendered[k] for k in v2} == v2
    if isinstance(policy, WorkspaceWritePolicy):
        assert policy.to_wire() == {
            "type": "workspace-write",
            "writable_roots": [],
            "network_access": False,
            "exclude_tmpdir_env_var": False,
            "exclude_slash_tmp": False,
        }
