"""`exec --json`: the engine's events as the JSONL stream Codex clients read.

Item ids are `item_<n>`, numbered in order of first appearance, independent of provider
ids. `turn.completed.usage` is the thread's cumulative usage, as in Codex.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec

from pycodex.process.quote import join_command
from pycodex.process.truncation import HeadTailBuffer
from pycodex.protocol.event_payloads import (
    ExecCommandBeginEvent,
    ExecCommandEndEvent,
    ExecCommandOutputDeltaEvent,
    McpToolCallBeginEvent,
    McpToolCallEndEvent,
    PatchApplyBeginEvent,
    PatchApplyEndEvent,
    WebSearchEndEvent,
)
from pycodex.protocol.events import (
    AgentMessageEvent,
    AgentReasoningEvent,
    ErrorEvent,
    EventMsg,
    PlanUpdateEvent,
    SessionConfiguredEvent,
    StreamErrorEvent,
    TaskCompleteEvent,
    TaskStartedEvent,
    TokenCountEvent,
    WarningEvent,
)
from pycodex.protocol.items import FileChange
from pycodex.protocol.tokens import TokenUsage

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
    """Turns engine events into zero or more JSONL objects."""

    _next_item: int = 0
    _by_call: dict[str, JsonObj] = msgspec.field(default_factory=dict)
    _todo: JsonObj | None = None
    _usage: TokenUsage | None = None
    # Live output of running commands (call_id -> bounded head+tail buffer) and when each
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
        item: JsonObj
        if isinstance(msg, SessionConfiguredEvent):
            return [{"type": "thread.started", "thread_id": msg.session_id, "schema_version": SCHEMA_VERSION}]
        if isinstance(msg, TaskStartedEvent):
            self.turn_error = None
            self._todo = None
            return [{"type": "turn.started"}]
        if isinstance(msg, AgentMessageEvent):
            self.last_agent_message = msg.message
            item = {"id": self._new_id(), "type": "agent_message", "text": msg.message}
            return [{"type": "item.completed", "item": item}]
        if isinstance(msg, AgentReasoningEvent):
            item = {"id": self._new_id(), "type": "reasoning", "text": msg.text}
            return [{"type": "item.completed", "item": item}]
        if isinstance(msg, ExecCommandBeginEvent):
            item = {
                "id": self._new_id(),
                "type": "command_execution",
                "command": join_command(msg.command),
                "aggregated_output": "",
                "exit_code": None,
                "status": "in_progress",
            }
            self._by_call[msg.call_id] = item
            self._live[msg.call_id] = HeadTailBuffer(LIVE_OUTPUT_BYTES // 2, LIVE_OUTPUT_BYTES // 2)
            self._shown_at[msg.call_id] = self.clock()
            return [{"type": "item.started", "item": dict(item)}]
        if isinstance(msg, ExecCommandOutputDeltaEvent):
            return self._command_output(msg)
        if isinstance(msg, ExecCommandEndEvent):
            self._live.pop(msg.call_id, None)
            self._shown_at.pop(msg.call_id, None)
            if msg.call_id in self._settled:
                self._settled.discard(msg.call_id)
                return []
            item = self._by_call.pop(msg.call_id, {}) or {
                "id": self._new_id(), "type": "command_execution", "command": join_command(msg.command),
            }
            item.update(
                aggregated_output=msg.aggregated_output,
                exit_code=msg.exit_code,
                status="completed" if msg.exit_code == 0 else "failed",
            )
            return [{"type": "item.completed", "item": item}]
        if isinstance(msg, PatchApplyBeginEvent):
            item = {
                "id": self._new_id(),
                "type": "file_change",
                "changes": _changes(msg.changes),
                "status": "in_progress",
            }
            self._by_call[msg.call_id] = item
            return [{"type": "item.started", "item": dict(item)}]
        if isinstance(msg, PatchApplyEndEvent):
            item = self._by_call.pop(msg.call_id, {}) or {
                "id": self._new_id(), "type": "file_change", "changes": _changes(msg.changes),
            }
            item["status"] = "completed" if msg.success else "failed"
            return [{"type": "item.completed", "item": item}]
        if isinstance(msg, McpToolCallBeginEvent):
            item = {
                "id": self._new_id(),
                "type": "mcp_tool_call",
                "server": msg.invocation.server,
                "tool": msg.invocation.tool,
                "arguments": msg.invocation.arguments,
                "result": None,
                "error": None,
                "status": "in_progress",
            }
            self._by_call[msg.call_id] = item
            return [{"type": "item.started", "item": dict(item)}]
        if isinstance(msg, McpToolCallEndEvent):
            item = self._by_call.pop(msg.call_id, {}) or {
                "id": self._new_id(), "type": "mcp_tool_call",
                "server": msg.invocation.server, "tool": msg.invocation.tool,
                "arguments": msg.invocation.arguments,
            }
            ok = msg.is_success()
            item.update(
                result=msg.result.get("Ok") if ok else None,
                error=None if ok else {"message": str(msg.result.get("Err", msg.result))},
                status="completed" if ok else "failed",
            )
            return [{"type": "item.completed", "item": item}]
        if isinstance(msg, WebSearchEndEvent):
            item = {"id": self._new_id(), "type": "web_search", "query": msg.query}
            if msg.action is not None:
                item["action"] = msg.action
            return [{"type": "item.started", "item": item}, {"type": "item.completed", "item": item}]
        if isinstance(msg, PlanUpdateEvent):
            items = [{"text": s.step, "completed": s.status == "completed"} for s in msg.plan]
            if self._todo is None:
                self._todo = {"id": self._new_id(), "type": "todo_list", "items": items}
                return [{"type": "item.started", "item": dict(self._todo)}]
            self._todo["items"] = items
            return [{"type": "item.updated", "item": dict(self._todo)}]
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
            out: list[JsonObj] = self._settle_running_commands()
            if self._todo is not None:
                out.append({"type": "item.completed", "item": dict(self._todo)})
                self._todo = None
            if self.turn_error is not None:
                out.append({"type": "turn.failed", "error": {"message": self.turn_error}})
            else:
                out.append({"type": "turn.completed", "usage": usage_json(self._usage)})
            return out
        return []


    def _command_output(self, msg: ExecCommandOutputDeltaEvent) -> list[JsonObj]:
        """`item.updated` with the output so far, for commands that run a while (none for
        quick ones: their stream stays started → completed, as in Codex)."""
        live = self._live.get(msg.call_id)
        item = self._by_call.get(msg.call_id)
        if live is None or item is None:
            return []
        live.write(msg.data())
        now = self.clock()
        if now - self._shown_at.get(msg.call_id, now) < UPDATE_INTERVAL_S:
            return []
        self._shown_at[msg.call_id] = now
        item["aggregated_output"] = live.render()
        return [{"type": "item.updated", "item": dict(item)}]

    def _settle_running_commands(self) -> list[JsonObj]:
        """Complete the items of commands still running when the turn ends.

        Codex leaves their `item.started` dangling. Here each gets an `item.completed`
        whose `status` stays `in_progress` and `exit_code` null: the turn is over, the
        process was still running (exec kills it on exit); `aggregated_output` holds what
        it printed so far. A client always sees every item it was shown start complete.
        """
        out: list[JsonObj] = []
        for call_id, item in list(self._by_call.items()):
            if item.get("type") != "command_execution":
                continue
            live = self._live.pop(call_id, None)
            if live is not None:
                item["aggregated_output"] = live.render()
            self._by_call.pop(call_id)
            self._shown_at.pop(call_id, None)
            self._settled.add(call_id)
            out.append({"type": "item.completed", "item": item})
        return out


def _changes(changes: dict[str, FileChange]) -> list[JsonObj]:
    return [{"path": path, "kind": changes[path].type} for path in sorted(changes)]
