"""Code review requests and results (``Op.review``, ``entered/exited_review_mode``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from pycodex.protocol._wire import OmitNone, WireModel


class ReviewRequest(WireModel):
    """What to review.

    Codex started with ``{prompt}`` and later moved to ``{target}`` (``{"type":
    "uncommittedChanges"}``, ``{"type": "baseBranch", "branch"}``, ``{"type": "commit",
    "sha", "title"}``, ``{"type": "custom", "instructions"}``); both forms load.
    """

    prompt: OmitNone[str] = None
    target: OmitNone[dict[str, Any]] = None
    user_facing_hint: OmitNone[str] = None


class ReviewLineRange(WireModel):
    start: int
    end: int


class ReviewCodeLocation(WireModel):
    absolute_file_path: str
    line_range: ReviewLineRange


class ReviewFinding(WireModel):
    title: str
    body: str
    confidence_score: float
    priority: int
    code_location: ReviewCodeLocation


class ReviewOutput(WireModel):
    findings: list[ReviewFinding] = Field(default_factory=list)
    overall_correctness: str = ""
    overall_explanation: str = ""
    overall_confidence_score: float = 0.0
