"""A throwaway config world for config tests: homes and a repo under tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pycodex.config import Config, ConfigOverrides, load_config


class World:
    """Throwaway homes and a git repo under tmp_path; `env` never points at the real home."""

    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.pycodex_home = self.home / ".pycodex"
        self.codex_home = self.home / ".codex"
        self.repo = root / "repo"
        (self.repo / ".git").mkdir(parents=True)
        self.pycodex_home.mkdir(parents=True)
        self.env = {
            "HOME": str(self.home),
            "PYCODEX_HOME": str(self.pycodex_home),
            "CODEX_HOME": str(self.codex_home),
        }

    def user_config(self, text: str) -> Path:
        return write(self.pycodex_home / "config.toml", text)

    def trust(self, path: Path, extra: str = "") -> Path:
        return self.user_config(f'{extra}\n[projects."{path}"]\ntrust_level = "trusted"\n')

    def load(self, **overrides: Any) -> Config:
        overrides.setdefault("cwd", self.repo)
        return load_config(ConfigOverrides(**overrides), env=self.env)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
