"""Making a compaction request fit: the oldest tool outputs go first.

A summarisation request carries the whole history, so when the window is already full
the request itself overflows (openai/codex#29319). Tool outputs are the bulk of a coding
session and the oldest are the least useful, so they are emptied first — their call
stays, with a one-line note in place of the output, so the history stays well-formed.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from pycodex.context.history import estimate_tokens
from pycodex.protocol.models import CustomToolCallOutputItem, FunctionCallOutputItem, ResponseItem

DROPPED_OUTPUT = "[output dropped to fit the compaction request into the context window]"
# Each retry frees at least this share of the request, so a full window needs a handful
# of retries, not one per tool output.
DROP_SHARE = 0.25

_OUTPUTS = (FunctionCallOutputItem, CustomToolCallOutputItem)


def is_dropped(item: ResponseItem) -> bool:
    return isinstance(item, _OUTPUTS) and item.output == DROPPED_OUTPUT


def drop_oldest_tool_outputs(
    items: Sequence[ResponseItem], min_tokens: int | None = None
) -> tuple[list[ResponseItem], int]:
    """`items` with the oldest tool outputs emptied until at least `min_tokens` (default:
    a quarter of the estimate) are freed; returns the new items and how many outputs were
    emptied (0: none was left to empty)."""
    goal = min_tokens if min_tokens is not None else max(1, int(estimate_tokens(items) * DROP_SHARE))
    out = list(items)
    freed = dropped = 0
    for index, item in enumerate(out):
        if freed >= goal:
            break
        if not isinstance(item, _OUTPUTS) or is_dropped(item):
            continue
        replacement = msgspec.structs.replace(item, output=DROPPED_OUTPUT)
        gain = estimate_tokens([item]) - estimate_tokens([replacement])
        if gain <= 0:  # shorter than the note that would replace it ("Plan updated")
            continue
        freed += gain
        out[index] = replacement
        dropped += 1
    return out, dropped


def fit_to_window(items: Sequence[ResponseItem], window: int | None) -> tuple[list[ResponseItem], int]:
    """Before asking at all: empty the oldest outputs while the estimate exceeds `window`."""
    if window is None:
        return list(items), 0
    excess = estimate_tokens(items) - window
    if excess <= 0:
        return list(items), 0
    return drop_oldest_tool_outputs(items, excess)
