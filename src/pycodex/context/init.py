"""`/init`: write an AGENTS.md for a repository, from one model turn.

The model explores the repository read-only (its usual shell tools) and answers with the
file's Markdown as its final message; :func:`run_init` writes that answer itself, with an
exclusive create, so an AGENTS.md that exists — or appears meanwhile — is never
overwritten. The engine is driven through the thread's queue pair only (`submit`,
`next_event`), so any front end can offer it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from pycodex.protocol.events import (
    ErrorEvent,
    Event,
    TaskCompleteEvent,
    TurnAbortedEvent,
)
from pycodex.protocol.ops import Op, UserInputOp
from pycodex.protocol.user_input import TextInput

INIT_PROMPT = """\
Write the AGENTS.md file for this repository: the guide a coding agent reads before it \
changes anything here. First look around — the layout, the build and dependency files, \
the test setup, CI configuration, linters and formatters, and a few representative \
source files — using read-only commands. Do not create or modify any file yourself.

Then answer with the complete Markdown content of AGENTS.md and nothing else (no code \
fence around it, no preamble). Keep it short and specific to this repository, roughly \
200 to 400 words, with sections such as:
- Project layout: where the source, tests and tooling live.
- Build, test and run: the exact commands, including how to run a single test.
- Code style: the conventions and tools actually in use (formatter, linter, typing).
- Testing expectations: what a change must come with, and how tests are organised.
- Commits and pull requests: conventions visible in the history or templates.
Only state what you verified in the repository; leave out any section you could not \
support from what you saw.
"""

_FENCE = re.compile(r"^\s*```(?:markdown|md)?\s*\n(?P<body>.*?)\n```\s*$", re.DOTALL)


class InitError(Exception):
    """AGENTS.md cannot be written (it exists, or the model gave nothing usable)."""


class EngineThread(Protocol):
    async def submit(self, op: Op) -> str: ...

    async def next_event(self) -> Event: ...


def agents_md_target(cwd: Path) -> Path:
    """Where `/init` writes; refuses early when a file is already there."""
    target = cwd / "AGENTS.md"
    if target.exists():
        raise InitError(f"{target} already exists; it was left as it is (remove it first to regenerate)")
    return target


def document_from(answer: str) -> str:
    """The file's text from the model's answer: a fence around it all is taken off."""
    match = _FENCE.match(answer)
    text = (match.group("body") if match else answer).strip()
    if not text:
        raise InitError("the model gave no AGENTS.md content; nothing was written")
    return text + "\n"


def write_exclusive(target: Path, text: str) -> None:
    try:
        with target.open("x", encoding="utf-8") as fh:  # never replaces an existing file
            fh.write(text)
    except FileExistsError:
        raise InitError(f"{target} appeared while the model was working; it was left as it is") from None


async def run_init(thread: EngineThread, cwd: Path) -> Path:
    """One turn with :data:`INIT_PROMPT`, then its answer written to `cwd/AGENTS.md`."""
    target = agents_md_target(cwd)
    await thread.submit(UserInputOp(items=[TextInput(text=INIT_PROMPT)]))
    error: str | None = None
    while True:
        msg = (await thread.next_event()).msg
        if isinstance(msg, ErrorEvent):
            error = msg.message
        elif isinstance(msg, TurnAbortedEvent):
            raise InitError("interrupted; nothing was written")
        elif isinstance(msg, TaskCompleteEvent):
            break
    if error is not None:
        raise InitError(f"{error}; nothing was written")
    write_exclusive(target, document_from(msg.last_agent_message or ""))
    return target
