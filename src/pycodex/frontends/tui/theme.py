"""Colours: `NO_COLOR` turns them off; light or dark terminals get readable ones
(`COLORFGBG`, which most terminals set, says which; dark when unknown)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    color: bool = True
    dark: bool = True

    @property
    def user(self) -> str:
        return "cyan" if self.dark else "blue"

    @property
    def added(self) -> str:
        return "green" if self.dark else "dark_green"

    @property
    def removed(self) -> str:
        return "red" if self.dark else "dark_red"

    @property
    def code_theme(self) -> str:
        return "monokai" if self.dark else "default"


def theme_from_env(env: Mapping[str, str]) -> Theme:
    color = "NO_COLOR" not in env and env.get("TERM") != "dumb"
    background = env.get("COLORFGBG", "").rsplit(";", 1)[-1]
    dark = not (background.isdigit() and int(background) in (7, 15))
    return Theme(color=color, dark=dark)
