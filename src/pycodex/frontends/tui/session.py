"""What the TUI knows about its thread: settings, usage, the turn in flight, and the
transcript cells the app-server's notifications turn into.

Pure state (no terminal, no prompt_toolkit): `on_notification` takes a v2 notification and
returns the cells that are finished now (to print into scrollback); the live parts — the
answer still streaming, the command still running — are read by the live region.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pycodex.frontends.tui.cells import (
    AgentCell,
    CommandCell,
    NoticeCell,
    PatchCell,
    PlanCell,
    ReasoningCell,
    UserCell,
)

Json = dict[str, Any]


@dataclass
class ThreadSettings:
    model: str = ""
    effort: str | None = None
    provider: str = ""
    cwd: str = ""
    approval_policy: str = ""
    sandbox: str = ""
    forked_from: str | None = None

    @classmethod
    def from_response(cls, answer: Json) -> ThreadSettings:
        sandbox = answer.get("sandbox") or {}
        return cls(
            model=str(answer.get("model") or ""), effort=answer.get("reasoningEffort"),
            provider=str(answer.get("modelProvider") or ""), cwd=str(answer.get("cwd") or ""),
            approval_policy=str(answer.get("approvalPolicy") or ""),
            sandbox=str(sandbox.get("type") or "") if isinstance(sandbox, dict) else str(sandbox),
            forked_from=(answer.get("thread") or {}).get("forkedFromId"),
        )


def item_cell(item: Json) -> Any:
    """The finished cell of a completed v2 item (None for items not shown)."""
    kind = item.get("type")
    if kind == "userMessage":
        text = "".join(p.get("text", "") for p in item.get("content", []) if p.get("type") == "text")
        return UserCell(text)
    if kind == "agentMessage":
        return AgentCell(str(item.get("text") or ""))
    if kind == "reasoning":
        summary = "\n".join(item.get("summary") or [])
        return ReasoningCell(summary) if summary.strip() else None
    if kind == "commandExecution":
        return CommandCell(
            command=str(item.get("command") or ""), output=str(item.get("aggregatedOutput") or ""),
            exit_code=item.get("exitCode"), status=str(item.get("status") or ""),
            source=str(item.get("source") or "agent"),
        )
    if kind == "fileChange":
        return PatchCell(list(item.get("changes") or []), status=str(item.get("status") or ""))
    return None


@dataclass
class TurnState:
    """The turn in flight: what streams now."""

    turn_id: str
    started: float = field(default_factory=time.monotonic)
    answer: str = ""  # the agent message streaming
    reasoning: str = ""
    running: CommandCell | None = None  # the command whose output streams
    changes: list[Json] = field(default_factory=list)  # the file change being asked about


class SessionState:
    def __init__(self) -> None:
        self.thread_id: str | None = None
        self.settings = ThreadSettings()
        self.turn: TurnState | None = None
        self.token_usage: Json | None = None
        self.context_window: int | None = None
        self.last_agent_message: str | None = None
        self.cells: list[Any] = []  # every finished cell, for the transcript overlay

    def finished(self, cell: Any) -> list[Any]:
        if cell is None:
            return []
        self.cells.append(cell)
        if isinstance(cell, AgentCell):
            self.last_agent_message = cell.text
        return [cell]

    def on_notification(self, method: str, params: Json) -> list[Any]:
        """The cells `method` finished (to print), after updating the live state."""
        thread_id = params.get("threadId")
        if thread_id is not None and thread_id != self.thread_id:
            return []  # another thread's (one this client left)
        handler = _HANDLERS.get(method)
        return handler(self, params) if handler is not None else []

    def _turn_started(self, params: Json) -> list[Any]:
        self.turn = TurnState(turn_id=str(params["turn"]["id"]))
        return []

    def _turn_completed(self, params: Json) -> list[Any]:
        self.turn = None
        if (params.get("turn") or {}).get("status") == "interrupted":
            return self.finished(NoticeCell("Interrupted. Tell the model what to do differently.", "warning"))
        return []

    def _item_started(self, params: Json) -> list[Any]:
        item = params["item"]
        if self.turn is not None and item.get("type") == "commandExecution":
            self.turn.running = CommandCell(command=str(item.get("command") or ""))
        if self.turn is not None and item.get("type") == "fileChange":
            self.turn.changes = list(item.get("changes") or [])
        return []

    def _item_completed(self, params: Json) -> list[Any]:
        item = params["item"]
        if self.turn is not None:
            if item.get("type") == "agentMessage":
                self.turn.answer = ""
            elif item.get("type") == "reasoning":
                self.turn.reasoning = ""
            elif item.get("type") == "commandExecution":
                self.turn.running = None
        return self.finished(item_cell(item))

    def _answer_delta(self, params: Json) -> list[Any]:
        if self.turn is not None:
            self.turn.answer += str(params.get("delta") or "")
        return []

    def _reasoning_delta(self, params: Json) -> list[Any]:
        if self.turn is not None:
            self.turn.reasoning += str(params.get("delta") or "")
        return []

    def _output_delta(self, params: Json) -> list[Any]:
        if self.turn is not None and self.turn.running is not None:
            self.turn.running.output += str(params.get("delta") or "")
        return []

    def _plan(self, params: Json) -> list[Any]:
        return self.finished(PlanCell(list(params.get("plan") or []), params.get("explanation")))

    def _error(self, params: Json) -> list[Any]:
        error = params.get("error") or {}
        message = str(error.get("message") or "error")
        if params.get("willRetry"):
            return self.finished(NoticeCell(message, "warning"))
        return self.finished(NoticeCell(message, "error"))

    def _warning(self, params: Json) -> list[Any]:
        return self.finished(NoticeCell(str(params.get("message") or ""), "warning"))

    def _usage(self, params: Json) -> list[Any]:
        usage = params.get("tokenUsage") or {}
        self.token_usage = usage
        self.context_window = usage.get("modelContextWindow") or self.context_window
        return []

    def _settings(self, params: Json) -> list[Any]:
        s = params.get("threadSettings") or {}
        sandbox = s.get("sandboxPolicy") or {}
        self.settings.model = str(s.get("model") or self.settings.model)
        self.settings.effort = s.get("effort")
        self.settings.approval_policy = str(s.get("approvalPolicy") or self.settings.approval_policy)
        self.settings.sandbox = str(sandbox.get("type") or self.settings.sandbox)
        return []

    def context_left_percent(self) -> int | None:
        usage = (self.token_usage or {}).get("last") or {}
        used = usage.get("totalTokens")
        if not self.context_window or not isinstance(used, int):
            return None
        return max(0, min(100, round(100 * (1 - used / self.context_window))))


_HANDLERS = {
    "turn/started": SessionState._turn_started,
    "turn/completed": SessionState._turn_completed,
    "item/started": SessionState._item_started,
    "item/completed": SessionState._item_completed,
    "item/agentMessage/delta": SessionState._answer_delta,
    "item/reasoning/summaryTextDelta": SessionState._reasoning_delta,
    "item/commandExecution/outputDelta": SessionState._output_delta,
    "turn/plan/updated": SessionState._plan,
    "error": SessionState._error,
    "warning": SessionState._warning,
    "thread/tokenUsage/updated": SessionState._usage,
    "thread/settings/updated": SessionState._settings,
}
