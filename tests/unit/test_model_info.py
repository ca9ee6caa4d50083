from __future__ import annotations

import pytest

from pycodex.core.model_info import (
    effective_context_window,
    effective_reasoning_effort,
    effective_verbosity,
)


@pytest.mark.parametrize(
    "slug, configured, expected",
    [
        ("gpt-5.5", None, "medium"),
        ("openai/gpt-5.5", None, "medium"),
        ("o3", None, "medium"),
        ("gpt-5.5", "high", "high"),
        ("gpt-5.5", "none", "none"),
        ("gpt-6-astra", None, "low"),  # catalog default, not the family's
        ("gpt-5.1-codex", None, "medium"),
        ("gpt-4.1", None, None),
        ("qwen2.5-coder", None, None),
    ],
)
def test_effective_reasoning_effort(slug: str, configured: str | None, expected: str | None) -> None:
    assert effective_reasoning_effort(slug, configured) == expected


def test_context_window_keeps_headroom_and_honours_config() -> None:
    assert effective_context_window("gpt-5.5", None) == 258_400  # 95 % of 272k, as Codex reports
    assert effective_context_window("unknown", None) is None
    assert effective_context_window("unknown", 100_000) == 95_000


@pytest.mark.parametrize(
    "slug, configured, expected",
    [
        ("gpt-5.5", None, "low"),  # Codex's catalog: text.verbosity "low"
        ("openai/gpt-daybreak-red-latest", None, "high"),
        ("gpt-5.5", "high", "high"),
        ("gpt-5.1-codex", None, None),  # not in the catalog: no verbosity, as Codex
        ("qwen2.5-coder", None, None),
        ("qwen2.5-coder", "medium", "medium"),
    ],
)
def test_effective_verbosity(slug: str, configured: str | None, expected: str | None) -> None:
    assert effective_verbosity(slug, configured) == expected
