"""`History`: the model-visible conversation of one thread, owned by its session.

Every request sends the whole of it (no `previous_response_id`: nothing is stored
server-side). It changes in three ways only: items are appended as a turn goes, a
rollback drops the last user turns, and a resume (or, later, a compaction) replaces it.
What counts as a *user turn* is decided here too, so a live rollback, a replayed rollback
marker and a fork cut history the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from pycodex.protocol.models import InputText, MessageItem, ResponseItem

# User-role messages the engine injects; they are context, not turns.
CONTEXTUAL_PREFIXES = (
    "<environment_context>",
    "# AGENTS.md instructions for",
    "<user_instructions>",
    "<user_shell_command>",
    "<turn_aborted>",
)

T = TypeVar("T")


class History:
    """The items, in order. Read it by iterating; change it only through the methods."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[ResponseItem] = ()) -> None:
        self._items: list[ResponseItem] = list(items)

    def __iter__(self) -> Iterator[ResponseItem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def append(self, items: Sequence[ResponseItem]) -> None:
        self._items.extend(items)

    def replace(self, items: Iterable[ResponseItem]) -> None:
        """Start over from `items` (a resumed or compacted thread)."""
        self._items = list(items)

    def rollback(self, num_turns: int) -> None:
        """Drop the last `num_turns` user turns (every turn when there are fewer; the
        context before the first turn stays)."""
        self._items = drop_last_user_turns(self._items, num_turns, is_user_turn_item)

    def for_request(self) -> list[ResponseItem]:
        """What the next request sends: every item, in order (a copy the caller may keep)."""
        return list(self._items)

    def estimate_tokens(self) -> int:
        """A cheap upper-bound guess (~4 bytes a token over the text the items carry), for
        deciding when to compact before asking the provider."""
        return sum(_text_size(item) for item in self._items) // 4


def _text_size(item: ResponseItem) -> int:
    size = 0
    for value in vars_of(item):
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, list):
            size += sum(len(getattr(part, "text", None) or "") for part in value)
    return size


def vars_of(item: Any) -> list[Any]:
    return [getattr(item, name) for name in item.__struct_fields__]


def is_turn_start_text(role: Any, first_text: Any) -> bool:
    if role != "user":
        return False
    text = first_text.lstrip() if isinstance(first_text, str) else ""
    return not text.startswith(CONTEXTUAL_PREFIXES)


def is_user_turn_item(item: ResponseItem) -> bool:
    if not isinstance(item, MessageItem):
        return False
    first = next((p.text for p in item.content if isinstance(p, InputText)), "")
    return is_turn_start_text(item.role, first)


def drop_last_user_turns(entries: Sequence[T], n: int, is_turn_start: Callable[[T], bool]) -> list[T]:
    """`entries` without its last `n` user turns (all of them when `n` exceeds the count)."""
    starts = [i for i, e in enumerate(entries) if is_turn_start(e)]
    if n <= 0 or not starts:
        return list(entries)
    cut = starts[-n] if n <= len(starts) else starts[0]
    return list(entries[:cut])
