"""Turns rebuilt from recorded events: items from `item_completed`; a rollout older than
those (only `user_message` / `agent_message`) still shows its messages."""

from __future__ import annotations

from typing import Any

from pycodex.protocol.v2.turns import recorded_turns
from tests.support.app_server_traffic import TrafficValidator


def _events(*payloads: dict[str, Any]) -> list[tuple[int | None, dict[str, Any]]]:
    return [(1_700_000_000_000 + i, p) for i, p in enumerate(payloads)]


def test_an_old_rollout_s_turns_show_their_messages() -> None:
    turns = recorded_turns(_events(
        {"type": "task_started", "turn_id": "t1"},
        {"type": "user_message", "message": "do it"},
        {"type": "agent_message", "message": "Done."},
        {"type": "task_complete", "turn_id": "t1", "last_agent_message": "Done."},
    ))
    [turn] = [t.to_json("full") for t in turns]
    assert [(i["type"], i.get("text")) for i in turn["items"]] == [("userMessage", None), ("agentMessage", "Done.")]
    assert turn["items"][0]["content"][0]["text"] == "do it"
    traffic = TrafficValidator()  # a valid Codex Turn
    traffic.sent({"id": 1, "method": "thread/turns/list", "params": {"threadId": "x"}})
    traffic.received({"id": 1, "result": {"data": [turn], "nextCursor": None, "backwardsCursor": None}})


def test_recorded_items_win_over_the_older_events() -> None:
    item = {"type": "AgentMessage", "id": "m1", "content": [{"type": "Text", "text": "from the item"}]}
    turns = recorded_turns(_events(
        {"type": "task_started", "turn_id": "t1"},
        {"type": "agent_message", "message": "from the event"},
        {"type": "item_completed", "thread_id": "x", "turn_id": "t1", "item": item},
        {"type": "task_complete", "turn_id": "t1"},
    ))
    assert [i.get("text") for i in turns[0].items] == ["from the item"]
