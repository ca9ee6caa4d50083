"""Profiles: `[profiles.NAME]` tables, `NAME.config.toml` files, `profile =` default."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.config import ConfigError
from tests.support.config_world import World, write


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_profile_table_selected_by_flag(world: World) -> None:
    world.user_config(
        'model = "base"\nmodel_reasoning_effort = "medium"\n'
        '[profiles.fast]\nmodel = "gpt-5.6-sol"\nmodel_reasoning_effort = "low"\n'
    )
    config = world.load(profile="fast")
    assert (config.model, config.model_reasoning_effort) == ("gpt-5.6-sol", "low")
    assert config.profile == "fast"
    # Without -p the table is inert.
    assert world.load().model == "base"


def test_profile_file_in_home_is_layered_over_the_table(world: World) -> None:
    world.user_config(
        'model = "base"\n[profiles.fast]\nmodel = "from-table"\nmodel_verbosity = "low"\n'
    )
    profile_file = write(world.pycodex_home / "fast.config.toml", 'model = "from-file"\n')
    config = world.load(profile="fast")
    assert config.model == "from-file"
    assert config.model_verbosity == "low"  # the table still contributes what the file omits
    assert profile_file in [s.path for s in config.config_sources]


def test_profile_file_alone_is_enough(world: World) -> None:
    write(world.pycodex_home / "fast.config.toml", 'model_reasoning_effort = "high"\n')
    assert world.load(profile="fast").model_reasoning_effort == "high"


def test_profile_key_in_config_selects_the_default_profile(world: World) -> None:
    world.user_config(
        'profile = "deep"\nmodel = "base"\n'
        '[profiles.deep]\nmodel = "deep-model"\n[profiles.other]\nmodel = "other-model"\n'
    )
    assert world.load().model == "deep-model"
    # An explicit -p still wins over the default.
    assert world.load(profile="other").model == "other-model"


def test_profile_can_be_selected_with_dash_c(world: World) -> None:
    world.user_config('[profiles.fast]\nmodel = "fast-model"\n')
    assert world.load(config_overrides=["profile=fast"]).model == "fast-model"


def test_unknown_profile_is_an_error_naming_it(world: World) -> None:
    world.user_config('[profiles.fast]\nmodel = "x"\n')
    with pytest.raises(ConfigError) as excinfo:
        world.load(profile="nonexistent")
    message = str(excinfo.value)
    assert "`nonexistent`" in message
    assert "nonexistent.config.toml" in message
    assert "\n" not in message


def test_unknown_default_profile_is_an_error(world: World) -> None:
    world.user_config('profile = "gone"\n')
    with pytest.raises(ConfigError, match="`gone`"):
        world.load()


def test_profile_name_cannot_escape_the_home_directory(world: World) -> None:
    write(world.home / "evil.config.toml", 'model = "escaped"\n')
    with pytest.raises(ConfigError, match="not found"):
        world.load(profile="../evil")


def test_bad_value_inside_profile_table_points_at_the_file(world: World) -> None:
    path = world.user_config('[profiles.fast]\napproval_policy = "sometimes"\n')
    with pytest.raises(ConfigError) as excinfo:
        world.load(profile="fast")
    assert str(excinfo.value).startswith(f"{path}:2:1: ")
    assert "profiles.fast.approval_policy" in str(excinfo.value)
