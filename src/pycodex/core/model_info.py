"""What pycodex knows about model families without asking the provider."""

from __future__ import annotations

import msgspec


class ModelInfo(msgspec.Struct, frozen=True):
    context_window: int | None
    # Share of the window usable before the model's output runs out of room.
    effective_window_percent: int = 95
    # Reasoning models always reason. With `store: false` their reasoning items can only be
    # sent back if the request asked for them encrypted, which needs a `reasoning` block;
    # so they get a default effort (Codex's: medium) when the user set none.
    default_reasoning_effort: str | None = None
    # Sent as `text.verbosity` when the user set none. Only models known to accept the
    # parameter have one: for others the field could be rejected.
    default_verbosity: str | None = None
    # Takes images as input: it is offered `view_image`.
    supports_images: bool = False
    # An OpenAI model: the provider's hosted tools (`web_search`) can be offered to it.
    hosted_tools: bool = False


_REASONING = "medium"


def _openai(
    window: int, effort: str | None = _REASONING, verbosity: str | None = None
) -> ModelInfo:
    """An OpenAI model: reads images and can use the hosted tools."""
    return ModelInfo(
        window,
        default_reasoning_effort=effort,
        default_verbosity=verbosity,
        supports_images=True,
        hosted_tools=True,
    )


# Models of Codex's bundled catalog (`codex debug models`, 0.163): for these exact slugs
# Codex sends the catalog's defaults, and so do we, so a request matches Codex's.
_CATALOG: dict[str, ModelInfo] = {
    slug: _openai(window, effort, verbosity)
    for slug, window, effort, verbosity in (
        ("gpt-6-astra", 272_000, "low", "low"),
        ("gpt-6.1-sol", 272_000, "low", "low"),
        ("gpt-6-sol", 272_000, "medium", "low"),
        ("gpt-6-luna", 272_000, "medium", "low"),
        ("gpt-5.6-sol", 272_000, "low", "low"),
        ("gpt-5.6-terra", 272_000, "medium", "low"),
        ("gpt-5.6-luna", 272_000, "medium", "low"),
        ("gpt-5.5", 272_000, "medium", "low"),
        ("gpt-daybreak-blue-latest", 272_000, "low", "low"),
        ("gpt-daybreak-red-latest", 372_000, "medium", "high"),
        ("codex-auto-review", 272_000, "medium", "low"),
    )
}
_FAMILIES: tuple[tuple[str, ModelInfo], ...] = (
    ("gpt-6", _openai(272_000)),
    ("gpt-5", _openai(272_000)),
    ("codex-", _openai(272_000)),
    ("gpt-4.1", _openai(1_047_576, effort=None)),
    ("gpt-4o", _openai(128_000, effort=None)),
    ("o3", _openai(200_000)),
    ("o4-mini", _openai(200_000)),
    ("gpt-oss", ModelInfo(128_000)),
)


def model_info(slug: str) -> ModelInfo:
    # Providers such as OpenRouter prefix the vendor: "openai/gpt-5.5".
    name = slug.rsplit("/", 1)[-1]
    if name in _CATALOG:
        return _CATALOG[name]
    for prefix, info in _FAMILIES:
        if name.startswith(prefix):
            return info
    return ModelInfo(None)


def effective_reasoning_effort(slug: str, configured: str | None) -> str | None:
    """The effort to request: the user's, else the model family's default."""
    return configured if configured is not None else model_info(slug).default_reasoning_effort


def effective_verbosity(slug: str, configured: str | None) -> str | None:
    """The `text.verbosity` to request: the user's, else the catalog default of the model."""
    return configured if configured is not None else model_info(slug).default_verbosity


def effective_context_window(slug: str, configured: int | None) -> int | None:
    """The window the UI reports: the configured one, else the family's, minus headroom."""
    info = model_info(slug)
    window = configured if configured is not None else info.context_window
    if window is None:
        return None
    return window * info.effective_window_percent // 100
