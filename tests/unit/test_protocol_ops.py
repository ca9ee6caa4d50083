"""Op variants: wire shape, round trip, and rejection of bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pycodex.protocol._wire import StrictWireModel, WireError, tag_of
from pycodex.protocol.ops import (
    OP_TYPES,
    OP_UNION,
    OP_VARIANTS,
    ExecApprovalOp,
    OverrideTurnContextOp,
    Submission,
    UserInputOp,
    UserTurnOp,
    op_to_wire,
    parse_op,
)
from pycodex.protocol.policies import (
    ApprovedExecPolicyAmendment,
    ReasoningEffort,
    WorkspaceWritePolicy,
)
from pycodex.protocol.user_input import ImageInput, LocalImageInput, TextInput

WS = {
    "type": "workspace-write",
    "writable_roots": ["/extra"],
    "network_access": False,
    "exclude_tmpdir_env_var": False,
    "exclude_slash_tmp": True,
}

# One representative wire payload per op type; every variant must appear here.
SAMPLES: dict[str, dict[str, Any]] = {
    "interrupt": {"type": "interrupt"},
    "user_input": {
        "type": "user_input",
        "items": [
            {"type": "text", "text": "hi", "text_elements": []},
            {"type": "image", "image_url": "data:image/png;base64,AAAA"},
            {"type": "local_image", "path": "/tmp/a.png"},
            {"type": "skill", "name": "review", "path": "/skills/review/SKILL.md"},
        ],
    },
    "user_turn": {
        "type": "user_turn",
        "items": [{"type": "text", "text": "go", "text_elements": []}],
        "cwd": "/workspace",
        "approval_policy": "on-request",
        "sandbox_policy": WS,
        "model": "gpt-5.5",
        "effort": "high",
        "summary": "auto",
        "final_output_json_schema": None,
    },
    "override_turn_context": {"type": "override_turn_context", "model": "m", "effort": None},
    "exec_approval": {"type": "exec_approval", "id": "call_1", "decision": "approved"},
    "patch_approval": {"type": "patch_approval", "id": "call_2", "decision": "abort"},
    "add_to_history": {"type": "add_to_history", "text": "ls"},
    "get_history_entry_request": {"type": "get_history_entry_request", "offset": 3, "log_id": 7},
    "list_mcp_tools": {"type": "list_mcp_tools"},
    "list_custom_prompts": {"type": "list_custom_prompts"},
    "compact": {"type": "compact"},
    "undo": {"type": "undo"},
    "review": {"type": "review", "review_request": {"prompt": "check it"}},
    "shutdown": {"type": "shutdown"},
    "run_user_shell_command": {"type": "run_user_shell_command", "command": "ls | wc -l"},
    "thread_rollback": {"type": "thread_rollback", "num_turns": 2},
}


def test_every_variant_is_in_the_union_and_has_a_sample() -> None:
    assert set(OP_UNION.variants.values()) == set(OP_VARIANTS)
    assert set(SAMPLES) == OP_TYPES
    assert len(OP_TYPES) == len(OP_VARIANTS)


@pytest.mark.parametrize("variant", OP_VARIANTS, ids=lambda cls: cls.__name__)
def test_variant_type_tag_is_snake_case(variant: type[StrictWireModel]) -> None:
    tag = tag_of(variant)
    assert tag == tag.lower() and " " not in tag and "-" not in tag
    assert variant.__name__.removesuffix("Op").lower() == tag.replace("_", "")


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_op_round_trips(kind: str) -> None:
    wire = SAMPLES[kind]
    op = parse_op(wire)
    assert op.type == kind
    assert op_to_wire(op) == wire
    assert parse_op(op_to_wire(op)) == op
    # Through JSON text too, as it crosses process boundaries (app-server, tests).
    assert parse_op(json.loads(json.dumps(op.to_wire()))) == op


def test_submission_round_trips() -> None:
    sub = Submission.from_wire({"id": "7", "op": SAMPLES["user_turn"]})
    assert isinstance(sub.op, UserTurnOp)
    assert isinstance(sub.op.sandbox_policy, WorkspaceWritePolicy)
    assert sub.op.sandbox_policy.exclude_slash_tmp is True
    assert sub.to_wire() == {"id": "7", "op": SAMPLES["user_turn"]}


def test_user_input_items_are_typed() -> None:
    op = parse_op(SAMPLES["user_input"])
    assert isinstance(op, UserInputOp)
    kinds = [type(i) for i in op.items]
    assert kinds[:3] == [TextInput, ImageInput, LocalImageInput]


def test_user_turn_omits_effort_when_unset_but_writes_null_schema() -> None:
    op = UserTurnOp.from_wire({**SAMPLES["user_turn"], "effort": None})
    wire = op_to_wire(op)
    assert "effort" not in wire
    assert wire["final_output_json_schema"] is None


def test_override_turn_context_distinguishes_absent_from_null() -> None:
    keep = OverrideTurnContextOp(model="m")
    clear = OverrideTurnContextOp(model="m", effort=None)
    set_ = OverrideTurnContextOp(effort=ReasoningEffort.LOW)
    assert op_to_wire(keep) == {"type": "override_turn_context", "model": "m"}
    assert op_to_wire(clear) == {"type": "override_turn_context", "model": "m", "effort": None}
    assert op_to_wire(set_) == {"type": "override_turn_context", "effort": "low"}
    assert not keep.sets("effort") and clear.sets("effort") and set_.sets("effort")
    reparsed = parse_op(op_to_wire(clear))
    assert isinstance(reparsed, OverrideTurnContextOp) and reparsed.sets("effort")
    assert not reparsed.sets("cwd")


def test_unknown_op_type_names_the_type() -> None:
    with pytest.raises(ValueError, match="unknown op type 'configure_session'"):
        parse_op({"type": "configure_session"})
    with pytest.raises(ValueError, match="unknown op type None"):
        parse_op({"text": "no type"})


def test_missing_required_field_is_a_validation_error_naming_it() -> None:
    with pytest.raises(WireError) as err:
        parse_op({"type": "exec_approval", "id": "x"})
    assert str(err.value) == "Object missing required field `decision`"


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "exec_approval", "id": "x", "decision": "Approved"},
        {"type": "thread_rollback", "num_turns": 0},
        {"type": "user_turn", **{k: v for k, v in SAMPLES["user_turn"].items() if k != "type"},
         "approval_policy": "sometimes"},
        {"type": "user_input", "items": [{"type": "video", "url": "x"}]},
    ],
    ids=["decision-casing", "zero-turns", "bad-approval", "bad-input-item"],
)
def test_bad_values_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(WireError):
        parse_op(bad)


def test_misspelled_op_field_is_rejected() -> None:
    with pytest.raises(WireError, match="aproval_policy"):
        parse_op({"type": "override_turn_context", "aproval_policy": "never"})


def test_exec_approval_accepts_approve_and_remember_in_codex_shape() -> None:
    wire = {
        "type": "exec_approval",
        "id": "call_1",
        "decision": {"approved_execpolicy_amendment": {"proposed_execpolicy_amendment": ["git", "push"]}},
    }
    op = parse_op(wire)
    assert isinstance(op, ExecApprovalOp) and isinstance(op.decision, ApprovedExecPolicyAmendment)
    assert op.decision.prefix == ["git", "push"]
    assert op_to_wire(op) == wire
    empty = {**wire, "decision": {"approved_execpolicy_amendment": {"proposed_execpolicy_amendment": []}}}
    with pytest.raises(WireError):
        parse_op(empty)
    # Only commands can be remembered as rules.
    with pytest.raises(WireError):
        parse_op({**wire, "type": "patch_approval"})
