"""`exec --json`: the engine's events as the JSONL stream Codex clients read.

Item ids are `item_<n>`, numbered in order of first appearance, independent of provider
ids. `turn.completed.usage` is the thread's cumulative usage, as in Codex.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from pycodex.core import head_tail_buffer, join_command
from pycodex.protocol.event_payloads import ExecCommandOutputDeltaEvent
from pycodex.protocol.events import (
    ErrorEvent,
    EventMsg,
    ItemCompletedEvent,
    ItemStartedEvent,
    PlanUpdateEvent,
    SessionConfiguredEvent,
    StreamErrorEvent,
    TaskCompleteEvent,
    TaskStartedEvent,
    TokenCountEvent,
    WarningEvent,
)
from pycodex.protocol.items import (
    AgentMessageTurnItem,
    CommandExecutionTurnItem,
    FileChange,
    FileChangeTurnItem,
    McpToolCallTurnItem,
    ReasoningTurnItem,
    TurnItem,
    WebSearchTurnItem,
)
from pycodex.protocol.tokens import TokenUsage

if TYPE_CHECKING:
    from pycodex.process.truncation import HeadTailBuffer

SCHEMA_VERSION = 1
# A running command's item is updated at most this often, and carries at most this much
# of its output (head + tail).
UPDATE_INTERVAL_S = 1.0
LIVE_OUTPUT_BYTES = 64 * 1024
JsonObj = dict[str, Any]


def usage_json(usage: TokenUsage | None) -> JsonObj:
    u = usage or TokenUsage()
    return {
        "input_tokens": u.input_tokens,
        "cached_input_tokens": u.cached_input_tokens,
        "cache_write_input_tokens": u.cache_write_input_tokens,
        "output_tokens": u.output_tokens,
        "reasoning_output_tokens": u.reasoning_output_tokens,
    }


class JsonlProcessor(msgspec.Struct):
    """Turns engine events into zero or more JSONL objects.

    A thin mapping of the engine's turn items (`item_started` / `item_completed`, command
    output deltas by item id) plus the turn-level events; exec numbers the items itself.
    """

    _next_item: int = 0
    # Engine item id -> the exec item shown for it, while it runs.
    _running: dict[str, JsonObj] = msgspec.field(default_factory=dict)
    _todo: JsonObj | None = None
    _usage: TokenUsage | None = None
    # Live output of running commands (item id -> bounded head+tail buffer) and when each
    # item was last shown, for `item.updated`.
    _live: dict[str, HeadTailBuffer] = msgspec.field(default_factory=dict)
    _shown_at: dict[str, float] = msgspec.field(default_factory=dict)
    # Commands completed at turn end while still running: their late end is not news.
    _settled: set[str] = msgspec.field(default_factory=set)
    clock: Callable[[], float] = time.monotonic
    turn_error: str | None = None
    last_agent_message: str | None = None

    def _new_id(self) -> str:
        item_id = f"item_{self._next_item}"
        self._next_item += 1
        return item_id

    def warning(self, message: str) -> JsonObj:
        return {"type": "item.completed", "item": {"id": self._new_id(), "type": "error", "message": message}}

    def process(self, msg: EventMsg) -> list[JsonObj]:
        if isinstance(msg, ItemStartedEvent):
            return self._item_started(msg.item)
        if isinstance(msg, ItemCompletedEvent):
            return self._item_completed(msg.item)
        if isinstance(msg, ExecCommandOutputDeltaEvent):
            return self._command_output(msg)
        if isinstance(msg, SessionConfiguredEvent):
            return [{"type": "thread.started", "thread_id": msg.session_id, "schema_version": SCHEMA_VERSION}]
        if isinstance(msg, TaskStartedEvent):
            self.turn_error = None
            self._todo = None
            return [{"type": "turn.started"}]
        if isinstance(msg, PlanUpdateEvent):
            return self._plan(msg)
        if isinstance(msg, TokenCountEvent):
            if msg.info is not None:
                self._usage = msg.info.total_token_usage
            return []
        if isinstance(msg, StreamErrorEvent):
            return [{"type": "error", "message": msg.message}]
        if isinstance(msg, ErrorEvent):
            self.turn_error = msg.message
            return [{"type": "error", "message": msg.message}]
        if isinstance(msg, WarningEvent):
            return [self.warning(msg.message)]
        if isinstance(msg, TaskCompleteEvent):
            return self._turn_completed()
        return []

    # --- items ------------------------------------------------------------------------

    def _item_started(self, item: TurnItem) -> list[JsonObj]:
        """Tool items are shown as they start; model output only once it is complete."""
        shown: JsonObj
        if isinstance(item, CommandExecutionTurnItem):
            if item.id in self._settled:
                return []
            shown = {
                "id": self._new_id(),
                "type": "command_execution",
                "command": join_command(item.command),
                "aggregated_output": "",
                "exit_code": None,
                "status": "in_progress",
            }
            self._live[item.id] = head_tail_buffer(LIVE_OUTPUT_BYTES // 2, LIVE_OUTPUT_BYTES // 2)
            self._shown_at[item.id] = self.clock()
        elif isinstance(item, FileChangeTurnItem):
            shown = {
                "id": self._new_id(),
                "type": "file_change",
                "changes": _changes(item.changes),
                "status": "in_progress",
            }
        elif isinstance(item, McpToolCallTurnItem):
            shown = {
                "id": self._new_id(),
                "type": "mcp_tool_call",
                "server": item.server,
                "tool": item.tool,
                "arguments": item.arguments,
                "result": None,
                "error": None,
                "status": "in_progress",
            }
        else:
            return []
        self._running[item.id] = shown
        return [{"type": "item.started", "item": dict(shown)}]

    def _item_completed(self, item: TurnItem) -> list[JsonObj]:
        if isinstance(item, AgentMessageTurnItem):
            self.last_agent_message = item.text()
            message: JsonObj = {"id": self._new_id(), "type": "agent_message", "text": item.text()}
            return [{"type": "item.completed", "item": message}]
        if isinstance(item, ReasoningTurnItem):
            return [
                {"type": "item.completed", "item": {"id": self._new_id(), "type": "reasoning", "text": text}}
                for text in item.summary_text
            ]
        if isinstance(item, WebSearchTurnItem):
            search: JsonObj = {"id": self._new_id(), "type": "web_search", "query": item.query}
            if item.action is not None:
                search["action"] = item.action
            return [{"type": "item.started", "item": search}, {"type": "item.completed", "item": search}]
        if item.id is None or item.id not in self._running:
            if item.id in self._settled:
                self._settled.discard(item.id)
            return []
        shown = self._running.pop(item.id)
        self._live.pop(item.id, None)
        self._shown_at.pop(item.id, None)
        if isinstance(item, CommandExecutionTurnItem):
            shown.update(
                aggregated_output=item.aggregated_output or "",
                exit_code=item.exit_code,
                status=item.status,
            )
        elif isinstance(item, FileChangeTurnItem):
            # exec's file_change has no `declined` (Codex's schema): a refused patch failed.
            shown["status"] = "failed" if item.status == "declined" else item.status
        elif isinstance(item, McpToolCallTurnItem):
            shown.update(
                result=_mcp_result(item.result),
                error=None if item.error is None else {"message": item.error.message},
                status=item.status,
            )
        return [{"type": "item.completed", "item": shown}]

    def _plan(self, msg: PlanUpdateEvent) -> list[JsonObj]:
        """The plan is a turn-level list in the engine; exec shows it as a todo_list item."""
        items = [{"text": s.step, "completed": s.status == "completed"} for s in msg.plan]
        if self._todo is None:
            self._todo = {"id": self._new_id(), "type": "todo_list", "items": items}
            return [{"type": "item.started", "item": dict(self._todo)}]
        self._todo["items"] = items
        return [{"type": "item.updated", "item": dict(self._todo)}]

    def _turn_completed(self) -> list[JsonObj]:
        out: list[JsonObj] = self._settle_running_commands()
        if self._todo is not None:
            out.append({"type": "item.completed", "item": dict(self._todo)})
            self._todo = None
        if self.turn_error is not None:
            out.append({"type": "turn.failed", "error": {"message": self.turn_error}})
        else:
            out.append({"type": "turn.completed", "usage": usage_json(self._usage)})
        return out

    def _command_output(self, msg: ExecCommandOutputDeltaEvent) -> list[JsonObj]:
        """`item.updated` with the output so far, for commands that run a while (none for
        quick ones: their stream stays started → completed, as in Codex)."""
        live = self._live.get(msg.call_id)
        shown = self._running.get(msg.call_id)
        if live is None or shown is None:
            return []
        live.write(msg.data())
        now = self.clock()
        if now - self._shown_at.get(msg.call_id, now) < UPDATE_INTERVAL_S:
            return []
        self._shown_at[msg.call_id] = now
        shown["aggregated_output"] = live.render()
        return [{"type": "item.updated", "item": dict(shown)}]

    def _settle_running_commands(self) -> list[JsonObj]:
        """Complete the items of commands still running when the turn ends.

        Codex leaves their `item.started` dangling. Here each gets an `item.completed`
        whose `status` stays `in_progress` and `exit_code` null: the turn is over, the
        process was still running (exec kills it on exit); `aggregated_output` holds what
        it printed so far. A client always sees every item it was shown start complete.
        """
        out: list[JsonObj] = []
        for item_id, shown in list(self._running.items()):
            if shown.get("type") != "command_execution":
                continue
            live = self._live.pop(item_id, None)
            if live is not None:
                shown["aggregated_output"] = live.render()
            self._running.pop(item_id)
            self._shown_at.pop(item_id, None)
            self._settled.add(item_id)
            out.append({"type": "item.completed", "item": shown})
        return out


def _mcp_result(result: JsonObj | None) -> JsonObj | None:
    """exec's rendering of an MCP CallToolResult (snake_case, as Codex's exec prints it)."""
    if result is None:
        return None
    structured = result.get("structuredContent", result.get("structured_content"))
    return {"content": result.get("content", []), "structured_content": structured}


def _changes(changes: dict[str, FileChange]) -> list[JsonObj]:
    return [{"path": path, "kind": changes[path].type} for path in sorted(changes)]
