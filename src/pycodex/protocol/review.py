"""Code review requests and results (``Op.review``, ``entered/exited_review_mode``)."""

from __future__ import annotations

from typing import Any

import msgspec

from pycodex.protocol._wire import OmitNone, WireModel


class ReviewRequest(WireModel, kw_only=True):
    """What to review.

    Codex started with ``{prompt}`` and later moved to ``{target}`` (``{"type":
    "uncommittedChanges"}``, ``{"type": "baseBranch", "branch"}``, ``{"type": "commit",
    "sha", "title"}``, ``{"type": "custom", "instructions"}``); both forms load.
    """

    prompt: OmitNone[str] = None
    target: OmitNone[dict[str, Any]] = None
    user_facing_hint: OmitNone[str] = None


class ReviewLineRange(WireModel, kw_only=True):
    start: int
    end: int


class ReviewCodeLocation(WireModel, kw_only=True):
    absolute_file_path: str
    line_range: ReviewLineRange


class ReviewFinding(WireModel, kw_only=True):
    title: str
    body: str
    confidence_score: float
    priority: int
    code_location: ReviewCodeLocation


class ReviewOutput(WireModel, kw_only=True):
    findings: list[ReviewFinding] = msgspec.field(default_factory=list)
    overall_correctness: str = ""
    overall_explanation: str = ""
    overall_confidence_score: float = 0.0
