"""What a compaction keeps, when it triggers, and how an overflowing request is trimmed."""

from __future__ import annotations

import json

from pycodex.context.compaction import (
    Budgets,
    CompactionSettings,
    assemble,
    build_replacement,
    last_turn_tool_results,
    recent_user_messages,
    user_turns,
)
from pycodex.context.compaction_prompt import SUMMARY_REQUEST, summary_text
from pycodex.context.compaction_trim import DROPPED_OUTPUT, drop_oldest_tool_outputs, fit_to_window
from pycodex.context.history import History, estimate_tokens, is_user_turn_item
from pycodex.core.resume import history_from_records
from pycodex.protocol.models import (
    CompactionItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputText,
    MessageItem,
    ResponseItem,
    assistant_message,
    developer_message,
    item_to_wire,
)
from pycodex.rollout.reader import iter_records


def user(text: str) -> MessageItem:
    return MessageItem(role="user", content=[InputText(text=text)])


def call(call_id: str, output: str, name: str = "shell", args: str = "{}") -> list[ResponseItem]:
    return [FunctionCallItem(name=name, arguments=args, call_id=call_id),
            FunctionCallOutputItem(call_id=call_id, output=output)]


PLAN_ARGS = json.dumps({"plan": [{"step": "step one, exactly", "status": "completed"},
                                 {"step": "step two", "status": "in_progress"}]})


def session() -> list[ResponseItem]:
    return [
        developer_message("BASE INSTRUCTIONS"),
        user("# AGENTS.md instructions for /ws\n\n<INSTRUCTIONS>\nrule: be careful\n</INSTRUCTIONS>"),
        user("FIRST TASK"),
        *call("plan", "Plan updated", name="update_plan", args=PLAN_ARGS),
        *call("old_a", "A" * 8000),
        *call("old_b", "B" * 8000),
        assistant_message("first answer"),
        user("SECOND"),
        *call("new_a", "new output a"),
        *call("new_b", "new output b"),
        assistant_message("second answer"),
    ]


def summary(note: str = "NOTE") -> list[ResponseItem]:
    return [user(summary_text(note))]


def texts(items: list[ResponseItem]) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, MessageItem):
            out.append(item.text())
        elif isinstance(item, FunctionCallOutputItem) and isinstance(item.output, str):
            out.append(item.output)
    return out


def test_threshold_is_the_configured_limit_else_ninety_percent_of_the_window() -> None:
    assert CompactionSettings(auto_limit=5000).threshold(100_000) == 5000
    assert CompactionSettings().threshold(258_400) == 232_560
    assert CompactionSettings().threshold(None) is None
    assert CompactionSettings(auto_limit=0).threshold(1000) == 900


def test_tokens_in_context_is_the_providers_count_plus_what_came_after() -> None:
    history = History(session()[:3])
    assert history.tokens_in_context() == history.estimate_tokens()
    history.mark_usage(1000)
    later = FunctionCallOutputItem(call_id="x", output="y" * 400)
    history.append([later])
    assert history.tokens_in_context() == 1000 + estimate_tokens([later]) > 1100
    history.replace(session()[:2])  # a compaction or resume: the count no longer applies
    assert history.tokens_in_context() == history.estimate_tokens()


def test_the_replacement_keeps_what_must_survive_in_order() -> None:
    items = session()
    out = assemble(items, summary(), Budgets.for_threshold(100_000))
    got = texts(out)
    assert got[:2] == ["BASE INSTRUCTIONS", items[1].text()]  # type: ignore[union-attr]
    assert got[2].startswith("<conversation_summary>") and "NOTE" in got[2]
    assert got[3].startswith("<current_plan>")
    assert "- [completed] step one, exactly" in got[3] and "- [in_progress] step two" in got[3]
    assert got[4:] == ["FIRST TASK", "SECOND", "new output a", "new output b"]
    # Each kept call comes with its output; the old turn's outputs and the answers are gone.
    ids = [getattr(i, "call_id", None) for i in out if isinstance(i, FunctionCallItem | FunctionCallOutputItem)]
    assert ids == ["new_a", "new_a", "new_b", "new_b"]
    assert not any("first answer" in t or "AAAA" in t for t in got)
    assert not [u for u in out if is_user_turn_item(u) and u.text().startswith("<")]  # type: ignore[union-attr]


def test_a_second_compaction_replaces_the_first_summary_and_keeps_the_plan() -> None:
    first = assemble(session(), summary("NOTE-1"), Budgets.for_threshold(100_000))
    second = assemble([*first, user("THIRD")], summary("NOTE-2"), Budgets.for_threshold(100_000))
    got = "\n".join(texts(second))
    assert "NOTE-2" in got and "NOTE-1" not in got
    assert got.count("<current_plan>") == 1 and "step one, exactly" in got
    assert [i.text() for i in user_turns(second)] == ["FIRST TASK", "SECOND", "THIRD"]
    remote = assemble([*first, CompactionItem(encrypted_content="OLD")], [CompactionItem(encrypted_content="NEW")],
                      Budgets.for_threshold(100_000))
    assert [i.encrypted_content for i in remote if isinstance(i, CompactionItem)] == ["NEW"]


def test_budgets_keep_the_newest_user_message_and_the_newest_tool_result_cut() -> None:
    turns = [user("old " * 100), user("mid " * 100), user("NEWEST " + "x" * 4000)]
    kept = recent_user_messages(turns, budget=300)
    assert len(kept) == 1 and kept[0].text().startswith("NEWEST") and "cut by compaction" in kept[0].text()
    small = recent_user_messages(turns, budget=10_000)
    assert [t.text()[:3] for t in small] == ["old", "mid", "NEW"]
    items = [user("T"), *call("a", "a" * 2000), *call("b", "HEAD" + "b" * 8000 + "TAIL")]
    results = last_turn_tool_results(items, budget=500)
    assert [getattr(i, "call_id", None) for i in results] == ["b", "b"]
    output = results[1].output  # type: ignore[union-attr]
    assert output.startswith("HEAD") and output.endswith("TAIL") and len(output) < 2100


def test_a_compaction_never_grows_the_context() -> None:
    small = [developer_message("BASE"), user("only task"), assistant_message("ok")]
    assert build_replacement(small, summary("a long note " * 50), 100_000) is None
    items = session()
    out = build_replacement(items, summary(), 100_000)
    assert out is not None and estimate_tokens(out) < estimate_tokens(items)
    # Tight budgets: halved until the result fits under what it replaces.
    tight = [developer_message("BASE"), user("T" * 400), *call("a", "o" * 400)]
    cut = build_replacement(tight, summary("n" * 300), 2_000)
    assert cut is not None and estimate_tokens(cut) <= estimate_tokens(tight)


def test_overflowing_requests_drop_the_oldest_tool_outputs_first() -> None:
    items = session()
    trimmed, dropped = drop_oldest_tool_outputs(items)
    outputs = [i.output for i in trimmed if isinstance(i, FunctionCallOutputItem)]
    # "Plan updated" is shorter than the note: skipped; the oldest big one goes first.
    assert dropped == 1 and outputs[:3] == ["Plan updated", DROPPED_OUTPUT, "B" * 8000]
    again, more = drop_oldest_tool_outputs(trimmed)
    assert more >= 1 and [i.output for i in again if isinstance(i, FunctionCallOutputItem)][2] == DROPPED_OUTPUT
    everything, _ = drop_oldest_tool_outputs(items, min_tokens=10**9)
    assert drop_oldest_tool_outputs(everything) == (everything, 0)
    fitted, n = fit_to_window(items, window=estimate_tokens(items) - 1000)
    assert n == 1 and estimate_tokens(fitted) <= estimate_tokens(items) - 1000
    assert fit_to_window(items, None) == (items, 0)


def test_resume_rebuilds_exactly_the_replacement_history() -> None:
    before = session()
    replacement = assemble(before, summary(), Budgets.for_threshold(100_000))
    after = [user("NEXT")]
    lines = [{"type": "response_item", "payload": item_to_wire(i)} for i in before]
    lines.append({"type": "compacted", "payload": {"message": "x", "replacement_history": [
        item_to_wire(i) for i in replacement]}})
    lines += [{"type": "response_item", "payload": item_to_wire(i)} for i in after]
    data = "\n".join(json.dumps({"timestamp": "2026-01-01T00:00:00.000Z", **line}) for line in lines)
    records = [r for r in iter_records(data.encode()) if r is not None]
    rebuilt = history_from_records(records)
    assert [item_to_wire(i) for i in rebuilt] == [item_to_wire(i) for i in [*replacement, *after]]


def test_our_prompt_is_our_own_and_configurable() -> None:
    from pycodex.context.compaction_prompt import request_text

    assert request_text(None) == SUMMARY_REQUEST and request_text("  ") == SUMMARY_REQUEST
    assert request_text("Summarise briefly.") == "Summarise briefly."
    assert "kept word for word" in SUMMARY_REQUEST
