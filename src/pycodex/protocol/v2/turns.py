"""v2 `Turn`s rebuilt from a thread's recorded events (`thread/read` with `includeTurns`,
`thread/turns/list`).

A rollout records `task_started`, `item_completed` (the core turn items), `error`, and
`task_complete` or `turn_aborted` for every turn; `thread_rolled_back` drops the last turns.
The caller hands the event payloads in file order, each with its line's timestamp, so this
module stays pure data (no file access).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from pycodex.protocol.events import (
    AgentMessageEvent,
    ErrorEvent,
    ItemCompletedEvent,
    TaskCompleteEvent,
    TaskStartedEvent,
    ThreadRolledBackEvent,
    TurnAbortedEvent,
    UserMessageEvent,
    parse_event_msg,
)
from pycodex.protocol.items import AgentMessageText, AgentMessageTurnItem, UserMessageTurnItem
from pycodex.protocol.user_input import TextInput

from .items import thread_item
from .notifications import turn_error

JsonObj = dict[str, Any]
ItemsView = Literal["notLoaded", "summary", "full"]
# The recorded events a turn is made of; the others are skipped without being decoded.
TURN_EVENT_TYPES = frozenset({
    "task_started", "item_completed", "error", "task_complete", "turn_aborted", "thread_rolled_back",
    # Rollouts older than `item_completed` (Codex before 0.163, pycodex before it recorded
    # items) have only these: their turns show the messages at least.
    "user_message", "agent_message",
})


class RecordedTurn(msgspec.Struct, kw_only=True):
    id: str
    items: list[JsonObj] = msgspec.field(default_factory=list)
    # From the older events, used when the turn recorded no items at all.
    legacy_items: list[JsonObj] = msgspec.field(default_factory=list)
    status: str = "inProgress"
    error: JsonObj | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    # Unix ms of the turn's first line: the duration when the end event carries none.
    started_ms: int | None = None

    def to_json(self, view: ItemsView = "full") -> JsonObj:
        return {
            "id": self.id,
            "rootTurnId": self.id,
            "items": _view(self.items, view),
            "itemsView": view,
            "status": self.status,
            "error": self.error,
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
            "durationMs": self.duration_ms,
        }


def recorded_turns(events: Iterable[tuple[int | None, JsonObj]]) -> list[RecordedTurn]:
    """The turns of a thread, oldest first, from its `(unix ms, event payload)` pairs."""
    turns: list[RecordedTurn] = []
    current: RecordedTurn | None = None
    for at_ms, payload in events:
        if payload.get("type") not in TURN_EVENT_TYPES:
            continue
        try:
            msg = parse_event_msg(payload)
        except ValueError:  # one damaged line must not hide the thread's history
            continue
        if isinstance(msg, TaskStartedEvent):
            current = RecordedTurn(id=msg.turn_id or "", started_at=msg.started_at, started_ms=at_ms)
            if current.started_at is None and at_ms is not None:
                current.started_at = at_ms // 1000
            turns.append(current)
        elif isinstance(msg, ThreadRolledBackEvent):
            del turns[max(len(turns) - msg.num_turns, 0):]
            current = None
        elif current is not None:
            _apply(current, msg, at_ms)
    for turn in turns:
        if not turn.items:
            turn.items = turn.legacy_items
        turn.legacy_items = []
    return turns


def _apply(turn: RecordedTurn, msg: Any, at_ms: int | None) -> None:
    if isinstance(msg, UserMessageEvent | AgentMessageEvent):
        turn.legacy_items.append(_legacy_item(turn, msg))
    elif isinstance(msg, ItemCompletedEvent):
        item = thread_item(msg.item)
        if item is not None:
            turn.items.append(msgspec.to_builtins(item))
    elif isinstance(msg, ErrorEvent):
        turn.error = turn_error(msg)
    elif isinstance(msg, TaskCompleteEvent):
        turn.status = "failed" if turn.error is not None else "completed"
        _finish(turn, msg.completed_at, msg.duration_ms, at_ms)
    elif isinstance(msg, TurnAbortedEvent):
        turn.status = "interrupted"
        _finish(turn, None, None, at_ms)


def _legacy_item(turn: RecordedTurn, msg: UserMessageEvent | AgentMessageEvent) -> JsonObj:
    item_id = f"{turn.id}-{len(turn.legacy_items)}"
    core: Any
    if isinstance(msg, UserMessageEvent):
        core = UserMessageTurnItem(id=item_id, content=[TextInput(text=msg.message)])
    else:
        core = AgentMessageTurnItem(id=item_id, content=[AgentMessageText(text=msg.message)])
    item: JsonObj = msgspec.to_builtins(thread_item(core))
    return item


def _finish(turn: RecordedTurn, completed_at: int | None, duration_ms: int | None, at_ms: int | None) -> None:
    if completed_at is None and at_ms is not None:
        completed_at = at_ms // 1000
    if duration_ms is None and at_ms is not None and turn.started_ms is not None:
        duration_ms = max(at_ms - turn.started_ms, 0)
    turn.completed_at, turn.duration_ms = completed_at, duration_ms


def _view(items: list[JsonObj], view: ItemsView) -> list[JsonObj]:
    """`summary` is the first user message and the last agent message (as Codex)."""
    if view == "full":
        return list(items)
    if view == "notLoaded":
        return []
    first_user = next((i for i in items if i.get("type") == "userMessage"), None)
    last_agent = next((i for i in reversed(items) if i.get("type") == "agentMessage"), None)
    return [i for i in (first_user, last_agent) if i is not None]
