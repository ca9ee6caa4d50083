"""`shell_environment_policy`: which environment variables a model-run command sees.

Secrets are the point: an agent's commands end up in transcripts and in the model's
context, so variables that look like credentials are withheld unless the user opts in.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

Inherit = Literal["all", "core", "none"]

# Enough for most programs to behave normally, nothing personal beyond that.
CORE_VARS = ("HOME", "LOGNAME", "PATH", "SHELL", "USER", "USERNAME", "TMPDIR", "TEMP", "TMP")
DEFAULT_EXCLUDES = ("*KEY*", "*SECRET*", "*TOKEN*")


class EnvPolicy(Protocol):
    @property
    def inherit(self) -> str: ...
    @property
    def ignore_default_excludes(self) -> bool: ...
    @property
    def exclude(self) -> Sequence[str]: ...
    @property
    def include_only(self) -> Sequence[str]: ...
    @property
    def set(self) -> Mapping[str, str]: ...


def _matches(name: str, patterns: Sequence[str]) -> bool:
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, p.upper()) for p in patterns)


def build_command_env(policy: EnvPolicy, base: Mapping[str, str]) -> dict[str, str]:
    """The environment for a command, from the process's own `base` environment.

    Steps, in order: inherit (all/core/none); drop default secret patterns unless
    `ignore_default_excludes`; drop `exclude` globs; add `set`; keep only `include_only`
    globs when given. Globs are case-insensitive, as on the platforms users come from.
    """
    if policy.inherit == "all":
        env = dict(base)
    elif policy.inherit == "core":
        env = {k: base[k] for k in CORE_VARS if k in base}
    else:
        env = {}
    if not policy.ignore_default_excludes:
        env = {k: v for k, v in env.items() if not _matches(k, DEFAULT_EXCLUDES)}
    if policy.exclude:
        env = {k: v for k, v in env.items() if not _matches(k, policy.exclude)}
    env.update(policy.set)
    if policy.include_only:
        env = {k: v for k, v in env.items() if _matches(k, policy.include_only)}
    return env
