"""shell_environment_policy: inherit, default secret excludes, exclude, set, include_only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pycodex.process.env import build_command_env

BASE = {
    "PATH": "/bin",
    "HOME": "/home/u",
    "OPENAI_API_KEY": "sk",
    "GITHUB_TOKEN": "t",
    "AWS_SECRET_ACCESS_KEY": "s",
    "EDITOR": "vi",
    "LANG": "C",
}


@dataclass
class Policy:
    inherit: str = "all"
    ignore_default_excludes: bool = False
    exclude: Sequence[str] = ()
    include_only: Sequence[str] = ()
    set: Mapping[str, str] = field(default_factory=dict)


def test_inherit_all_drops_secret_looking_variables_by_default() -> None:
    env = build_command_env(Policy(), BASE)
    assert env == {"PATH": "/bin", "HOME": "/home/u", "EDITOR": "vi", "LANG": "C"}


def test_ignore_default_excludes_keeps_them() -> None:
    env = build_command_env(Policy(ignore_default_excludes=True), BASE)
    assert env == BASE


def test_inherit_core_and_none() -> None:
    assert build_command_env(Policy(inherit="core"), BASE) == {"PATH": "/bin", "HOME": "/home/u"}
    assert build_command_env(Policy(inherit="none"), BASE) == {}


def test_exclude_globs_are_case_insensitive() -> None:
    env = build_command_env(Policy(exclude=["edit*"]), BASE)
    assert "EDITOR" not in env and "LANG" in env


def test_set_adds_after_excludes_and_include_only_filters_last() -> None:
    env = build_command_env(
        Policy(exclude=["LANG"], set={"LANG": "en_US.UTF-8", "CI": "1"}, include_only=["LANG", "PATH"]),
        BASE,
    )
    assert env == {"PATH": "/bin", "LANG": "en_US.UTF-8"}
