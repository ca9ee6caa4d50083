"""Home directories and the read-only fallback to Codex's home."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.config import codex_home, pycodex_home, read_home_for
from tests.support.config_world import World, write


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_homes_come_from_environment(tmp_path: Path) -> None:
    env = {
        "PYCODEX_HOME": str(tmp_path / "p"),
        "CODEX_HOME": str(tmp_path / "c"),
        "HOME": "/nowhere",
    }
    assert pycodex_home(env) == tmp_path / "p"
    assert codex_home(env) == tmp_path / "c"


def test_homes_default_under_home(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert pycodex_home(env) == tmp_path / ".pycodex"
    assert codex_home(env) == tmp_path / ".codex"


def test_tilde_in_home_variable_expands_against_env_home(tmp_path: Path) -> None:
    assert pycodex_home({"HOME": str(tmp_path), "PYCODEX_HOME": "~/ph"}) == tmp_path / "ph"


def test_read_home_for_prefers_pycodex_then_codex(tmp_path: Path) -> None:
    env = {"PYCODEX_HOME": str(tmp_path / "p"), "CODEX_HOME": str(tmp_path / "c")}
    assert read_home_for("auth.json", env) == tmp_path / "p"  # neither: pycodex's
    write(tmp_path / "c" / "auth.json", "{}")
    assert read_home_for("auth.json", env) == tmp_path / "c"
    write(tmp_path / "p" / "auth.json", "{}")
    assert read_home_for("auth.json", env) == tmp_path / "p"


def test_codex_config_is_read_when_pycodex_has_none(world: World) -> None:
    codex_config = write(world.codex_home / "config.toml", 'model = "from-codex"\n')
    config = world.load()
    assert config.model == "from-codex"
    assert [s.path for s in config.config_sources] == [codex_config]
    # pycodex still writes to its own home.
    assert config.pycodex_home == world.pycodex_home


def test_codex_config_is_ignored_when_pycodex_has_one(world: World) -> None:
    write(world.codex_home / "config.toml", 'model = "from-codex"\nmodel_verbosity = "low"\n')
    world.user_config('model = "from-pycodex"\n')
    config = world.load()
    assert config.model == "from-pycodex"
    assert config.model_verbosity is None  # no key-level mixing of the two files


def test_profile_file_is_read_from_the_home_that_supplied_config(world: World) -> None:
    write(world.codex_home / "config.toml", 'model = "base"\n')
    write(world.codex_home / "fast.config.toml", 'model = "codex-fast"\n')
    assert world.load(profile="fast").model == "codex-fast"


def test_loading_config_writes_nothing(world: World) -> None:
    write(world.codex_home / "config.toml", 'model = "from-codex"\n')
    before = sorted(p for p in world.home.rglob("*"))
    world.load()
    assert sorted(p for p in world.home.rglob("*")) == before
