"""What pycodex knows about model families without asking the provider."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    context_window: int | None
    # Share of the window usable before the model's output runs out of room.
    effective_window_percent: int = 95


_FAMILIES: tuple[tuple[str, ModelInfo], ...] = (
    ("gpt-6", ModelInfo(272_000)),
    ("gpt-5", ModelInfo(272_000)),
    ("codex-", ModelInfo(272_000)),
    ("gpt-4.1", ModelInfo(1_047_576)),
    ("gpt-4o", ModelInfo(128_000)),
    ("o3", ModelInfo(200_000)),
    ("o4-mini", ModelInfo(200_000)),
    ("gpt-oss", ModelInfo(128_000)),
)


def model_info(slug: str) -> ModelInfo:
    for prefix, info in _FAMILIES:
        if slug.startswith(prefix):
            return info
    return ModelInfo(None)


def effective_context_window(slug: str, configured: int | None) -> int | None:
    """The window the UI reports: the configured one, else the family's, minus headroom."""
    info = model_info(slug)
    window = configured if configured is not None else info.context_window
    if window is None:
        return None
    return window * info.effective_window_percent // 100
