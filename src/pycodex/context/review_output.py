"""The reviewer's answer: parsed into findings, rendered for the user and the parent thread.

A reviewer is asked for one JSON object, but models wrap it in prose or a code fence, or
answer in plain text. :func:`parse_review_output` takes, in order: the whole answer as
JSON, the outermost ``{…}`` in it as JSON, and failing both the text itself as the
overall explanation — a review is never lost to a formatting slip. Fields are normalised
rather than trusted: titles cut to 80 characters, confidence clamped to 0–1, priority to
0–3, relative paths made absolute, a reversed line range put right.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pycodex.protocol.review import (
    ReviewCodeLocation,
    ReviewFinding,
    ReviewLineRange,
    ReviewOutput,
)

MAX_TITLE_CHARS = 80
PRIORITY_LABELS = ("P0", "P1", "P2", "P3")


def parse_review_output(text: str, cwd: Path | None = None) -> ReviewOutput:
    """The structured review in `text` (see the module docstring)."""
    for candidate in (text, _outermost_object(text)):
        if candidate is None:
            continue
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict) and _looks_like_review(data):
            return _review_from(data, cwd)
    return ReviewOutput(overall_explanation=text.strip())


def _outermost_object(text: str) -> str | None:
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else None


def _looks_like_review(data: dict[str, Any]) -> bool:
    keys = {"findings", "overall_correctness", "overall_explanation", "overall_confidence_score"}
    return bool(keys & data.keys())


def _review_from(data: dict[str, Any], cwd: Path | None) -> ReviewOutput:
    raw = data.get("findings")
    findings = [f for item in raw if (f := _finding(item, cwd)) is not None] if isinstance(raw, list) else []
    return ReviewOutput(
        findings=findings,
        overall_correctness=_text(data.get("overall_correctness")),
        overall_explanation=_text(data.get("overall_explanation")),
        overall_confidence_score=_unit(data.get("overall_confidence_score")),
    )


def _finding(item: Any, cwd: Path | None) -> ReviewFinding | None:
    if not isinstance(item, dict):
        return None
    title = " ".join(_text(item.get("title")).split())
    body = _text(item.get("body")).strip()
    if not title and not body:
        return None  # nothing a user could act on
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    return ReviewFinding(
        title=title or body.splitlines()[0][:MAX_TITLE_CHARS],
        body=body,
        confidence_score=_unit(item.get("confidence_score")),
        priority=_priority(item.get("priority")),
        code_location=_location(item.get("code_location"), cwd),
    )


def _location(raw: Any, cwd: Path | None) -> ReviewCodeLocation:
    loc = raw if isinstance(raw, dict) else {}
    path = _text(loc.get("absolute_file_path") or loc.get("file_path") or loc.get("path"))
    if path and cwd is not None and not Path(path).is_absolute():
        path = str(cwd / path)
    lines = loc.get("line_range") if isinstance(loc.get("line_range"), dict) else {}
    assert isinstance(lines, dict)
    start = _int(lines.get("start"), 1)
    end = _int(lines.get("end"), start)
    start, end = max(1, min(start, end)), max(1, start, end)
    return ReviewCodeLocation(absolute_file_path=path, line_range=ReviewLineRange(start=start, end=end))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        digits = value.strip().lstrip("Pp")
        if digits.isdigit():
            return int(digits)
    return default


def _unit(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return min(1.0, max(0.0, float(value)))


def _priority(value: Any) -> int:
    return min(3, max(0, _int(value, 3)))


# --- rendering ------------------------------------------------------------------------


def format_finding(finding: ReviewFinding) -> str:
    """`- [P1] Title — /path/file.py:10-12` and the body indented under it."""
    loc = finding.code_location
    where = loc.absolute_file_path
    if where:
        lines = loc.line_range
        where += f":{lines.start}" if lines.start == lines.end else f":{lines.start}-{lines.end}"
    head = f"- [{PRIORITY_LABELS[finding.priority]}] {finding.title}" + (f" — {where}" if where else "")
    body = "\n".join(f"  {line}" if line else "" for line in finding.body.splitlines())
    return f"{head}\n{body}" if body else head


def render_review(output: ReviewOutput) -> str:
    """The review as a person reads it: the verdict, then each finding, most urgent first."""
    parts: list[str] = []
    explanation = output.overall_explanation.strip()
    if explanation:
        parts.append(explanation)
    if output.overall_correctness:
        parts.append(f"Verdict: {output.overall_correctness} (confidence {output.overall_confidence_score:.2f})")
    findings = sorted(output.findings, key=lambda f: f.priority)
    if findings:
        parts.append("Findings:\n" + "\n".join(format_finding(f) for f in findings))
    elif explanation or output.overall_correctness:
        parts.append("No findings.")
    return "\n\n".join(parts) if parts else "The reviewer gave no answer."


INTERRUPTED_TEXT = "The review was interrupted before it finished; run it again to get its findings."


def review_summary_message(output: ReviewOutput | None) -> str:
    """The one message the parent thread keeps of a review: what the user asked for and
    what the reviewer found, so a later turn can act on the findings ("fix the P1")."""
    if output is None:
        context = (
            "The user asked for a code review, but it was interrupted before the reviewer "
            "finished. There are no results; if the user wants them, the review must be run again."
        )
        results = "None."
    else:
        context = (
            "The user asked for a code review; an isolated reviewer produced the results "
            "below. The user may ask you to address some or all of these findings."
        )
        results = render_review(output)
    return (
        "<user_action>\n"
        f"  <context>{context}</context>\n"
        "  <action>review</action>\n"
        f"  <results>\n{results}\n  </results>\n"
        "</user_action>"
    )
