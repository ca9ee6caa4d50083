"""Lockfile pieces: the per-key diff, and what a lockfile never holds (secrets)."""

from __future__ import annotations

from pathlib import Path

from pycodex.config.config import ConfigOverrides, load_config
from pycodex.config.lockfile import diff_tables, effective_table


def test_diff_names_each_changed_added_and_removed_key() -> None:
    locked = {"model": "a", "features": {"x": True, "y": False}, "gone": 1}
    now = {"model": "b", "features": {"x": True, "y": True}, "new": "v"}
    assert diff_tables(locked, now) == [
        "- features.y = false", "+ features.y = true", "- gone = 1",
        '- model = "a"', '+ model = "b"', '+ new = "v"',
    ]


def test_bearer_tokens_never_reach_a_lockfile(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PYCODEX_HOME": str(tmp_path / "h"),
           "CODEX_HOME": str(tmp_path / "c")}
    overrides = ConfigOverrides(cwd=tmp_path, config_overrides=[
        'model_provider="p"', 'model_providers.p.name="p"',
        'model_providers.p.experimental_bearer_token="sk-secret"',
    ])
    table = effective_table(load_config(overrides, env=env), save_catalog=False)
    assert "sk-secret" not in repr(table)
    assert table["model_providers"]["p"]["name"] == "p"
