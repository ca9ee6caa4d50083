"""Layer precedence: defaults < config.toml < profile < project < -c < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.config_world import World, write


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_builtin_defaults_apply_without_any_config(world: World) -> None:
    config = world.load()
    assert config.model == "gpt-5.5"
    assert config.model_provider_id == "openai"
    assert config.approval_policy == "on-request"
    assert config.sandbox_mode == "read-only"
    assert config.project_doc_max_bytes == 32 * 1024
    assert config.shell_environment_policy.inherit == "all"
    assert config.shell_environment_policy.ignore_default_excludes is False
    assert config.history.persistence == "save-all"
    assert config.cwd == world.repo.resolve()
    assert config.pycodex_home == world.pycodex_home
    assert config.config_sources == ()


def test_config_toml_beats_defaults(world: World) -> None:
    world.user_config('model = "from-file"\napproval_policy = "never"\n')
    config = world.load()
    assert config.model == "from-file"
    assert config.approval_policy == "never"
    assert [s.kind for s in config.config_sources] == ["user"]


def test_profile_beats_config_toml(world: World) -> None:
    world.user_config('model = "from-file"\n[profiles.fast]\nmodel = "from-profile"\n')
    assert world.load(profile="fast").model == "from-profile"


def test_project_layer_beats_profile(world: World) -> None:
    world.user_config(
        'profile = "fast"\n[profiles.fast]\nmodel = "from-profile"\n'
        f'[projects."{world.repo}"]\ntrust_level = "trusted"\n'
    )
    assert world.load().model == "from-profile"
    write(world.repo / ".codex" / "config.toml", 'model = "from-project"\n')
    assert world.load().model == "from-project"


def test_cli_override_beats_project_layer(world: World) -> None:
    world.trust(world.repo)
    write(world.repo / ".codex" / "config.toml", 'model = "from-project"\n')
    assert world.load().model == "from-project"
    assert world.load(config_overrides=['model="from-c"']).model == "from-c"


def test_flags_beat_cli_override(world: World) -> None:
    config = world.load(
        model="from-flag",
        approval_policy="untrusted",
        config_overrides=['model="from-c"', 'approval_policy="never"'],
    )
    assert config.model == "from-flag"
    assert config.approval_policy == "untrusted"


def test_tables_merge_key_by_key_across_layers(world: World) -> None:
    world.user_config("[sandbox_workspace_write]\nnetwork_access = true\n")
    config = world.load(config_overrides=["sandbox_workspace_write.exclude_slash_tmp=true"])
    assert config.sandbox_workspace_write.network_access is True
    assert config.sandbox_workspace_write.exclude_slash_tmp is True


def test_arrays_are_replaced_not_concatenated(world: World) -> None:
    world.user_config('notify = ["a", "b"]\n')
    config = world.load(config_overrides=['notify=["c"]'])
    assert config.notify == ("c",)


def test_layer_order_is_recorded_in_config_sources(world: World) -> None:
    user = world.trust(world.repo, extra='[profiles.p]\nmodel = "x"\n')
    project = write(world.repo / ".pycodex" / "config.toml", 'model = "y"\n')
    config = world.load(profile="p", config_overrides=["model=z"], model="w")
    assert [s.kind for s in config.config_sources] == ["user", "profile", "project", "cli", "flags"]
    assert config.config_sources[0].path == user
    assert config.config_sources[2].path == project


def test_effective_config_is_immutable(world: World) -> None:
    config = world.load()
    with pytest.raises(AttributeError):
        config.model = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        config.shell_environment_policy.inherit = "none"  # type: ignore[misc]
