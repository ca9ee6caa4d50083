"""Esc Esc backtrack: go back to an earlier user message and continue from there.

The thread itself is never rewritten: it is forked (`thread/fork`), and in the fork the
chosen message's turn and every later one are dropped (`thread/revert`). The TUI then
shows the fork and puts the chosen message back into the composer, to edit and send
again. The original thread stays as it was, resumable.

Turns are matched by position, not id: a fork's turns are the original's, in order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pycodex.frontends.tui.pickers import PickerItem, clip

if TYPE_CHECKING:
    from pycodex.frontends.tui.slash import TuiContext

Request = Callable[[str, dict[str, Any]], Awaitable[Any]]
LABEL_WIDTH = 200


@dataclass(frozen=True)
class UserTurn:
    index: int  # position of the turn in the thread
    turn_id: str
    text: str  # the user's message


def user_turns(turns: list[dict[str, Any]]) -> list[UserTurn]:
    """The turns that began with a user message, oldest first."""
    found: list[UserTurn] = []
    for index, turn in enumerate(turns):
        for item in turn.get("items", []):
            if item.get("type") == "userMessage":
                text = "".join(
                    part.get("text", "") for part in item.get("content", []) if part.get("type") == "text"
                )
                found.append(UserTurn(index, str(turn["id"]), text))
                break
    return found


def picker_items(turns: list[UserTurn]) -> list[PickerItem[UserTurn]]:
    """Most recent first: backtracking usually goes back a step or two."""
    count = len(turns)
    return [
        PickerItem(clip(turn.text, LABEL_WIDTH) or "(empty message)", turn,
                   f"{count - n} message{'s' if count - n != 1 else ''} back")
        for n, turn in reversed(list(enumerate(turns)))
    ]


async def thread_turns(request: Request, thread_id: str) -> list[dict[str, Any]]:
    answer = await request("thread/read", {"threadId": thread_id, "includeTurns": True})
    turns: list[dict[str, Any]] = answer["thread"].get("turns") or []
    return turns


async def fork_before(request: Request, thread_id: str, turn: UserTurn) -> str:
    """Fork `thread_id` without `turn` and the turns after it; the fork's id."""
    fork = await request("thread/fork", {"threadId": thread_id})
    fork_id = str(fork["thread"]["id"])
    turns = await thread_turns(request, fork_id)
    if turn.index >= len(turns):
        raise ValueError(f"the fork of {thread_id} has {len(turns)} turns; turn {turn.index + 1} is missing")
    await request("thread/revert", {"threadId": fork_id, "beforeTurnId": turns[turn.index]["id"]})
    return fork_id


async def run_backtrack(ctx: TuiContext) -> None:
    """Pick an earlier user message; continue in a fork from just before it, with the
    message back in the composer."""
    if ctx.thread_id is None:
        ctx.add_info("Nothing to go back to yet.")
        return
    turns = user_turns(await thread_turns(ctx.client.request, ctx.thread_id))
    if not turns:
        ctx.add_info("Nothing to go back to yet.")
        return
    chosen = await ctx.run_picker("Back to an earlier message (a fork continues from there)",
                                  picker_items(turns))
    if chosen is None:
        return
    fork_id = await fork_before(ctx.client.request, ctx.thread_id, chosen)
    await ctx.switch_thread(fork_id, False)
    ctx.insert_text(chosen.text)
