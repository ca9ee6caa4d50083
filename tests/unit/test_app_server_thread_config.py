"""A request's `config` object becomes `-c key=value` overrides, dotted, values in TOML."""

from __future__ import annotations

from pycodex.config.request import config_flags


def test_nested_config_becomes_dotted_toml_overrides() -> None:
    flags = config_flags({
        "model_reasoning_effort": "high",
        "sandbox_workspace_write": {"network_access": True, "writable_roots": ["/a", "/b"]},
        "skipped": None,
    })
    assert flags == [
        'model_reasoning_effort="high"',
        "sandbox_workspace_write.network_access=true",
        'sandbox_workspace_write.writable_roots=["/a", "/b"]',
    ]


def test_no_config_means_no_overrides() -> None:
    assert config_flags(None) == [] and config_flags({}) == []
