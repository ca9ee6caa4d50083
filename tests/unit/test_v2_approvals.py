"""Approval requests as the v2 client sees them, and its answers as engine decisions."""

from __future__ import annotations

import json

import jsonschema
import pytest

from pycodex.protocol.event_payloads import (
    ApplyPatchApprovalRequestEvent,
    ExecApprovalRequestEvent,
)
from pycodex.protocol.items import AddFileChange, ParsedCommand
from pycodex.protocol.policies import ApprovedExecPolicyAmendment, ReviewDecision
from pycodex.protocol.v2.approvals import (
    BadDecision,
    command_approval_params,
    decision_from,
    file_change_approval_params,
)
from tests.support.shared import APP_SERVER_REFERENCE, APP_SERVER_SCHEMAS

SCHEMAS = APP_SERVER_SCHEMAS


def _codex_requests(transcript: str, method: str) -> list[dict[str, object]]:
    lines = (APP_SERVER_REFERENCE / transcript).read_text().splitlines()
    msgs = [json.loads(line).get("msg") for line in lines]
    return [m["params"] for m in msgs if isinstance(m, dict) and m.get("method") == method]


def _schema(name: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads((SCHEMAS / f"{name}.json").read_text()))


def test_command_approval_as_codex_asks_it() -> None:
    expected = _codex_requests("session.transcript.jsonl", "item/commandExecution/requestApproval")[1]
    request = ExecApprovalRequestEvent(
        call_id="call_11_fc_1",
        turn_id="01a1fee3-5e95-7c32-85de-c915f0d764b0",
        command=["/bin/bash", "-lc", "touch /outside/approval-test.txt && echo wrote"],
        cwd="/workspace",
        reason="need to write outside workspace",
        proposed_execpolicy_amendment=["touch", "/outside/approval-test.txt"],
        parsed_cmd=[ParsedCommand(type="unknown", cmd="touch /outside/approval-test.txt && echo wrote")],
    )
    params = command_approval_params(
        request, thread_id="01a1fee3-52c2-7602-afc6-5dede3fc091f", turn_id="ignored",
        started_at_ms=1795277676236,
    )
    assert params == expected
    assert list(params) == list(expected)
    _schema("CommandExecutionRequestApprovalParams").validate(params)


def test_file_change_approval_as_codex_asks_it() -> None:
    expected = _codex_requests("session2.transcript.jsonl", "item/fileChange/requestApproval")[0]
    request = ApplyPatchApprovalRequestEvent(
        call_id="call_0_ctc", turn_id="01a1fee5-c3e2-70a0-aa78-9f72c9c6bbb7",
        changes={"/w/a.txt": AddFileChange(content="x\n")},
    )
    params = file_change_approval_params(
        request, thread_id="01a1fee5-c299-7132-8cf8-38b40947db11", turn_id="ignored",
        started_at_ms=1795277833252,
    )
    assert params == expected
    _schema("FileChangeRequestApprovalParams").validate(params)


@pytest.mark.parametrize(
    ("answer", "decision"),
    [
        ("accept", ReviewDecision.APPROVED),
        ("acceptForSession", ReviewDecision.APPROVED_FOR_SESSION),
        ("decline", ReviewDecision.DENIED),
        ("cancel", ReviewDecision.ABORT),
    ],
)
def test_answers_become_engine_decisions(answer: str, decision: ReviewDecision) -> None:
    _schema("CommandExecutionRequestApprovalResponse").validate({"decision": answer})
    assert decision_from({"decision": answer}) is decision


def test_accept_with_a_rule_carries_the_prefix() -> None:
    answer = {"decision": {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch", "x"]}}}
    _schema("CommandExecutionRequestApprovalResponse").validate(answer)
    decision = decision_from(answer)
    assert isinstance(decision, ApprovedExecPolicyAmendment) and decision.prefix == ["touch", "x"]


@pytest.mark.parametrize(
    "answer",
    [{}, {"decision": "yes"}, {"decision": {"acceptWithExecpolicyAmendment": {}}}, "accept", None,
     {"decision": {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": []}}}],
)
def test_a_bad_answer_is_refused_by_name(answer: object) -> None:
    with pytest.raises(BadDecision, match="unknown approval decision"):
        decision_from(answer)
