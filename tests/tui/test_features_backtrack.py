"""Esc Esc backtrack logic (pycodex.frontends.tui.backtrack) against a real
`pycodex app-server` on stdio and the mock model: the fork continues from just before the
chosen message, the original thread keeps every turn."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from pycodex.frontends.tui.backtrack import fork_before, picker_items, run_backtrack, user_turns
from pycodex.frontends.tui.pickers import PickerItem
from tests.support.mock_model import MockModelServer, message, response
from tests.tui.conftest import StdioClient

pytestmark = pytest.mark.e2e
Json = dict[str, Any]


def thread_with_three_turns(client: StdioClient, mock_model: MockModelServer, cwd: Path) -> str:
    thread_id = str(client.call("thread/start", {"cwd": str(cwd)})["thread"]["id"])
    for n, word in enumerate(("first", "second", "third"), 1):
        mock_model.enqueue(response(message(f"answer {n}")))
        client.call("turn/start", {"threadId": thread_id,
                                   "input": [{"type": "text", "text": f"{word} message"}]})
        client.until("turn/completed", threadId=thread_id)
    return thread_id


def turns_of(client: StdioClient, thread_id: str) -> list[Json]:
    turns: list[Json] = client.call("thread/read", {"threadId": thread_id, "includeTurns": True})["thread"]["turns"]
    return turns


def test_fork_before_keeps_the_turns_before_the_chosen_message(
    client: StdioClient, mock_model: MockModelServer, tmp_path: Path
) -> None:
    thread_id = thread_with_three_turns(client, mock_model, tmp_path)
    turns = user_turns(turns_of(client, thread_id))
    assert [t.text for t in turns] == ["first message", "second message", "third message"]

    fork_id = asyncio.run(fork_before(client.request, thread_id, turns[1]))

    assert fork_id != thread_id
    assert [t.text for t in user_turns(turns_of(client, fork_id))] == ["first message"]
    assert len(turns_of(client, thread_id)) == 3  # the original is untouched
    # The fork goes on from there: the next turn's request carries only the kept history.
    mock_model.enqueue(response(message("answer again")))
    client.call("turn/start", {"threadId": fork_id, "input": [{"type": "text", "text": "second, edited"}]})
    client.until("turn/completed", threadId=fork_id)
    sent = [part["text"] for item in mock_model.requests[-1].body["input"]
            if item.get("type") == "message" and item["role"] == "user"
            for part in item["content"] if part["type"] == "input_text"]
    assert "first message" in sent and "second, edited" in sent
    assert "second message" not in sent and "third message" not in sent


class BacktrackCtx:
    def __init__(self, client: StdioClient, thread_id: str, pick: int | None) -> None:
        self.client = client
        self.thread_id: str | None = thread_id
        self.pick = pick
        self.offered: list[PickerItem[Any]] = []
        self.calls: list[tuple[Any, ...]] = []

    def add_info(self, text: str) -> None:
        self.calls.append(("info", text))

    async def run_picker(self, title: str, items: list[PickerItem[Any]]) -> Any:
        self.offered = items
        return None if self.pick is None else items[self.pick].value

    async def switch_thread(self, thread_id: str, fork: bool) -> None:
        self.calls.append(("switch", thread_id, fork))

    def insert_text(self, text: str) -> None:
        self.calls.append(("insert", text))


def test_run_backtrack_offers_recent_messages_first_and_continues_in_a_fork(
    client: StdioClient, mock_model: MockModelServer, tmp_path: Path
) -> None:
    thread_id = thread_with_three_turns(client, mock_model, tmp_path)
    ctx = BacktrackCtx(client, thread_id, pick=1)  # the second row: "second message"
    asyncio.run(run_backtrack(ctx))
    assert [i.label for i in ctx.offered] == ["third message", "second message", "first message"]
    assert [i.detail for i in ctx.offered] == ["1 message back", "2 messages back", "3 messages back"]
    (switch, fork_id, fork), insert = ctx.calls
    assert (switch, fork) == ("switch", False) and fork_id != thread_id
    assert insert == ("insert", "second message")
    assert [t.text for t in user_turns(turns_of(client, fork_id))] == ["first message"]


def test_run_backtrack_cancelled_or_without_messages_changes_nothing(
    client: StdioClient, mock_model: MockModelServer, tmp_path: Path
) -> None:
    thread_id = thread_with_three_turns(client, mock_model, tmp_path)
    ctx = BacktrackCtx(client, thread_id, pick=None)
    asyncio.run(run_backtrack(ctx))
    assert ctx.calls == []
    empty = str(client.call("thread/start", {"cwd": str(tmp_path)})["thread"]["id"])
    ctx = BacktrackCtx(client, empty, pick=0)
    asyncio.run(run_backtrack(ctx))
    assert ctx.calls == [("info", "Nothing to go back to yet.")]


def test_picker_items_label_long_messages_on_one_line() -> None:
    turns = user_turns([
        {"id": "t1", "items": [{"type": "userMessage", "content": [{"type": "text", "text": "a\nb"}]}]},
        {"id": "t2", "items": [{"type": "agentMessage", "text": "no user message"}]},
        {"id": "t3", "items": [{"type": "userMessage", "content": [{"type": "image", "url": "x"}]}]},
    ])
    assert [(t.index, t.turn_id) for t in turns] == [(0, "t1"), (2, "t3")]
    assert [i.label for i in picker_items(turns)] == ["(empty message)", "a b"]
