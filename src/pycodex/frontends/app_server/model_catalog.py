"""The model catalogue `model/list` answers with: Codex 0.163's bundled models, described as
Codex describes them (`reference/app-server/examples.json`, `model/list`), in its order.

The engine's request defaults for these slugs live in `pycodex.core.model_info`; this is
the presentation a picker needs (names, descriptions, efforts, upgrades).
"""

from __future__ import annotations

from typing import Any

JsonObj = dict[str, Any]

_EFFORTS = {
    "low": "Fast responses with lighter reasoning",
    "medium": "Balances speed and reasoning depth for everyday tasks",
    "high": "Greater reasoning depth for complex problems",
    "xhigh": "Extra high reasoning depth for complex problems",
    "max": "Maximum reasoning depth for the hardest problems",
    "ultra": "Maximum reasoning with automatic task delegation",
}
_ALL = ("low", "medium", "high", "xhigh", "max", "ultra")
_NO_ULTRA = _ALL[:-1]
_SOL_NOTE = (
    "Meet GPT-6 Sol\n\nOur latest Sol is more intelligent and more efficient so your usage "
    "limits go further. This model is a great daily driver for complex tasks, especially coding.\n"
)
_LUNA_NOTE = (
    "Meet GPT-6 Luna\n\nOur latest Luna is significantly more efficient, so your usage limits go "
    "even further. Reach for it for any job that doesn't require frontier intelligence.\n"
)
_NUX = "Maximize usage with GPT-6.1 Sol. Try it on complex work for near-Astra performance at a lower cost."
_FAST = "2x speed, increased usage"
_FAST_15 = "1.5x speed"
_FAST_15_MORE = "1.5x speed, increased usage"

# slug, display name, description, default effort, efforts, multi-agent version,
# fast tier text, default tier, upgrade (slug, note), hidden
_MODELS: tuple[tuple[Any, ...], ...] = (
    ("gpt-6.1-sol", "GPT-6.1-Sol", "Latest workhorse model for coding and everyday work.",
     "low", _ALL, "v2", _FAST, None, None, False),
    ("gpt-6-astra", "GPT-6-Astra", "Frontier intelligence for the most demanding work.",
     "low", _ALL, "v2", _FAST, None, None, False),
    ("gpt-6-sol", "GPT-6-Sol", "Previous generation workhorse model.",
     "medium", _ALL, "v2", _FAST_15, "priority", None, False),
    ("gpt-6-luna", "GPT-6-Luna", "Fast and affordable model for easier tasks.",
     "medium", _NO_ULTRA, "v2", _FAST_15, "priority", None, False),
    ("gpt-5.6-sol", "GPT-5.6-Sol", "Older generation workhorse model.",
     "low", _ALL, "v2", _FAST_15_MORE, None, ("gpt-6-sol", _SOL_NOTE), False),
    ("gpt-5.6-terra", "GPT-5.6-Terra", "Older balanced model for straightforward work.",
     "medium", _ALL, "v2", _FAST_15_MORE, None, ("gpt-6-sol", _SOL_NOTE), False),
    ("gpt-5.6-luna", "GPT-5.6-Luna", "Older fast and efficient model.",
     "medium", _NO_ULTRA, "v1", _FAST_15_MORE, None, ("gpt-6-luna", _LUNA_NOTE), False),
    ("gpt-5.5", "GPT-5.5", "Legacy coding model.",
     "medium", ("low", "medium", "high", "xhigh"), None, _FAST_15_MORE, None, ("gpt-6-sol", _SOL_NOTE), False),
    # Codex's hidden catalogue entries (only with `includeHidden`).
    ("gpt-daybreak-blue-latest", "gpt-daybreak-blue-latest", "", "low", _ALL, None, None, None, None, True),
    ("gpt-daybreak-red-latest", "gpt-daybreak-red-latest", "", "medium", _ALL, None, None, None, None, True),
    ("codex-auto-review", "codex-auto-review", "", "medium", _ALL, None, None, None, None, True),
)
DEFAULT_MODEL = "gpt-6.1-sol"


def catalog(include_hidden: bool) -> list[JsonObj]:
    """The v2 `Model` entries, Codex's key order."""
    return [_model(*entry) for entry in _MODELS if include_hidden or not entry[-1]]


def _model(
    slug: str, name: str, description: str, effort: str, efforts: tuple[str, ...],
    multi_agent: str | None, fast: str | None, default_tier: str | None,
    upgrade: tuple[str, str] | None, hidden: bool,
) -> JsonObj:
    upgrade_info = None
    if upgrade is not None:
        upgrade_info = {"model": upgrade[0], "upgradeCopy": None, "modelLink": None,
                        "migrationMarkdown": upgrade[1], "retirementAt": None}
    return {
        "id": slug,
        "model": slug,
        "upgrade": upgrade[0] if upgrade else None,
        "upgradeInfo": upgrade_info,
        "availabilityNux": {"message": _NUX} if slug == DEFAULT_MODEL else None,
        "displayName": name,
        "description": description,
        "modelSpecialty": None,
        "hidden": hidden,
        "supportedReasoningEfforts": [{"reasoningEffort": e, "description": _EFFORTS[e]} for e in efforts],
        "defaultReasoningEffort": effort,
        "inputModalities": ["text", "image"],
        "supportsPersonality": False,
        "multiAgentVersion": multi_agent,
        "additionalSpeedTiers": ["fast"] if fast else [],
        "serviceTiers": [{"id": "priority", "name": "Fast", "description": fast}] if fast else [],
        "defaultServiceTier": default_tier,
        "availableAccessPrograms": None,
        "isDefault": slug == DEFAULT_MODEL,
    }
