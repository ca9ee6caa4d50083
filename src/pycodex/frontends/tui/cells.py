"""Transcript cells: each kind of thing the thread shows, rendered to terminal lines.

A cell is plain state; `render(width, theme)` turns it into ANSI lines (rich does the
Markdown, the syntax highlighting and the wrapping) and never looks at the terminal, so
cells are tested as pure functions and printed once into the terminal's own scrollback.
Long command output is cut to its tail here; `render_expanded` (the Ctrl-T overlay) shows
all of it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from pycodex.frontends.tui.theme import Theme

OUTPUT_TAIL_LINES = 8


def render_rich(renderable: Any, width: int, theme: Theme) -> list[str]:
    """`renderable` as the lines a terminal `width` columns wide shows."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer, width=max(width, 20), force_terminal=theme.color, no_color=not theme.color,
        color_system="truecolor" if theme.color else None, highlight=False, emoji=False,
        legacy_windows=False,
    )
    console.print(renderable, end="")
    return buffer.getvalue().split("\n")


def _styled(text: str, style: str, width: int, theme: Theme) -> list[str]:
    from rich.text import Text

    return render_rich(Text(text, style=style if theme.color else ""), width, theme)


@dataclass
class UserCell:
    text: str

    def render(self, width: int, theme: Theme) -> list[str]:
        from rich.text import Text

        body = Text("› ", style="bold" if theme.color else "")
        body.append(self.text, style=theme.user if theme.color else "")
        return ["", *render_rich(body, width, theme)]


@dataclass
class AgentCell:
    text: str

    def render(self, width: int, theme: Theme) -> list[str]:
        from rich.markdown import Markdown

        markdown = Markdown(hard_line_breaks(self.text), code_theme=theme.code_theme)
        lines = render_rich(markdown, width - 2, theme)
        return ["", *("• " + lines[0] if i == 0 else "  " + line for i, line in enumerate(lines))]


def hard_line_breaks(text: str) -> str:
    """Keep the model's line breaks: Markdown would join consecutive lines into one
    paragraph, but an answer's lines are meant as lines (outside code blocks, where they
    are kept anyway)."""
    out: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            out.append(line)
            continue
        out.append(line if fenced or not line.strip() else line + "  ")
    return "\n".join(out)


@dataclass
class ReasoningCell:
    text: str

    def render(self, width: int, theme: Theme) -> list[str]:
        return ["", *_styled(self.text.strip(), "italic dim", width, theme)]


@dataclass
class CommandCell:
    command: str
    output: str = ""
    exit_code: int | None = None
    status: str = "inProgress"
    source: str = "agent"

    def _header(self, theme: Theme) -> Any:
        from rich.text import Text

        mark = {"completed": "✓", "failed": "✗", "declined": "⊘"}.get(self.status, "…")
        if self.status == "completed" and self.exit_code not in (0, None):
            mark = "✗"
        header = Text(f"{mark} ", style=("green" if mark == "✓" else "red") if theme.color else "")
        header.append("$ " + self.command, style="bold" if theme.color else "")
        if self.exit_code not in (None, 0):
            header.append(f"  (exit {self.exit_code})", style="red" if theme.color else "")
        if self.status == "declined":
            header.append("  (declined)", style="yellow" if theme.color else "")
        return header

    def render(self, width: int, theme: Theme) -> list[str]:
        return self._render(width, theme, OUTPUT_TAIL_LINES)

    def render_expanded(self, width: int, theme: Theme) -> list[str]:
        return self._render(width, theme, None)

    def _render(self, width: int, theme: Theme, tail: int | None) -> list[str]:
        lines = ["", *render_rich(self._header(theme), width, theme)]
        output = self.output.rstrip("\n").split("\n") if self.output.strip() else []
        hidden = 0
        if tail is not None and len(output) > tail:
            hidden, output = len(output) - tail, output[-tail:]
        if hidden:
            lines += _styled(f"  … {hidden} earlier lines (Ctrl-T shows all)", "dim", width, theme)
        for line in output:
            lines += _styled("  " + line, "dim", width, theme)
        return lines


@dataclass
class PatchCell:
    changes: list[dict[str, Any]]
    status: str = "inProgress"

    def render(self, width: int, theme: Theme) -> list[str]:
        from rich.text import Text

        verb = {"completed": "Edited", "failed": "Failed to edit", "declined": "Declined edit of"}
        title = Text(f"{verb.get(self.status, 'Editing')} ", style="bold" if theme.color else "")
        title.append(", ".join(str(c.get("path")) for c in self.changes))
        lines = ["", *render_rich(title, width, theme)]
        for change in self.changes:
            lines += diff_lines(str(change.get("diff") or ""), width, theme)
        return lines


def diff_lines(diff: str, width: int, theme: Theme) -> list[str]:
    """A unified diff, its added and removed lines coloured."""
    out: list[str] = []
    for line in diff.rstrip("\n").split("\n") if diff else []:
        style = ""
        if line.startswith("+") and not line.startswith("+++"):
            style = theme.added
        elif line.startswith("-") and not line.startswith("---"):
            style = theme.removed
        elif line.startswith("@@"):
            style = "cyan"
        out += _styled("  " + line, style, width, theme)
    return out


@dataclass
class DiffCell:
    diff: str

    def render(self, width: int, theme: Theme) -> list[str]:
        return ["", *diff_lines(self.diff, width, theme)]


@dataclass
class PlanCell:
    steps: list[dict[str, Any]]
    explanation: str | None = None

    def render(self, width: int, theme: Theme) -> list[str]:
        marks = {"completed": "[x]", "inProgress": "[~]", "pending": "[ ]"}
        lines = ["", *_styled("Plan" + (f": {self.explanation}" if self.explanation else ""), "bold", width, theme)]
        for step in self.steps:
            lines += _styled(f"  {marks.get(str(step.get('status')), '[ ]')} {step.get('step')}", "", width, theme)
        return lines


@dataclass
class NoticeCell:
    text: str
    kind: str = "info"  # info | error | warning

    def render(self, width: int, theme: Theme) -> list[str]:
        style = {"error": "red", "warning": "yellow"}.get(self.kind, "dim")
        prefix = {"error": "■ ", "warning": "⚠ "}.get(self.kind, "")
        return ["", *_styled(prefix + self.text, style, width, theme)]

