"""Human-readable `exec` output: progress on stderr, the final message alone on stdout.

Keeping stdout to the final answer lets `pycodex exec "..." > answer.md` and shell
pipelines work; everything a person watches goes to stderr.
"""

from __future__ import annotations

from typing import TextIO

import msgspec

from pycodex import __version__
from pycodex.core import join_command
from pycodex.protocol.event_payloads import (
    ExecCommandBeginEvent,
    ExecCommandEndEvent,
    McpToolCallBeginEvent,
    McpToolCallEndEvent,
    PatchApplyBeginEvent,
    PatchApplyEndEvent,
    WebSearchEndEvent,
)
from pycodex.protocol.events import (
    AgentMessageEvent,
    AgentReasoningEvent,
    ErrorEvent,
    EventMsg,
    PlanUpdateEvent,
    SessionConfiguredEvent,
    StreamErrorEvent,
    TaskCompleteEvent,
    TokenCountEvent,
    TurnDiffEvent,
    WarningEvent,
)

# Shown per command: enough to follow along; the model sees its own (longer) excerpt.
MAX_OUTPUT_LINES = 20


class Style(msgspec.Struct):
    enabled: bool

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def magenta(self, text: str) -> str:
        return self._wrap("35", text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def red(self, text: str) -> str:
        return self._wrap("31", text)

    def cyan(self, text: str) -> str:
        return self._wrap("36", text)


class HumanRenderer(msgspec.Struct):
    err: TextIO
    style: Style
    header: dict[str, str]
    prompt: str
    show_reasoning: bool = True
    last_agent_message: str | None = None
    turn_error: str | None = None
    _tokens: int | None = None
    _commands: dict[str, str] = msgspec.field(default_factory=dict)
    # The engine repeats the turn's diff after every response; it is printed when it changed.
    _last_diff: str | None = None

    def _print(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def process(self, msg: EventMsg) -> None:
        s = self.style
        if isinstance(msg, SessionConfiguredEvent):
            self._print(f"pycodex v{__version__}")
            self._print("--------")
            for key, value in self.header.items():
                self._print(f"{s.bold(key + ':')} {value}")
            self._print(f"{s.bold('session id:')} {msg.session_id}")
            self._print("--------")
            self._print(s.cyan(s.bold("user")))
            self._print(self.prompt)
        elif isinstance(msg, AgentReasoningEvent) and self.show_reasoning:
            self._print(s.magenta(s.bold("thinking")))
            self._print(s.dim(msg.text))
        elif isinstance(msg, AgentMessageEvent):
            self.last_agent_message = msg.message
            self._print(s.magenta(s.bold("codex")))
            self._print(msg.message)
        elif isinstance(msg, ExecCommandBeginEvent):
            command = join_command(msg.command)
            self._commands[msg.call_id] = command
            self._print(s.magenta(s.bold("exec")))
            self._print(f"{s.bold(command)} in {msg.cwd}")
        elif isinstance(msg, ExecCommandEndEvent):
            ms = msg.duration.total_ms()
            verdict = (
                s.green(f" succeeded in {ms}ms:")
                if msg.exit_code == 0
                else s.red(f" exited {msg.exit_code} in {ms}ms:")
            )
            self._print(verdict)
            lines = msg.aggregated_output.splitlines()
            if len(lines) > MAX_OUTPUT_LINES:
                hidden = len(lines) - MAX_OUTPUT_LINES
                lines = [*lines[: MAX_OUTPUT_LINES // 2], f"... ({hidden} lines hidden)", *lines[-MAX_OUTPUT_LINES // 2 :]]
            if lines:
                # Like Codex: the output verbatim, then a line break, so output that ends
                # in a newline is followed by a blank line before the next block.
                tail = "\n" if msg.aggregated_output.endswith("\n") else ""
                self._print(s.dim("\n".join(lines)) + tail)
        elif isinstance(msg, PatchApplyBeginEvent):
            self._print(s.magenta(s.bold("apply_patch")))
            for path in sorted(msg.changes):
                self._print(f"{msg.changes[path].type[0].upper()} {path}")
        elif isinstance(msg, PatchApplyEndEvent):
            self._print(s.green(" patch applied") if msg.success else s.red(" patch failed: " + msg.stderr.strip()))
        elif isinstance(msg, McpToolCallBeginEvent):
            self._print(s.magenta(s.bold("tool")) + f" {msg.invocation.server}.{msg.invocation.tool}")
        elif isinstance(msg, McpToolCallEndEvent):
            self._print(s.green(" done") if msg.is_success() else s.red(" failed"))
        elif isinstance(msg, WebSearchEndEvent):
            self._print(s.magenta(s.bold("web search")) + f" {msg.query}")
        elif isinstance(msg, PlanUpdateEvent):
            self._print(s.magenta(s.bold("plan")))
            marks = {"completed": "[x]", "in_progress": "[~]", "pending": "[ ]"}
            for step in msg.plan:
                self._print(f"  {marks[step.status]} {step.step}")
        elif isinstance(msg, TurnDiffEvent) and msg.unified_diff != self._last_diff:
            self._last_diff = msg.unified_diff
            self._print(s.magenta(s.bold("turn diff")))
            self._print(s.dim(msg.unified_diff.rstrip("\n")))
        elif isinstance(msg, TokenCountEvent):
            if msg.info is not None:
                total = msg.info.total_token_usage
                self._tokens = total.non_cached_input() + total.output_tokens
        elif isinstance(msg, StreamErrorEvent):
            self._print(s.dim(msg.message))
        elif isinstance(msg, WarningEvent):
            self._print(s.red("warning: ") + msg.message)
        elif isinstance(msg, ErrorEvent):
            self.turn_error = msg.message
            self._print(s.red("ERROR: ") + msg.message)
        elif isinstance(msg, TaskCompleteEvent) and self._tokens is not None:
            self._print(s.magenta(s.bold("tokens used")))
            self._print(f"{self._tokens:,}")
