"""Where pycodex keeps its state, and where it may borrow Codex's.

pycodex writes only under its own home. When a file (config.toml, auth.json, ...) is
missing there but Codex has one, pycodex reads Codex's copy so existing Codex users get
their settings without migrating; it never writes into Codex's home.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PYCODEX_HOME_ENV = "PYCODEX_HOME"
CODEX_HOME_ENV = "CODEX_HOME"


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def user_home(env: Mapping[str, str] | None = None) -> Path:
    """`$HOME` from `env` when given, so tests never touch the real home directory."""
    home = _environ(env).get("HOME")
    return Path(home) if home else Path.home()


def expand_user(path: str, env: Mapping[str, str] | None = None) -> Path:
    """`~` / `~/x` expanded against `$HOME` from `env` (not the process's real home)."""
    if path == "~":
        return user_home(env)
    if path.startswith("~/"):
        return user_home(env) / path[2:]
    return Path(path)


def _home_from(var: str, default_dirname: str, env: Mapping[str, str] | None) -> Path:
    value = _environ(env).get(var)
    if value:
        return expand_user(value, env)
    return user_home(env) / default_dirname


def pycodex_home(env: Mapping[str, str] | None = None) -> Path:
    """`$PYCODEX_HOME`, else `~/.pycodex`. The only home pycodex writes to."""
    return _home_from(PYCODEX_HOME_ENV, ".pycodex", env)


def codex_home(env: Mapping[str, str] | None = None) -> Path:
    """`$CODEX_HOME`, else `~/.codex`. Read-only fallback for Codex users."""
    return _home_from(CODEX_HOME_ENV, ".codex", env)


def read_home_for(filename: str, env: Mapping[str, str] | None = None) -> Path:
    """The home directory to *read* `filename` from.

    pycodex's home if it has the file, else Codex's home if that has it, else pycodex's
    home (so a caller that then finds nothing reports the path pycodex would use).
    """
    own = pycodex_home(env)
    if (own / filename).is_file():
        return own
    borrowed = codex_home(env)
    if (borrowed / filename).is_file():
        return borrowed
    return own
