"""Project layers: `.codex/` and `.pycodex/` config files from repo root to cwd, trusted only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.config_world import World, write


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_trusted_project_layers_apply_root_to_cwd_deeper_wins(world: World) -> None:
    world.trust(world.repo)
    sub = world.repo / "pkg" / "sub"
    sub.mkdir(parents=True)
    write(
        world.repo / ".codex" / "config.toml",
        'model = "root"\napproval_policy = "never"\nmodel_verbosity = "low"\n',
    )
    write(
        world.repo / "pkg" / ".codex" / "config.toml",
        'model = "pkg"\napproval_policy = "untrusted"\n',
    )
    write(sub / ".codex" / "config.toml", 'model = "sub"\n')
    config = world.load(cwd=sub)
    assert config.project_trusted is True
    assert config.project_root == world.repo.resolve()
    assert config.model == "sub"  # deepest directory wins
    assert config.approval_policy == "untrusted"  # middle beats root
    assert config.model_verbosity == "low"  # root still contributes
    project_paths = [s.path for s in config.config_sources if s.kind == "project"]
    assert project_paths == [
        world.repo / ".codex" / "config.toml",
        world.repo / "pkg" / ".codex" / "config.toml",
        sub / ".codex" / "config.toml",
    ]


def test_pycodex_dir_beats_codex_dir_in_same_directory(world: World) -> None:
    world.trust(world.repo)
    write(world.repo / ".pycodex" / "config.toml", 'model = "pycodex"\n')
    write(world.repo / ".codex" / "config.toml", 'model = "codex"\nmodel_verbosity = "high"\n')
    config = world.load()
    assert config.model == "pycodex"
    assert config.model_verbosity == "high"


def test_directories_above_the_repo_root_are_not_project_layers(world: World) -> None:
    world.trust(world.repo.parent)
    sub = world.repo / "sub"
    sub.mkdir()
    write(world.repo.parent / ".codex" / "config.toml", 'model = "outside"\n')
    write(sub / ".codex" / "config.toml", 'model_verbosity = "low"\n')
    config = world.load(cwd=sub)
    assert config.model == "gpt-5.5"
    assert config.model_verbosity == "low"


def test_without_git_only_cwd_is_searched(world: World) -> None:
    plain = world.repo.parent / "plain"
    (plain / "child").mkdir(parents=True)
    world.trust(plain)
    write(plain / ".codex" / "config.toml", 'model = "parent"\n')
    write(plain / "child" / ".codex" / "config.toml", 'model_verbosity = "low"\n')
    config = world.load(cwd=plain / "child")
    assert config.project_root == (plain / "child").resolve()
    assert config.model == "gpt-5.5"
    assert config.model_verbosity == "low"


def test_untrusted_project_layers_are_skipped_with_a_warning(world: World) -> None:
    path = write(world.repo / ".codex" / "config.toml", 'model = "from-project"\n')
    config = world.load()
    assert config.project_trusted is False
    assert config.model == "gpt-5.5"
    assert [s.kind for s in config.config_sources] == []
    (warning,) = config.warnings
    assert str(path) in warning
    assert "not a trusted project" in warning
    assert "trust_level" in warning


def test_untrusted_malformed_project_file_is_not_even_parsed(world: World) -> None:
    write(world.repo / ".codex" / "config.toml", "this is = = not toml\n")
    config = world.load()
    assert len(config.warnings) == 1


def test_trust_on_an_ancestor_covers_the_repo(world: World) -> None:
    world.trust(world.repo.parent)
    write(world.repo / ".codex" / "config.toml", 'model = "from-project"\n')
    assert world.load().model == "from-project"


def test_nearest_untrusted_entry_overrides_a_trusted_ancestor(world: World) -> None:
    sub = world.repo / "vendor"
    sub.mkdir()
    world.user_config(
        f'[projects."{world.repo}"]\ntrust_level = "trusted"\n'
        f'[projects."{sub}"]\ntrust_level = "untrusted"\n'
    )
    write(world.repo / ".codex" / "config.toml", 'model = "from-project"\n')
    config = world.load(cwd=sub)
    assert config.project_trusted is False
    assert config.model == "gpt-5.5"


def test_trust_can_come_from_a_dash_c_override_with_quoted_segment(world: World) -> None:
    write(world.repo / ".codex" / "config.toml", 'model = "from-project"\n')
    config = world.load(config_overrides=[f'projects."{world.repo}".trust_level="trusted"'])
    assert config.project_trusted is True
    assert config.model == "from-project"


def test_project_file_cannot_trust_itself(world: World) -> None:
    write(
        world.repo / ".codex" / "config.toml",
        f'model = "sneaky"\n[projects."{world.repo}"]\ntrust_level = "trusted"\n',
    )
    assert world.load().model == "gpt-5.5"


def test_user_config_is_not_reloaded_as_a_project_layer_when_cwd_is_home(world: World) -> None:
    # cwd = $HOME, so `~/.codex/config.toml` looks like a project file; it is the
    # (fallback) user config and must count once, not twice.
    codex_config = write(
        world.codex_home / "config.toml", f'[projects."{world.home}"]\ntrust_level = "trusted"\n'
    )
    (world.pycodex_home / "config.toml").unlink(missing_ok=True)
    config = world.load(cwd=world.home)
    assert [s.path for s in config.config_sources] == [codex_config]


def test_dash_c_can_revoke_trust_given_in_config_toml(world: World) -> None:
    world.trust(world.repo)
    write(world.repo / ".codex" / "config.toml", 'model = "from-project"\n')
    config = world.load(config_overrides=[f'projects."{world.repo}".trust_level="untrusted"'])
    assert config.project_trusted is False
    assert config.model == "gpt-5.5"
