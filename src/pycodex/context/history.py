"""`History`: the model-visible conversation of one thread, owned by its session.

Every request sends the whole of it (no `previous_response_id`: nothing is stored
server-side). It changes in three ways only: items are appended as a turn goes, a
rollback drops the last user turns, and a resume or a compaction replaces it.
What counts as a *user turn* is decided here too, so a live rollback, a replayed rollback
marker and a fork cut history the same way.

It also knows how full it is (`tokens_in_context`): the provider's own count for the
last response when one was reported (`mark_usage`), plus an estimate of what was appended
since — the figure automatic compaction is triggered on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from pycodex.protocol.models import InputText, MessageItem, ResponseItem

# Messages a compaction writes in place of what it dropped (see context/compaction.py):
# context, never a user's turn, so a rollback or a later compaction does not count them.
SUMMARY_PREFIX = "<conversation_summary>"
PLAN_PREFIX = "<current_plan>"

# User-role messages the engine injects; they are context, not turns.
CONTEXTUAL_PREFIXES = (
    SUMMARY_PREFIX,
    PLAN_PREFIX,
    "<environment_context>",
    "# AGENTS.md instructions for",
    "<user_instructions>",
    "<user_shell_command>",
    "<turn_aborted>",
)

T = TypeVar("T")


class History:
    """The items, in order. Read it by iterating; change it only through the methods."""

    __slots__ = ("_items", "_usage_mark")

    def __init__(self, items: Iterable[ResponseItem] = ()) -> None:
        self._items: list[ResponseItem] = list(items)
        # (number of items, tokens the provider counted for them) after the last
        # response that reported usage; None when the items changed otherwise since.
        self._usage_mark: tuple[int, int] | None = None

    def __iter__(self) -> Iterator[ResponseItem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def append(self, items: Sequence[ResponseItem]) -> None:
        self._items.extend(items)

    def replace(self, items: Iterable[ResponseItem]) -> None:
        """Start over from `items` (a resumed or compacted thread)."""
        self._items = list(items)
        self._usage_mark = None

    def rollback(self, num_turns: int) -> None:
        """Drop the last `num_turns` user turns (every turn when there are fewer; the
        context before the first turn stays)."""
        self._items = drop_last_user_turns(self._items, num_turns, is_user_turn_item)
        self._usage_mark = None

    def for_request(self) -> list[ResponseItem]:
        """What the next request sends: every item, in order (a copy the caller may keep)."""
        return list(self._items)

    def estimate_tokens(self) -> int:
        """A cheap upper-bound guess (~4 bytes a token over the text the items carry), for
        deciding when to compact before asking the provider."""
        return estimate_tokens(self._items)

    def mark_usage(self, tokens: int) -> None:
        """The provider counted `tokens` for the whole history as it is now (the last
        response's input plus its output, which was just appended)."""
        self._usage_mark = (len(self._items), tokens)

    def tokens_in_context(self) -> int:
        """How full the context is: the provider's last count plus an estimate of the
        items appended since (tool outputs, new user input), else the estimate alone."""
        mark = self._usage_mark
        if mark is None or mark[0] > len(self._items):
            return self.estimate_tokens()
        count, tokens = mark
        return tokens + estimate_tokens(self._items[count:])


def estimate_tokens(items: Iterable[ResponseItem]) -> int:
    """~4 bytes a token over the text `items` carry: cheap, and an upper bound for prose
    and code, so a decision taken on it errs on the side of compacting early."""
    return sum(_text_size(item) for item in items) // 4


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
