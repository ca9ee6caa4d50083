"""`History`: the one owner of a thread's model-visible conversation."""

from __future__ import annotations

from pycodex.context.history import History
from pycodex.protocol.models import (
    FunctionCallOutputItem,
    assistant_message,
    developer_message,
    user_message,
)

CONTEXT = [developer_message("base"), user_message("<environment_context>\n</environment_context>")]


def turn(text: str) -> list:  # type: ignore[type-arg]
    return [user_message(text), assistant_message(f"re: {text}")]


def test_append_and_what_the_next_request_sends() -> None:
    history = History(CONTEXT)
    history.append(turn("one"))
    sent = history.for_request()
    assert sent == [*CONTEXT, *turn("one")]
    sent.append(user_message("not recorded"))  # the caller's copy, not the history
    assert len(history) == 4


def test_rollback_drops_whole_user_turns_and_keeps_the_context() -> None:
    history = History(CONTEXT)
    for text in ("one", "two", "three"):
        history.append(turn(text))
    history.rollback(2)
    assert list(history) == [*CONTEXT, *turn("one")]
    history.rollback(5)  # more turns than there are: back to the initial context
    assert list(history) == CONTEXT


def test_injected_user_messages_are_context_not_turns() -> None:
    history = History([*CONTEXT, *turn("one")])
    history.append([user_message("<environment_context>\n  <cwd>/x</cwd>\n</environment_context>")])
    history.rollback(1)
    assert list(history) == CONTEXT


def test_replace_and_estimate() -> None:
    history = History(CONTEXT)
    history.replace([FunctionCallOutputItem(call_id="c", output="x" * 4000)])
    assert len(history) == 1
    assert 1000 <= history.estimate_tokens() <= 1100
