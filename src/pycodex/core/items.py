"""Turn items: what a turn did, as items with stable ids that every front end reads.

For each item the engine emits ``item_started`` (the item as it begins), then deltas that
name it by ``item_id`` (agent text, reasoning summary and raw text; command output keeps
its ``call_id``, which is the item id), then ``item_completed`` (the item as it ended,
also written to the rollout, as Codex 0.163 does). The older per-kind events
(``agent_message``, ``exec_command_begin`` …) still flow alongside for the front ends that
read them; the item stream is the one the app-server and TUI render.

Ids: a user message gets a fresh UUIDv7; an agent message or reasoning item takes the
provider's output item id when the stream carries one (Responses) and a fresh id otherwise
(Chat Completions); a command, patch, MCP call or web search takes its call id.

Streams that fail and are retried: completions of model output (messages, reasoning, web
search) are held until the response completes, so a response cut after an item finished
but before ``response.completed`` never shows that item twice. Items the failed attempt
had started are abandoned — never completed; their deltas are superseded by the retry's
own items. A front end drops an item that never completed when the turn ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pycodex.ids import uuid7
from pycodex.protocol.event_payloads import (
    ApplyPatchApprovalRequestEvent,
    ExecApprovalRequestEvent,
    ExecCommandBeginEvent,
    ExecCommandEndEvent,
    McpToolCallBeginEvent,
    McpToolCallEndEvent,
    PatchApplyBeginEvent,
    PatchApplyEndEvent,
    ViewImageToolCallEvent,
)
from pycodex.protocol.events import (
    AgentMessageContentDeltaEvent,
    AgentMessageEvent,
    AgentReasoningEvent,
    EventMsg,
    ItemCompletedEvent,
    ItemStartedEvent,
    ReasoningContentDeltaEvent,
    ReasoningRawContentDeltaEvent,
    UserMessageEvent,
)
from pycodex.protocol.items import (
    AgentMessageText,
    AgentMessageTurnItem,
    CommandExecutionTurnItem,
    FileChangeTurnItem,
    ImageViewTurnItem,
    ItemStatus,
    McpToolCallError,
    McpToolCallTurnItem,
    ReasoningTurnItem,
    TurnItem,
    UserMessageTurnItem,
    WebSearchTurnItem,
)
from pycodex.protocol.models import MessageItem, ReasoningItem, WebSearchCallItem
from pycodex.protocol.user_input import ImageInput, LocalImageInput, TextInput, UserInput

Emit = Callable[[EventMsg], None]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class TurnItems:
    """The items of one turn: ids, start times, and the events announcing them.

    Owned by the turn; `emit` sends an event on the turn's behalf (the session records
    `item_completed` in the rollout)."""

    def __init__(
        self, emit: Emit, *, thread_id: str, turn_id: str, clock_ms: Callable[[], int] = now_ms
    ) -> None:
        self._emit = emit
        self.thread_id = thread_id
        self.turn_id = turn_id
        self._clock_ms = clock_ms
        self._started_at: dict[str, int] = {}
        # The streamed message / reasoning item of the current response, if any.
        self._message_id: str | None = None
        self._reasoning_id: str | None = None
        # Items started for an approval whose command or patch has not begun yet.
        self._awaiting: dict[str, CommandExecutionTurnItem | FileChangeTurnItem] = {}

    # --- generic ---------------------------------------------------------------------

    def start(self, item: TurnItem) -> None:
        assert item.id is not None
        at = self._clock_ms()
        self._started_at[item.id] = at
        self._emit(
            ItemStartedEvent(
                thread_id=self.thread_id, turn_id=self.turn_id, item=item, started_at_ms=at
            )
        )

    def complete(self, item: TurnItem) -> None:
        assert item.id is not None
        at = self._clock_ms()
        started = self._started_at.pop(item.id, None)
        if started is None:  # completed without a visible start: announce it first
            self.start(item)
            started = self._started_at.pop(item.id, at)
        self._emit(
            ItemCompletedEvent(
                thread_id=self.thread_id,
                turn_id=self.turn_id,
                item=item,
                started_at_ms=started,
                completed_at_ms=at,
            )
        )

    def is_open(self, item_id: str) -> bool:
        return item_id in self._started_at

    # --- the user's message -------------------------------------------------------------

    def user_message(self, content: list[UserInput]) -> None:
        item = UserMessageTurnItem(id=uuid7(), content=list(content))
        self.start(item)
        self.complete(item)

    # --- model output, streamed ----------------------------------------------------------

    def output_item_added(self, item: MessageItem | ReasoningItem) -> None:
        """The provider announced a message or reasoning item: it starts now, with the
        provider's id when it has one."""
        item_id = item.id or uuid7()
        if isinstance(item, MessageItem):
            self._message_id = item_id
            self.start(AgentMessageTurnItem(id=item_id, content=[]))
        else:
            self._reasoning_id = item_id
            self.start(ReasoningTurnItem(id=item_id, summary_text=[]))

    def agent_text_delta(self, provider_id: str | None, delta: str) -> None:
        if self._message_id is None or (provider_id and provider_id != self._message_id):
            self._message_id = provider_id or uuid7()
            self.start(AgentMessageTurnItem(id=self._message_id, content=[]))
        self._emit(
            AgentMessageContentDeltaEvent(
                thread_id=self.thread_id,
                turn_id=self.turn_id,
                item_id=self._message_id,
                delta=delta,
            )
        )

    def reasoning_delta(self, delta: str, *, index: int, raw: bool) -> None:
        if self._reasoning_id is None:
            self._reasoning_id = uuid7()
            self.start(ReasoningTurnItem(id=self._reasoning_id, summary_text=[]))
        thread_id, turn_id, item_id = self.thread_id, self.turn_id, self._reasoning_id
        if raw:
            self._emit(
                ReasoningRawContentDeltaEvent(
                    thread_id=thread_id, turn_id=turn_id, item_id=item_id,
                    delta=delta, content_index=index,
                )
            )
        else:
            self._emit(
                ReasoningContentDeltaEvent(
                    thread_id=thread_id, turn_id=turn_id, item_id=item_id,
                    delta=delta, summary_index=index,
                )
            )

    def web_search_begin(self, call_id: str) -> None:
        self.start(WebSearchTurnItem(id=call_id, query=""))

    def finish_output_item(
        self, item: MessageItem | ReasoningItem | WebSearchCallItem
    ) -> TurnItem:
        """The turn item of a finished output item. The caller completes it when the
        response completes (see the module docstring)."""
        if isinstance(item, MessageItem):
            return self._finish_message(item)
        if isinstance(item, ReasoningItem):
            return self._finish_reasoning(item)
        action = item.action or {}
        query = action.get("query")
        return WebSearchTurnItem(
            id=item.id or uuid7(),
            query=query if isinstance(query, str) else "",
            action=item.action or None,
        )

    def abandon_stream(self, finished: list[TurnItem]) -> None:
        """The stream is retried: the items this attempt started, streaming or finished
        but not yet completed, are superseded and will never complete."""
        for item_id in (self._message_id, self._reasoning_id, *(i.id for i in finished)):
            if item_id is not None:
                self._started_at.pop(item_id, None)
        self._message_id = self._reasoning_id = None

    def _finish_message(self, item: MessageItem) -> AgentMessageTurnItem:
        streamed, self._message_id = self._message_id, None
        item_id = item.id or streamed or uuid7()
        if streamed is not None and streamed != item_id:
            self._started_at.pop(streamed, None)  # superseded by the finished item's id
        return AgentMessageTurnItem(id=item_id, content=[AgentMessageText(text=item.text())])

    def _finish_reasoning(self, item: ReasoningItem) -> ReasoningTurnItem:
        item_id, self._reasoning_id = self._reasoning_id, None
        if item_id is None:
            item_id = item.id or uuid7()
        raw = [part.text for part in item.content or []]
        return ReasoningTurnItem(
            id=item_id, summary_text=[part.text for part in item.summary], raw_content=raw
        )

    # --- tools ----------------------------------------------------------------------------

    def command_awaiting_approval(self, request: ExecApprovalRequestEvent) -> None:
        """The command's item starts when the user is asked about it."""
        if not self.is_open(request.call_id):
            item = _command_item(request, "in_progress")
            self._awaiting[request.call_id] = item
            self.start(item)

    def command_declined(self, request: ExecApprovalRequestEvent) -> None:
        self._awaiting.pop(request.call_id, None)
        self.complete(_command_item(request, "declined"))

    def patch_awaiting_approval(self, request: ApplyPatchApprovalRequestEvent) -> None:
        if not self.is_open(request.call_id):
            item = FileChangeTurnItem(id=request.call_id, changes=dict(request.changes), status="in_progress")
            self._awaiting[request.call_id] = item
            self.start(item)

    def patch_declined(self, request: ApplyPatchApprovalRequestEvent) -> None:
        self._awaiting.pop(request.call_id, None)
        self.complete(
            FileChangeTurnItem(id=request.call_id, changes=dict(request.changes), status="declined")
        )

    def call_finished(self, call_id: str) -> None:
        """A tool call was answered: an item it started for an approval but never ran
        (approved, then the sandbox refused) completes as failed rather than dangle."""
        item = self._awaiting.pop(call_id, None)
        if item is not None:
            item.status = "failed"
            self.complete(item)

    def observe_tool_event(self, msg: EventMsg) -> None:
        """Turn a tool's begin/end event into its item's start/completion (a command or
        patch that waited for approval has started already)."""
        if isinstance(msg, ExecCommandBeginEvent | PatchApplyBeginEvent):
            self._awaiting.pop(msg.call_id, None)
        if isinstance(msg, ExecCommandBeginEvent):
            if not self.is_open(msg.call_id):
                self.start(_command_item(msg, "in_progress"))
        elif isinstance(msg, ExecCommandEndEvent):
            self.complete(_command_item(msg, "completed" if msg.exit_code == 0 else "failed"))
        elif isinstance(msg, PatchApplyBeginEvent):
            if self.is_open(msg.call_id):
                return
            self.start(
                FileChangeTurnItem(
                    id=msg.call_id,
                    changes=dict(msg.changes),
                    status="in_progress",
                    auto_approved=msg.auto_approved,
                )
            )
        elif isinstance(msg, PatchApplyEndEvent):
            self.complete(
                FileChangeTurnItem(
                    id=msg.call_id,
                    changes=dict(msg.changes),
                    status="completed" if msg.success else "failed",
                    stdout=msg.stdout,
                    stderr=msg.stderr,
                )
            )
        elif isinstance(msg, McpToolCallBeginEvent):
            inv = msg.invocation
            self.start(
                McpToolCallTurnItem(
                    id=msg.call_id, server=inv.server, tool=inv.tool,
                    arguments=inv.arguments, status="in_progress",
                )
            )
        elif isinstance(msg, McpToolCallEndEvent):
            self.complete(_mcp_item(msg))
        elif isinstance(msg, ViewImageToolCallEvent):
            self.complete(ImageViewTurnItem(id=msg.call_id, path=msg.path))


def _command_item(
    msg: ExecCommandBeginEvent | ExecCommandEndEvent | ExecApprovalRequestEvent,
    status: ItemStatus,
) -> CommandExecutionTurnItem:
    item = CommandExecutionTurnItem(
        id=msg.call_id,
        command=list(msg.command),
        # Codex 0.163 writes the item's cwd as a file:// URI.
        cwd=Path(msg.cwd).as_uri() if msg.cwd.startswith("/") else msg.cwd,
        parsed_cmd=list(msg.parsed_cmd),
        status=status,
    )
    if not isinstance(msg, ExecApprovalRequestEvent):  # a running command, not a question
        item.process_id = msg.process_id
        item.source = msg.source
        item.interaction_input = msg.interaction_input
    if isinstance(msg, ExecCommandEndEvent):
        item.stdout = msg.stdout
        item.stderr = msg.stderr
        item.aggregated_output = msg.aggregated_output
        item.exit_code = msg.exit_code
        item.duration = msg.duration
        item.formatted_output = msg.formatted_output
    return item


def _mcp_item(msg: McpToolCallEndEvent) -> McpToolCallTurnItem:
    """A tool that answered (even with `isError`) keeps its result and has no error; only
    a call that got no answer (timeout, crash) carries an error message, as Codex."""
    inv = msg.invocation
    result = msg.result.get("Ok")
    answered = isinstance(result, dict)
    error = None if answered else McpToolCallError(message=str(msg.result.get("Err", msg.result)))
    return McpToolCallTurnItem(
        id=msg.call_id,
        server=inv.server,
        tool=inv.tool,
        arguments=inv.arguments,
        status="completed" if msg.is_success() else "failed",
        result=result if answered else None,
        error=error,
        duration=msg.duration,
    )


def legacy_events(item: TurnItem) -> list[EventMsg]:
    """The older per-kind events a finished item stands for, for front ends that repaint
    a resumed thread from `user_message` / `agent_message` / `agent_reasoning` events
    (Codex 0.163 rollouts record only the item)."""
    if isinstance(item, UserMessageTurnItem):
        return [user_message_event(item.content)]
    if isinstance(item, AgentMessageTurnItem):
        return [AgentMessageEvent(message=item.text())]
    if isinstance(item, ReasoningTurnItem):
        return [AgentReasoningEvent(text=text) for text in item.summary_text]
    return []


def user_message_event(content: list[UserInput]) -> UserMessageEvent:
    text = "\n".join(i.text for i in content if isinstance(i, TextInput))
    images = [i.image_url for i in content if isinstance(i, ImageInput)]
    local = [i.path for i in content if isinstance(i, LocalImageInput)]
    return UserMessageEvent(message=text, images=images or None, local_images=local)
