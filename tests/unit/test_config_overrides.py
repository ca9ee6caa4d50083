"""`-c key=value` parsing and `--enable` / `--disable`."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.config import ConfigError
from pycodex.config.features import FEATURES, resolve_features
from pycodex.config.loader import parse_override
from tests.support.config_world import World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.mark.parametrize(
    ("arg", "path", "value"),
    [
        ("model_context_window=272000", ["model_context_window"], 272000),
        ("hide_agent_reasoning=true", ["hide_agent_reasoning"], True),
        ('notify=["notify-send", "done"]', ["notify"], ["notify-send", "done"]),
        (
            "history={persistence='none', max_bytes=10}",
            ["history"],
            {"persistence": "none", "max_bytes": 10},
        ),
        ('model="gpt-5.6-luna"', ["model"], "gpt-5.6-luna"),
        ("model='single quoted'", ["model"], "single quoted"),
        # Not TOML: falls back to the raw string, as Codex does.
        ("model=gpt-5.6-luna", ["model"], "gpt-5.6-luna"),
        ("developer_instructions=be brief", ["developer_instructions"], "be brief"),
        ("model = spaced ", ["model"], "spaced"),
        ("a.b.c=1", ["a", "b", "c"], 1),
        ('projects."/a/b".trust_level="trusted"', ["projects", "/a/b", "trust_level"], "trusted"),
        (
            "features.'guardianv2.thread_context'=false",
            ["features", "guardianv2.thread_context"],
            False,
        ),
        ("x=1\ny = 2", ["x"], "1\ny = 2"),
        ("url=http://h:1/v1?a=b", ["url"], "http://h:1/v1?a=b"),
    ],
)
def test_parse_override(arg: str, path: list[str], value: object) -> None:
    assert parse_override(arg) == (path, value)


@pytest.mark.parametrize("arg", ["model", "", "a..b=1", '"unterminated=1', "a b=1"])
def test_malformed_override_is_an_error_naming_the_argument(arg: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_override(arg)
    assert f"`{arg}`" in str(excinfo.value)


def test_missing_equals_error_from_load_config(world: World) -> None:
    with pytest.raises(ConfigError, match="`model_only`: expected key=value"):
        world.load(config_overrides=["model_only"])


def test_override_values_reach_the_config(world: World) -> None:
    config = world.load(
        config_overrides=[
            "model=gpt-5.6-luna",
            "model_context_window=272000",
            "sandbox_workspace_write.network_access=true",
            'sandbox_workspace_write.writable_roots=["/data"]',
            "shell_environment_policy={inherit='core', set={A='1'}}",
            "tools.update_plan.enabled=false",
        ]
    )
    assert config.model == "gpt-5.6-luna"
    assert config.model_context_window == 272000
    assert config.sandbox_workspace_write.network_access is True
    assert config.writable_roots == (Path("/data"),)
    assert config.shell_environment_policy.inherit == "core"
    assert config.shell_environment_policy.set == {"A": "1"}
    assert config.tools.update_plan is False


def test_later_override_of_same_key_wins(world: World) -> None:
    assert world.load(config_overrides=["model=a", "model=b"]).model == "b"


def test_add_dirs_join_writable_roots(world: World) -> None:
    (world.repo / "extra").mkdir()
    config = world.load(
        add_dirs=[Path("extra")],
        config_overrides=['sandbox_workspace_write.writable_roots=["/data"]'],
    )
    assert config.writable_roots == (Path("/data"), (world.repo / "extra").resolve())


def test_feature_registry_matches_codex_features_list() -> None:
    assert len(FEATURES) == 175
    assert FEATURES["shell_snapshot"].stage == "stable"
    assert FEATURES["shell_snapshot"].default_enabled is True
    assert FEATURES["memories"].default_enabled is False
    assert FEATURES["network_proxy"].stage == "experimental"
    assert FEATURES["transcript_v2"].stage == "deprecated"
    assert FEATURES["instant_interrupt"] == FEATURES["instant_interrupt"].__class__(
        "instant_interrupt", "under development", True
    )


def test_resolve_features_applies_overrides_and_drops_unknown() -> None:
    resolved = resolve_features({"memories": True, "bogus": True})
    assert resolved["memories"] is True
    assert resolved["shell_snapshot"] is True
    assert "bogus" not in resolved


def test_enable_and_disable_flags(world: World) -> None:
    world.user_config("[features]\nmemories = false\nunified_exec = true\n")
    config = world.load(enable=["memories"], disable=["unified_exec"])
    assert config.features["memories"] is True
    assert config.features["unified_exec"] is False
    assert config.feature_enabled("shell_snapshot") is True
    assert set(config.features) == set(FEATURES)


def test_enable_flag_beats_dash_c(world: World) -> None:
    config = world.load(enable=["memories"], config_overrides=["features.memories=false"])
    assert config.features["memories"] is True


@pytest.mark.parametrize("flag", ["enable", "disable"])
def test_unknown_feature_flag_is_an_error(world: World, flag: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        world.load(**{flag: ["bogus_feature"]})
    assert str(excinfo.value) == "Unknown feature flag: bogus_feature"
