"""Sandbox/approval policies and the ResponseItem fixes in protocol.models."""

from __future__ import annotations

from typing import Any

import pytest

from pycodex.protocol._wire import WireError, WireModel
from pycodex.protocol.models import (
    CONTENT_ITEM_UNION,
    MessageItem,
    OtherContent,
    OtherItem,
    ReasoningItem,
    item_to_wire,
    parse_response_item,
    user_message,
)
from pycodex.protocol.policies import (
    AnySandboxPolicy,
    AskForApproval,
    DangerFullAccessPolicy,
    ExternalSandboxPolicy,
    ReadOnlyPolicy,
    ReasoningEffort,
    ReasoningSummary,
    ReviewDecision,
    SandboxMode,
    SandboxPolicy,
    Verbosity,
    WorkspaceWritePolicy,
)


@pytest.mark.parametrize(
    "enum,values",
    [
        (SandboxMode, ["read-only", "workspace-write", "danger-full-access"]),
        (AskForApproval, ["untrusted", "on-failure", "on-request", "never"]),
        (ReviewDecision, ["approved", "approved_for_session", "denied", "abort"]),
        (ReasoningEffort, ["none", "minimal", "low", "medium", "high", "xhigh"]),
        (ReasoningSummary, ["auto", "concise", "detailed", "none"]),
        (Verbosity, ["low", "medium", "high"]),
    ],
)
def test_enum_wire_values(enum: Any, values: list[str]) -> None:
    assert [m.value for m in enum] == values
    for value in values:
        assert enum(value) == value


def test_bad_enum_value_names_it() -> None:
    with pytest.raises(ValueError, match="'sometimes'"):
        AskForApproval("sometimes")


@pytest.mark.parametrize(
    "mode,cls,wire",
    [
        ("read-only", ReadOnlyPolicy, {"type": "read-only"}),
        ("danger-full-access", DangerFullAccessPolicy, {"type": "danger-full-access"}),
        (
            "workspace-write",
            WorkspaceWritePolicy,
            {
                "type": "workspace-write",
                "writable_roots": [],
                "network_access": False,
                "exclude_tmpdir_env_var": False,
                "exclude_slash_tmp": False,
            },
        ),
    ],
)
def test_from_mode(mode: str, cls: type[SandboxPolicy], wire: dict[str, Any]) -> None:
    policy = SandboxPolicy.from_mode(mode)
    assert type(policy) is cls
    assert policy.mode == mode
    assert policy.to_wire() == wire
    assert SandboxPolicy.parse(wire) == policy


def test_from_mode_workspace_knobs() -> None:
    policy = SandboxPolicy.from_mode(
        SandboxMode.WORKSPACE_WRITE, writable_roots=["/a"], network_access=True,
        exclude_slash_tmp=True,
    )
    assert isinstance(policy, WorkspaceWritePolicy)
    assert policy.writable_roots == ["/a"] and policy.exclude_slash_tmp
    assert policy.has_full_network_access() and not policy.has_full_disk_write_access()


def test_access_queries() -> None:
    assert not ReadOnlyPolicy().has_full_network_access()
    assert DangerFullAccessPolicy().has_full_disk_write_access()
    ext = SandboxPolicy.parse({"type": "external-sandbox", "network_access": "enabled"})
    assert isinstance(ext, ExternalSandboxPolicy)
    assert ext.has_full_network_access() and ext.mode is None


class _Holder(WireModel, kw_only=True):
    policy: AnySandboxPolicy


def test_sandbox_policy_as_a_field_type_validates_to_the_variant() -> None:
    held = _Holder.from_wire({"policy": {"type": "workspace-write"}})
    assert isinstance(held.policy, WorkspaceWritePolicy)
    with pytest.raises(WireError, match=r"'bogus' - at `\$\.policy`"):
        _Holder.from_wire({"policy": {"type": "bogus"}})


def test_abstract_base_cannot_be_validated_directly() -> None:
    with pytest.raises(WireError, match="abstract"):
        SandboxPolicy.from_wire({"type": "read-only"})


def test_app_server_conversion() -> None:
    ws = SandboxPolicy.from_mode("workspace-write", writable_roots=["/x"])
    v2 = ws.to_app_server()
    assert v2 == {"type": "workspaceWrite", "writableRoots": ["/x"], "networkAccess": False,
                  "excludeTmpdirEnvVar": False, "excludeSlashTmp": False}
    assert SandboxPolicy.from_app_server(v2) == ws
    assert SandboxPolicy.from_app_server({"type": "dangerFullAccess"}) == DangerFullAccessPolicy()
    with pytest.raises(ValueError, match="'read-only'"):
        SandboxPolicy.from_app_server({"type": "read-only"})


# --- protocol.models fixes ------------------------------------------------------------------


def test_unknown_content_parts_are_kept() -> None:
    wire = {"type": "message", "role": "assistant", "content": [
        {"type": "output_text", "text": "a", "annotations": [], "logprobs": None},
        {"type": "refusal", "refusal": "no"},
    ]}
    item = parse_response_item(wire)
    assert isinstance(item, MessageItem)
    assert isinstance(item.content[1], OtherContent)
    assert item.text() == "a"
    assert item_to_wire(item) == wire


def test_explicit_nulls_in_unknown_fields_survive() -> None:
    wire = {"type": "future_item", "x": None, "nested": {"y": None}}
    item = parse_response_item(wire)
    assert isinstance(item, OtherItem)
    assert item_to_wire(item) == wire


def test_unset_optional_fields_are_left_out() -> None:
    assert item_to_wire(user_message("hi")) == {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}],
    }
    assert item_to_wire(ReasoningItem()) == {"type": "reasoning", "summary": []}


def test_malformed_known_item_is_rejected() -> None:
    with pytest.raises(WireError, match="arguments"):
        parse_response_item({"type": "function_call", "name": "x"})


def test_content_item_union_accepts_all_part_kinds() -> None:
    kinds = [type(CONTENT_ITEM_UNION.parse(p)).__name__ for p in (
        {"type": "input_text", "text": "a"},
        {"type": "input_image", "image_url": "data:x"},
        {"type": "input_file", "file_id": "f"},
    )]
    assert kinds == ["InputText", "InputImage", "OtherContent"]
