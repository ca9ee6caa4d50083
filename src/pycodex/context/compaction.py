"""Compaction: when to shrink a thread's history, and what the shrunk history holds.

Whatever the summary says, these survive **verbatim** (each bounded by a budget that is a
share of the compaction threshold, so a small window is not filled by its own survivors):

1. the initial context — developer/base instructions, AGENTS.md, the environment — and
   the latest ``<environment_context>`` if it changed since;
2. the first user task;
3. the summary (a ``<conversation_summary>`` message, or the provider's opaque
   ``compaction`` item when the provider compacted remotely);
4. the current plan (the last ``update_plan`` call, as a ``<current_plan>`` message);
5. the latest user messages, newest first, up to a budget (the newest always, truncated
   if it alone is over);
6. the last turn's tool calls with their results, newest first, up to a budget (a call
   and its output are kept or dropped together: the Responses API rejects one without
   the other).

Assistant messages and reasoning of the dropped span are what the summary replaces.
:func:`build_replacement` never returns a history bigger than the one it was given
(``estimate_tokens``): it shrinks its budgets and, failing that, returns None.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import msgspec

from pycodex.context.compaction_prompt import plan_text
from pycodex.context.history import (
    PLAN_PREFIX,
    SUMMARY_PREFIX,
    estimate_tokens,
    is_user_turn_item,
)
from pycodex.protocol.models import (
    CompactionItem,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputText,
    LocalShellCallItem,
    MessageItem,
    ResponseItem,
)

# Without `model_auto_compact_token_limit`, compact once the context holds this share of
# the model's (effective) window: room is left for the turn's next output and tool results.
DEFAULT_AUTO_COMPACT_PERCENT = 90
# Budgets for what survives verbatim, as shares of the threshold, with ceilings for big
# windows (a 1M-token model does not need 100k tokens of old messages kept).
USER_MESSAGES_SHARE, USER_MESSAGES_MAX = 0.10, 20_000
TOOL_RESULTS_SHARE, TOOL_RESULTS_MAX = 0.10, 16_000
SUMMARY_SHARE, SUMMARY_MAX = 0.10, 8_000
# When neither a limit nor a window is known (a local model), budgets use the ceilings.
TRUNCATED_MARK = "\n[... {n} characters cut by compaction ...]\n"
_CHARS_PER_TOKEN = 4


class CompactionSettings(msgspec.Struct, frozen=True):
    """config.toml's compaction keys, as one turn uses them."""

    # `model_auto_compact_token_limit`: compact when the context reaches this many tokens.
    auto_limit: int | None = None
    # `compact_prompt`: replaces our summarisation request.
    prompt: str | None = None
    # The provider has OpenAI's `/responses/compact` endpoint (tried first).
    remote: bool = False

    def threshold(self, context_window: int | None) -> int | None:
        """The token count that triggers an automatic compaction (None: never)."""
        if self.auto_limit is not None and self.auto_limit > 0:
            return self.auto_limit
        if context_window:
            return context_window * DEFAULT_AUTO_COMPACT_PERCENT // 100
        return None


class Budgets(msgspec.Struct, frozen=True):
    """Token budgets of what survives; see the module docstring."""

    user_messages: int
    tool_results: int
    summary: int

    @classmethod
    def for_threshold(cls, threshold: int | None) -> Budgets:
        def share(fraction: float, ceiling: int) -> int:
            return ceiling if threshold is None else max(64, min(ceiling, int(threshold * fraction)))

        return cls(
            user_messages=share(USER_MESSAGES_SHARE, USER_MESSAGES_MAX),
            tool_results=share(TOOL_RESULTS_SHARE, TOOL_RESULTS_MAX),
            summary=share(SUMMARY_SHARE, SUMMARY_MAX),
        )

    def halved(self) -> Budgets:
        return Budgets(self.user_messages // 2, self.tool_results // 2, self.summary // 2)


def truncate_middle(text: str, max_tokens: int) -> str:
    """`text` cut to about `max_tokens`, keeping its head and tail (where commands print
    what they did and how they ended)."""
    limit = max(0, max_tokens) * _CHARS_PER_TOKEN
    if len(text) <= limit:
        return text
    head = limit // 2
    tail = limit - head
    cut = len(text) - head - tail
    return text[:head] + TRUNCATED_MARK.format(n=cut) + (text[-tail:] if tail else "")


def _user_text(item: MessageItem, max_tokens: int) -> MessageItem:
    """The message itself when it fits, else a copy with its text parts cut."""
    if estimate_tokens([item]) <= max_tokens:
        return item
    text = "".join(p.text for p in item.content if isinstance(p, InputText))
    return MessageItem(role=item.role, content=[InputText(text=truncate_middle(text, max_tokens))])


# --- what survives -----------------------------------------------------------------------


def initial_context(items: Sequence[ResponseItem]) -> list[ResponseItem]:
    """Everything before the first user turn — instructions, AGENTS.md, environment —
    except what an earlier compaction put there (its summary and plan are replaced)."""
    end = next((i for i, item in enumerate(items) if is_user_turn_item(item)), None)
    head: list[ResponseItem]
    if end is None:
        # No user turn yet: only what the session injected (messages, not tool traffic).
        head = [i for i in items if isinstance(i, MessageItem) and i.role != "assistant"]
    else:
        head = list(items[:end])
    return [i for i in head if not _from_compaction(i)]


def _from_compaction(item: ResponseItem) -> bool:
    if isinstance(item, CompactionItem):
        return True
    return (
        isinstance(item, MessageItem)
        and item.role == "user"
        and item.text().lstrip().startswith((SUMMARY_PREFIX, PLAN_PREFIX))
    )


def latest_environment(items: Sequence[ResponseItem], initial: list[ResponseItem]) -> ResponseItem | None:
    """The newest `<environment_context>` update, when it is not already in `initial`."""
    for item in reversed(items):
        if isinstance(item, MessageItem) and item.role == "user":
            text = item.text().lstrip()
            if text.startswith("<environment_context>"):
                return None if item in initial else item
    return None


def user_turns(items: Sequence[ResponseItem]) -> list[MessageItem]:
    return [i for i in items if isinstance(i, MessageItem) and is_user_turn_item(i)]


def recent_user_messages(turns: Sequence[MessageItem], budget: int) -> list[MessageItem]:
    """The newest user messages that fit `budget`, oldest first; the newest always."""
    kept: list[MessageItem] = []
    left = budget
    for item in reversed(turns):
        size = estimate_tokens([item])
        if kept and size > left:
            break
        kept.append(_user_text(item, max(left, 1)) if not kept else item)
        left -= size
    kept.reverse()
    return kept


def current_plan(items: Sequence[ResponseItem]) -> MessageItem | None:
    """The plan as last set: the newest `update_plan` call, or the plan message an earlier
    compaction kept."""
    for item in reversed(items):
        if isinstance(item, FunctionCallItem) and item.name == "update_plan":
            rendered = render_plan(item.arguments)
            if rendered is not None:
                return MessageItem(role="user", content=[InputText(text=plan_text(rendered))])
        if isinstance(item, MessageItem) and item.role == "user" and item.text().startswith(PLAN_PREFIX):
            return item
    return None


def render_plan(arguments: str) -> str | None:
    """`update_plan` arguments as a checklist; step texts are kept exactly as written."""
    try:
        args = json.loads(arguments)
    except ValueError:
        return None
    steps = args.get("plan") if isinstance(args, dict) else None
    if not isinstance(steps, list):
        return None
    lines = []
    explanation = args.get("explanation")
    if isinstance(explanation, str) and explanation.strip():
        lines.append(f"Explanation: {explanation}")
    for step in steps:
        if isinstance(step, dict) and isinstance(step.get("step"), str):
            lines.append(f"- [{step.get('status', 'pending')}] {step['step']}")
    return "\n".join(lines)


_CALLS = (FunctionCallItem, CustomToolCallItem, LocalShellCallItem)
_OUTPUTS = (FunctionCallOutputItem, CustomToolCallOutputItem)


def last_turn_tool_results(items: Sequence[ResponseItem], budget: int) -> list[ResponseItem]:
    """The last turn's calls and their outputs, newest pairs first up to `budget` tokens
    (the newest pair always, its output cut to fit), in their original order."""
    starts = [i for i, item in enumerate(items) if is_user_turn_item(item)]
    turn = list(items[starts[-1] + 1 :]) if starts else list(items)
    outputs = {o.call_id: o for o in turn if isinstance(o, _OUTPUTS)}
    pairs: list[tuple[ResponseItem, ResponseItem]] = []
    for item in turn:
        call_id = getattr(item, "call_id", None)
        if isinstance(item, _CALLS) and call_id in outputs:
            pairs.append((item, outputs[call_id]))
    kept: list[tuple[ResponseItem, ResponseItem]] = []
    left = budget
    for call, output in reversed(pairs):
        size = estimate_tokens([call, output])
        if size > left:
            if not kept:  # the newest result survives, cut to the budget
                kept.append((call, _cut_output(output, left - estimate_tokens([call]))))
            break
        kept.append((call, output))
        left -= size
    kept.reverse()
    return [item for pair in kept for item in pair]


def _cut_output(output: ResponseItem, max_tokens: int) -> ResponseItem:
    if isinstance(output, _OUTPUTS) and isinstance(output.output, str):
        return msgspec.structs.replace(output, output=truncate_middle(output.output, max(max_tokens, 16)))
    return output


# --- the replacement history ----------------------------------------------------------------


def assemble(
    history: Sequence[ResponseItem], summary: Sequence[ResponseItem], budgets: Budgets
) -> list[ResponseItem]:
    """The compacted history for `history`, in the order of the module docstring."""
    initial = initial_context(history)
    out: list[ResponseItem] = list(initial)
    environment = latest_environment(history, initial)
    if environment is not None:
        out.append(environment)
    turns = user_turns(history)
    recent = recent_user_messages(turns, budgets.user_messages)
    if turns and turns[0] not in recent:
        out.append(_user_text(turns[0], budgets.user_messages))
    # The summary is cut like a user message (head and tail kept: its tags survive); an
    # opaque `compaction` item from the provider is kept whole.
    out.extend(_user_text(s, budgets.summary) if isinstance(s, MessageItem) else s for s in summary)
    plan = current_plan(history)
    if plan is not None:
        out.append(plan)
    out.extend(recent)
    out.extend(last_turn_tool_results(history, budgets.tool_results))
    return out


def build_replacement(
    history: Sequence[ResponseItem],
    summary: Sequence[ResponseItem],
    threshold: int | None,
) -> list[ResponseItem] | None:
    """The smallest faithful replacement for `history`, or None when none is smaller.

    The budgets are halved (up to three times) while the result is not smaller than what
    it replaces: a compaction must never grow the context (a second `/compact` in a row
    would otherwise add a summary of a summary to an already small history).
    """
    before = estimate_tokens(history)
    budgets = Budgets.for_threshold(threshold)
    for _ in range(4):
        candidate = assemble(history, summary, budgets)
        if estimate_tokens(candidate) <= before:
            return candidate
        budgets = budgets.halved()
    return None
