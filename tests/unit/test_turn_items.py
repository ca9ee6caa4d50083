"""The engine speaks items: every turn item starts, streams by id and completes, with the
thread and turn it belongs to — on both wire APIs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pycodex.core.thread_manager import CodexThread
from pycodex.protocol.event_payloads import (
    ExecApprovalRequestEvent,
    ExecCommandBeginEvent,
    ExecCommandOutputDeltaEvent,
)
from pycodex.protocol.events import (
    AgentMessageContentDeltaEvent,
    EventMsg,
    ItemCompletedEvent,
    ItemStartedEvent,
    ReasoningContentDeltaEvent,
    TaskCompleteEvent,
    TaskStartedEvent,
    TurnAbortedEvent,
)
from pycodex.protocol.items import (
    AgentMessageTurnItem,
    CommandExecutionTurnItem,
    ImageViewTurnItem,
    ReasoningTurnItem,
    UserMessageTurnItem,
)
from pycodex.protocol.ops import ExecApprovalOp, InterruptOp
from pycodex.protocol.policies import ReviewDecision
from tests.support.engine import shell, start_thread, submit_text, until
from tests.support.mock_model import (
    MockModelServer,
    chat_text,
    chat_tool_calls,
    function_call,
    message,
    reasoning,
    response,
    response_events,
    sse,
)

Events = list[EventMsg]


@pytest.fixture
async def thread(mock_model: MockModelServer, tmp_path: Path) -> AsyncIterator[CodexThread]:
    t = await start_thread(mock_model, tmp_path, "stream_max_retries = 1")
    yield t
    await t.shutdown()


@pytest.fixture
async def chat_thread(mock_model: MockModelServer, tmp_path: Path) -> AsyncIterator[CodexThread]:
    t = await start_thread(mock_model, tmp_path, 'wire_api = "chat"\nstream_max_retries = 0')
    yield t
    await t.shutdown()


def started(events: Events) -> list[ItemStartedEvent]:
    return [e for e in events if isinstance(e, ItemStartedEvent)]


def completed(events: Events) -> list[ItemCompletedEvent]:
    return [e for e in events if isinstance(e, ItemCompletedEvent)]


def assert_items_well_formed(events: Events, thread_id: str) -> None:
    """Each item starts once, completes once, after its start; all carry the thread's id
    and the turn's id; every delta names a started, not yet completed item."""
    turn_id = next(e.turn_id for e in events if isinstance(e, TaskStartedEvent))
    open_items: set[str] = set()
    done: set[str] = set()
    for event in events:
        if isinstance(event, ItemStartedEvent | ItemCompletedEvent):
            assert (event.thread_id, event.turn_id) == (thread_id, turn_id)
            item_id = event.item.id
            assert item_id
        if isinstance(event, ItemStartedEvent):
            assert item_id not in open_items and item_id not in done
            open_items.add(item_id)
        elif isinstance(event, ItemCompletedEvent):
            assert item_id in open_items, f"{item_id} completed without a start"
            open_items.remove(item_id)
            done.add(item_id)
        elif isinstance(event, AgentMessageContentDeltaEvent | ReasoningContentDeltaEvent):
            assert (event.thread_id, event.turn_id) == (thread_id, turn_id)
            assert event.item_id in open_items
    assert not open_items, f"started but never completed: {open_items}"


async def test_a_shell_turn_as_items(thread: CodexThread, mock_model: MockModelServer) -> None:
    mock_model.enqueue(
        response(shell("echo hello-from-tool", "call_7")),
        response(message("All done.", id="msg_9")),
    )
    await submit_text(thread, "run it")
    events = await until(thread, TaskCompleteEvent)

    assert_items_well_formed(events, thread.thread_id)
    kinds = [(type(e).__name__, type(e.item).__name__) for e in started(events) + completed(events)]
    assert sorted(kinds) == sorted(
        [(kind, item) for kind in ("ItemStartedEvent", "ItemCompletedEvent")
         for item in ("UserMessageTurnItem", "CommandExecutionTurnItem", "AgentMessageTurnItem")]
    )
    user = completed(events)[0].item
    assert isinstance(user, UserMessageTurnItem) and user.text() == "run it"

    command = next(e.item for e in completed(events) if isinstance(e.item, CommandExecutionTurnItem))
    assert command.id == "call_7" and command.status == "completed" and command.exit_code == 0
    assert "hello-from-tool" in (command.aggregated_output or "")
    first = next(e.item for e in started(events) if isinstance(e.item, CommandExecutionTurnItem))
    assert first.status == "in_progress" and first.exit_code is None
    output = [e for e in events if isinstance(e, ExecCommandOutputDeltaEvent)]
    assert output and {e.call_id for e in output} == {"call_7"}
    turn_id = next(e.turn_id for e in events if isinstance(e, TaskStartedEvent))
    assert {(e.thread_id, e.turn_id) for e in output} == {(thread.thread_id, turn_id)}

    answer = completed(events)[-1].item
    assert isinstance(answer, AgentMessageTurnItem) and answer.id == "msg_9"
    deltas = [e for e in events if isinstance(e, AgentMessageContentDeltaEvent)]
    assert {d.item_id for d in deltas} == {"msg_9"}
    assert "".join(d.delta for d in deltas) == answer.text() == "All done."


async def test_reasoning_streams_into_its_item(thread: CodexThread, mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(reasoning(["first thought", "second thought"], id="rs_7"), message("ok")))
    await submit_text(thread, "think")
    events = await until(thread, TaskCompleteEvent)

    assert_items_well_formed(events, thread.thread_id)
    thought = next(e.item for e in completed(events) if isinstance(e.item, ReasoningTurnItem))
    assert thought.summary_text == ["first thought", "second thought"]
    assert thought.id == "rs_7"  # the provider's id, as Codex
    deltas = [e for e in events if isinstance(e, ReasoningContentDeltaEvent)]
    assert {d.item_id for d in deltas} == {thought.id}
    assert sorted({d.summary_index for d in deltas}) == [0, 1]


async def test_a_retried_stream_completes_the_answer_once(
    thread: CodexThread, mock_model: MockModelServer
) -> None:
    # The first attempt's message finished, then the stream dropped before
    # `response.completed`: that message must not be announced as an answer.
    events_cut = response_events(message("Half an answer.", id="msg_half"))
    done = next(i for i, e in enumerate(events_cut) if e["type"] == "response.output_item.done")
    mock_model.enqueue(sse(events_cut, drop_after=done + 1), response(message("Whole.", id="msg_whole")))
    await submit_text(thread, "answer once")
    events = await until(thread, TaskCompleteEvent)

    answers = [e.item for e in completed(events) if isinstance(e.item, AgentMessageTurnItem)]
    assert [(a.id, a.text()) for a in answers] == [("msg_whole", "Whole.")]
    # The abandoned attempt's item started (it streamed) but is never completed.
    assert "msg_half" in {e.item.id for e in started(events)}
    assert isinstance(events[-1], TaskCompleteEvent) and events[-1].last_agent_message == "Whole."


async def test_chat_items_get_ids_of_their_own(chat_thread: CodexThread, mock_model: MockModelServer) -> None:
    mock_model.enqueue(
        chat_tool_calls([("call_c", "shell", json.dumps({"command": ["bash", "-c", "echo chat-tool"]}))]),
        chat_text("Chat answer."),
    )
    await submit_text(chat_thread, "go")
    events = await until(chat_thread, TaskCompleteEvent)

    assert_items_well_formed(events, chat_thread.thread_id)
    command = next(e.item for e in completed(events) if isinstance(e.item, CommandExecutionTurnItem))
    assert command.id == "call_c" and "chat-tool" in (command.aggregated_output or "")
    answer = completed(events)[-1].item
    assert isinstance(answer, AgentMessageTurnItem) and answer.text() == "Chat answer."
    deltas = [e for e in events if isinstance(e, AgentMessageContentDeltaEvent)]
    assert deltas and {d.item_id for d in deltas} == {answer.id}


async def test_an_image_the_model_viewed_is_an_item(
    thread: CodexThread, mock_model: MockModelServer, tmp_path: Path
) -> None:
    picture = tmp_path / "ws" / "pic.gif"
    picture.write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    mock_model.enqueue(
        response(function_call("view_image", {"path": "pic.gif"}, call_id="img_1")),
        response(message("ok")),
    )
    await submit_text(thread, "look")
    events = await until(thread, TaskCompleteEvent)

    assert_items_well_formed(events, thread.thread_id)
    [viewed] = [e.item for e in completed(events) if isinstance(e.item, ImageViewTurnItem)]
    assert (viewed.id, viewed.path) == ("img_1", str(picture))


@pytest.mark.parametrize(
    ("decision", "status"), [(ReviewDecision.APPROVED, "completed"), (ReviewDecision.DENIED, "declined")]
)
async def test_a_command_awaiting_approval_is_an_item_already(
    mock_model: MockModelServer, tmp_path: Path, decision: ReviewDecision, status: str
) -> None:
    thread = await start_thread(mock_model, tmp_path, approval_policy="untrusted")
    try:
        mock_model.enqueue(response(shell("touch made.txt", "call_a")), response(message("ok")))
        await submit_text(thread, "make it")
        events = await until(thread, ExecApprovalRequestEvent)
        # What the user is asked about is an item right away: it starts with the question
        # (just after it, as Codex orders them), before the answer is awaited.
        events.append((await thread.next_event()).msg)
        [asked] = [e.item for e in started(events) if isinstance(e.item, CommandExecutionTurnItem)]
        assert (asked.id, asked.status) == ("call_a", "in_progress")
        await thread.submit(ExecApprovalOp(id="call_a", decision=decision))
        events += await until(thread, TaskCompleteEvent)
    finally:
        await thread.shutdown()

    assert_items_well_formed(events, thread.thread_id)
    [command] = [e.item for e in completed(events) if isinstance(e.item, CommandExecutionTurnItem)]
    assert (command.id, command.status) == ("call_a", status)


async def test_start_turn_tells_which_turn_the_input_went_into(
    thread: CodexThread, mock_model: MockModelServer
) -> None:
    from pycodex.protocol.ops import UserInputOp
    from pycodex.protocol.user_input import TextInput

    mock_model.enqueue(response(shell("sleep 30", "call_long")))
    first = await thread.start_turn(UserInputOp(items=[TextInput(text="wait")]))
    events = await until(thread, ExecCommandBeginEvent)
    assert next(e.turn_id for e in events if isinstance(e, TaskStartedEvent)) == first
    # Input while that turn runs joins it: the same id comes back.
    assert await thread.start_turn(UserInputOp(items=[TextInput(text="and this")])) == first
    await thread.submit(InterruptOp())
    await until(thread, TurnAbortedEvent)
    mock_model.enqueue(response(message("fresh")))
    second = await thread.start_turn(UserInputOp(items=[TextInput(text="next")]))
    events = await until(thread, TaskCompleteEvent)
    assert second != first
    assert next(e.turn_id for e in events if isinstance(e, TaskStartedEvent)) == second
