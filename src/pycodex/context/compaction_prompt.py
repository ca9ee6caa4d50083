"""The words of a compaction: what the model is asked, and how its answer is framed.

The summarisation request is the thread's own history followed by one user message,
:data:`SUMMARY_REQUEST`. Its answer goes back into the history inside
``<conversation_summary>`` tags (a context message, never a user turn), introduced by a
line telling the model what it is reading. A `compact_prompt` in config.toml replaces
the request text; the framing stays, so a later compaction still recognises the summary.
"""

from __future__ import annotations

from pycodex.context.history import PLAN_PREFIX, SUMMARY_PREFIX

SUMMARY_SUFFIX = "</conversation_summary>"
PLAN_SUFFIX = "</current_plan>"

# Our own text. It asks for the state of the work, not a narrative: what a colleague
# taking over mid-task needs so nothing is done twice and nothing is forgotten. What is
# kept verbatim anyway (the first task, recent messages, rules, plan) is named so the
# model spends its words on the rest.
SUMMARY_REQUEST = """\
Context checkpoint. The conversation above is about to be cut down to fit the model's \
context window. The first task, the most recent user messages, the project instructions \
(AGENTS.md), the current plan and the latest tool results will be kept word for word; \
everything else will be replaced by the note you write now.

Write that note for whoever continues this work with no other memory of it. Be concrete \
and terse; use Markdown headings:

## Goal
What the user wants overall, with every constraint, preference and acceptance \
criterion they stated (quote exact names, paths, commands, versions).

## Done so far
Each change already made and each fact established: files touched (paths), commands \
run and what they showed, tests passing or failing. Say what is verified and what is \
assumed.

## Dead ends
Approaches tried that failed or were rejected, and why, so they are not retried.

## In progress / next
The step being worked on when this note was written and the remaining steps, in order.

## Open questions
Anything unresolved or waiting on the user.

Do not call tools. Do not add anything that did not happen. Answer with the note only."""

SUMMARY_INTRO = (
    "Earlier parts of this conversation were compacted to save context. "
    "This is the hand-over note written at that point; the messages after it are kept as they were."
)

PLAN_INTRO = "The plan as last set with `update_plan` (kept verbatim through compaction):"

EMPTY_SUMMARY = "(the model returned no summary)"


def summary_text(note: str) -> str:
    """The history message a summary becomes."""
    body = note.strip() or EMPTY_SUMMARY
    return f"{SUMMARY_PREFIX}\n{SUMMARY_INTRO}\n\n{body}\n{SUMMARY_SUFFIX}"


def plan_text(rendered_plan: str) -> str:
    return f"{PLAN_PREFIX}\n{PLAN_INTRO}\n{rendered_plan}\n{PLAN_SUFFIX}"


def request_text(custom: str | None) -> str:
    """The summarisation request: `compact_prompt` from config when set, else ours."""
    return custom.strip() if custom and custom.strip() else SUMMARY_REQUEST
