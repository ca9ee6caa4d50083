"""EventMsg variants: wire shape, round trip, exhaustiveness, and helpers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pycodex.protocol._wire import WireError, WireModel, replace, tag_of
from pycodex.protocol.events import (
    EVENT_TYPES,
    EVENT_UNION,
    EVENT_VARIANTS,
    AgentMessageDeltaEvent,
    ApplyPatchApprovalRequestEvent,
    Event,
    ExecCommandOutputDeltaEvent,
    ExecOutputStream,
    ItemCompletedEvent,
    ItemStartedEvent,
    McpToolCallEndEvent,
    RawResponseItemEvent,
    SessionConfiguredEvent,
    TaskCompleteEvent,
    TokenUsage,
    TokenUsageInfo,
    TurnAbortedEvent,
    TurnAbortReason,
    event_msg_to_wire,
    parse_event_msg,
)
from pycodex.protocol.items import (
    FileChangeTurnItem,
    OtherTurnItem,
    UpdateFileChange,
)
from pycodex.protocol.models import FunctionCallItem, OtherItem
from pycodex.protocol.policies import ReadOnlyPolicy

DUR = {"secs": 1, "nanos": 500_000_000}
CHANGES = {
    "/w/a.txt": {"type": "add", "content": "hi\n"},
    "/w/b.txt": {"type": "delete", "content": "bye\n"},
    "/w/c.txt": {"type": "update", "unified_diff": "@@ -1 +1 @@\n-a\n+b\n", "move_path": None},
}
USAGE = {
    "input_tokens": 100,
    "cached_input_tokens": 20,
    "cache_write_input_tokens": 0,
    "output_tokens": 10,
    "reasoning_output_tokens": 3,
    "total_tokens": 110,
}
EXEC = {
    "call_id": "c1",
    "turn_id": "t1",
    "command": ["bash", "-lc", "ls"],
    "cwd": "/w",
    "parsed_cmd": [{"type": "list_files", "cmd": "ls", "path": "."}],
    "source": "agent",
}
ITEM_DELTA = {"thread_id": "th", "turn_id": "t1", "item_id": "i1", "delta": "x"}

# One wire payload per event type, in Codex's exact serialization (nulls written or left out
# field by field); every variant must appear here.
SAMPLES: dict[str, dict[str, Any]] = {
    "session_configured": {
        "session_id": "s1",
        "model": "gpt-5.5",
        "model_provider_id": "openai",
        "approval_policy": "never",
        "sandbox_policy": {"type": "read-only"},
        "cwd": "/w",
        "reasoning_effort": "medium",
        "history_log_id": 0,
        "history_entry_count": 0,
        "initial_messages": [{"type": "agent_message", "message": "earlier"}],
        "rollout_path": "/h/sessions/r.jsonl",
    },
    "task_started": {"turn_id": "t1", "model_context_window": 258400},
    "task_complete": {
        "turn_id": "t1",
        "last_agent_message": None,
        "duration_ms": 272,
        "time_to_first_token_ms": 60,
    },
    "turn_aborted": {"turn_id": "t1", "reason": "interrupted"},
    "shutdown_complete": {},
    "thread_settings_applied": {"thread_id": "th", "thread_settings": {"model": "m"}},
    "thread_rolled_back": {"num_turns": 1},
    "context_compacted": {},
    "token_count": {
        "info": {"total_token_usage": USAGE, "last_token_usage": USAGE,
                 "model_context_window": 258400},
        "rate_limits": {
            "limit_id": "codex",
            "limit_name": None,
            "primary": {"used_percent": 12.5, "window_minutes": 300, "resets_at": 1795277600},
            "secondary": None,
            "credits": {"has_credits": True, "unlimited": False, "balance": "3.50"},
            "individual_limit": None,
            "spend_control_reached": None,
            "plan_type": "plus",
            "rate_limit_reached_type": None,
        },
    },
    "error": {"message": "boom", "codex_error_info": {"http_connection_failed":
                                                      {"http_status_code": 502}}},
    "warning": {"message": "careful"},
    "stream_error": {"message": "Reconnecting... 1/5", "codex_error_info": "other",
                     "additional_details": None},
    "background_event": {"message": "mcp started"},
    "deprecation_notice": {"summary": "old flag", "details": "use --new"},
    "user_message": {"message": "hi", "images": ["data:x"], "local_images": [],
                     "text_elements": [{"byte_range": {"start": 0, "end": 2}}]},
    "agent_message": {"message": "done"},
    "agent_message_delta": {"delta": "do"},
    "agent_reasoning": {"text": "**Thinking**"},
    "agent_reasoning_delta": {"delta": "Thi"},
    "agent_reasoning_raw_content": {"text": "raw"},
    "agent_reasoning_raw_content_delta": {"delta": "r"},
    "agent_reasoning_section_break": {"item_id": "rs_1", "summary_index": 1},
    "agent_message_content_delta": ITEM_DELTA,
    "plan_delta": ITEM_DELTA,
    "reasoning_content_delta": {**ITEM_DELTA, "summary_index": 0},
    "reasoning_raw_content_delta": {**ITEM_DELTA, "content_index": 0},
    "raw_response_item": {"item": {"type": "function_call", "name": "exec_command",
                                   "arguments": "{}", "call_id": "c1"}},
    "item_started": {"thread_id": "th", "turn_id": "t1",
                     "item": {"type": "FileChange", "id": "c2", "changes": CHANGES,
                              "status": "in_progress"}},
    "item_completed": {"thread_id": "th", "turn_id": "t1",
                       "item": {"type": "Plan", "id": "p1", "text": "1. do it"},
                       "started_at_ms": 1, "completed_at_ms": 2},
    "plan_update": {"explanation": None, "plan": [{"step": "a", "status": "in_progress"},
                                                  {"step": "b", "status": "pending"}]},
    "entered_review_mode": {"target": {"type": "uncommittedChanges"},
                            "user_facing_hint": "current changes"},
    "exited_review_mode": {"review_output": {
        "findings": [{"title": "bug", "body": "b", "confidence_score": 0.5, "priority": 1,
                      "code_location": {"absolute_file_path": "/w/a.py",
                                        "line_range": {"start": 1, "end": 2}}}],
        "overall_correctness": "patch is incorrect",
        "overall_explanation": "x",
        "overall_confidence_score": 0.75,
    }},
    "get_history_entry_response": {"offset": 1, "log_id": 2,
                                   "entry": {"conversation_id": "s", "ts": 3, "text": "ls"}},
    "list_custom_prompts_response": {"custom_prompts": [
        {"name": "fix", "path": "/p/fix.md", "content": "Fix $1", "argument_hint": "FILE"}]},
    "undo_started": {"message": "undoing"},
    "undo_completed": {"success": True},
    "exec_command_begin": {**EXEC, "process_id": "41091"},
    "exec_command_output_delta": {"call_id": "c1", "stream": "stdout", "chunk": "aGVsbG8K"},
    "exec_command_end": {**EXEC, "stdout": "a\n", "stderr": "", "aggregated_output": "a\n",
                         "exit_code": 0, "duration": DUR, "formatted_output": "a\n"},
    "exec_approval_request": {"call_id": "c1", "turn_id": "t1", "command": ["touch", "x"],
                              "cwd": "/w", "reason": "outside the sandbox",
                              "proposed_execpolicy_amendment": ["touch"],
                              "parsed_cmd": [{"type": "unknown", "cmd": "touch x"}]},
    "apply_patch_approval_request": {"call_id": "c2", "turn_id": "t1", "changes": CHANGES,
                                     "grant_root": "/w"},
    "patch_apply_begin": {"call_id": "c2", "turn_id": "t1", "auto_approved": False,
                          "changes": CHANGES},
    "patch_apply_end": {"call_id": "c2", "turn_id": "t1", "stdout": "Success.", "stderr": "",
                        "success": True, "changes": CHANGES},
    "turn_diff": {"unified_diff": "diff --git a/x b/x\n"},
    "mcp_tool_call_begin": {"call_id": "c3", "invocation": {"server": "echo", "tool": "echo",
                                                            "arguments": {"text": "ping"}}},
    "mcp_tool_call_end": {"call_id": "c3",
                          "invocation": {"server": "echo", "tool": "echo", "arguments": None},
                          "duration": DUR,
                          "result": {"Ok": {"content": [{"type": "text", "text": "ping"}],
                                            "isError": False}}},
    "mcp_startup_update": {"server": "echo", "status": {"state": "failed", "error": "x"}},
    "mcp_startup_complete": {"ready": ["echo"], "failed": [{"server": "b", "error": "bad"}],
                             "cancelled": []},
    "mcp_list_tools_response": {"tools": {"mcp__echo__echo": {"name": "echo"}},
                                "resources": {}, "resource_templates": {},
                                "auth_statuses": {"echo": "unsupported"}},
    "web_search_begin": {"call_id": "ws_1"},
    "web_search_end": {"call_id": "ws_1", "query": "codex cli",
                       "action": {"type": "search", "query": "codex cli"}},
    "view_image_tool_call": {"call_id": "c4", "path": "/w/img.png"},
}


def _wire(kind: str) -> dict[str, Any]:
    return {"type": kind, **SAMPLES[kind]}


def test_every_variant_is_in_the_union_and_has_a_sample() -> None:
    assert set(EVENT_UNION.variants.values()) == set(EVENT_VARIANTS)
    assert len(EVENT_TYPES) == len(EVENT_VARIANTS)
    assert set(SAMPLES) == EVENT_TYPES


@pytest.mark.parametrize("variant", EVENT_VARIANTS, ids=lambda cls: cls.__name__)
def test_variant_type_tag_is_snake_case(variant: type[WireModel]) -> None:
    tag = tag_of(variant)
    assert tag == tag.lower() and "-" not in tag and " " not in tag


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_event_round_trips(kind: str) -> None:
    wire = _wire(kind)
    event = parse_event_msg(wire)
    assert event.type == kind
    # Every sample key is a declared field: a renamed field would otherwise round-trip
    # as an unknown key and hide the rename.
    assert event.wire_extra() == {}
    assert event_msg_to_wire(event) == wire
    assert parse_event_msg(event_msg_to_wire(event)) == event
    wrapped = Event(id="sub-1", msg=event)
    assert Event.from_wire(json.loads(json.dumps(wrapped.to_wire()))) == wrapped
    assert wrapped.to_wire() == {"id": "sub-1", "msg": wire}


def test_renamed_field_is_noticed() -> None:
    """The round trips above check `wire_extra() == {}` because a renamed field would
    otherwise come back as an unknown key, unnoticed."""
    started = parse_event_msg({"type": "task_started", "turn": "t1"})
    assert started.wire_extra() == {"turn": "t1"}


def test_events_built_in_code_serialize_like_codex() -> None:
    assert event_msg_to_wire(TaskCompleteEvent(turn_id="t", last_agent_message=None)) == {
        "type": "task_complete",
        "turn_id": "t",
        "last_agent_message": None,
    }
    assert event_msg_to_wire(TurnAbortedEvent(reason=TurnAbortReason.REPLACED)) == {
        "type": "turn_aborted",
        "reason": "replaced",
    }
    assert event_msg_to_wire(AgentMessageDeltaEvent(delta="x")) == {
        "type": "agent_message_delta",
        "delta": "x",
    }


def test_unknown_event_type_names_the_type() -> None:
    with pytest.raises(ValueError, match="unknown event type 'turn_exploded'"):
        parse_event_msg({"type": "turn_exploded"})
    with pytest.raises(ValueError, match="unknown event type None"):
        parse_event_msg({"message": "no type"})
    with pytest.raises(WireError, match="turn_exploded"):
        Event.from_wire({"id": "1", "msg": {"type": "turn_exploded"}})


def test_missing_required_field_is_a_validation_error_naming_it() -> None:
    with pytest.raises(WireError) as err:
        parse_event_msg({"type": "turn_aborted"})
    assert str(err.value) == "Object missing required field `reason`"


def test_bad_enum_value_is_rejected() -> None:
    with pytest.raises(WireError, match=r"^Invalid enum value 'bored' - at `\$\.reason`$"):
        parse_event_msg({"type": "turn_aborted", "reason": "bored"})


def test_extra_fields_survive_a_rewrite() -> None:
    wire = {"type": "agent_message", "message": "m", "phase": None, "future": {"x": 1}}
    assert event_msg_to_wire(parse_event_msg(wire)) == wire


def test_nested_values_are_typed() -> None:
    configured = parse_event_msg(_wire("session_configured"))
    assert isinstance(configured, SessionConfiguredEvent)
    assert isinstance(configured.sandbox_policy, ReadOnlyPolicy)
    assert configured.initial_messages is not None
    assert configured.initial_messages[0].type == "agent_message"

    started = parse_event_msg(_wire("item_started"))
    assert isinstance(started, ItemStartedEvent)
    assert isinstance(started.item, FileChangeTurnItem)

    approval = parse_event_msg(_wire("apply_patch_approval_request"))
    assert isinstance(approval, ApplyPatchApprovalRequestEvent)
    update = approval.changes["/w/c.txt"]
    assert isinstance(update, UpdateFileChange) and update.move_path is None

    raw = parse_event_msg(_wire("raw_response_item"))
    assert isinstance(raw, RawResponseItemEvent) and isinstance(raw.item, FunctionCallItem)


def test_raw_response_item_keeps_unknown_items_but_rejects_malformed_known_ones() -> None:
    raw = parse_event_msg({"type": "raw_response_item", "item": {"type": "image_gen_call"}})
    assert isinstance(raw, RawResponseItemEvent) and isinstance(raw.item, OtherItem)
    with pytest.raises(WireError, match=r"\$\.item"):
        parse_event_msg({"type": "raw_response_item", "item": {"type": "function_call"}})


def test_unknown_turn_item_type_is_kept_verbatim() -> None:
    wire = {"type": "item_completed", "thread_id": "th", "turn_id": "t",
            "item": {"type": "HookPrompt", "id": "v1", "fragments": [{"text": "x"}]}}
    event = parse_event_msg(wire)
    assert isinstance(event, ItemCompletedEvent)
    assert isinstance(event.item, OtherTurnItem)
    assert event_msg_to_wire(event) == wire


def test_exec_output_chunk_is_base64_of_raw_bytes() -> None:
    event = ExecCommandOutputDeltaEvent.from_bytes("c1", ExecOutputStream.STDERR, b"\xff\x00ok")
    assert event.data() == b"\xff\x00ok"
    assert event_msg_to_wire(event)["chunk"] == "/wBvaw=="


def test_mcp_tool_call_end_success() -> None:
    ok = parse_event_msg(_wire("mcp_tool_call_end"))
    assert isinstance(ok, McpToolCallEndEvent) and ok.is_success()
    failed = replace(ok, result={"Err": "timeout"})
    assert not failed.is_success()


def test_token_usage_accumulates() -> None:
    last = TokenUsage.from_wire(USAGE)
    info = TokenUsageInfo(total_token_usage=last, last_token_usage=last, model_context_window=9)
    after = info.with_last(last)
    assert after.total_token_usage.total_tokens == 220
    assert after.total_token_usage.cached_input_tokens == 40
    assert after.last_token_usage == last
    assert last.non_cached_input() == 80
