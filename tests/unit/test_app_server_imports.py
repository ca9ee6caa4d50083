"""The app-server is loaded only when `pycodex app-server` runs: `--help`, `--version` and
`exec` never import it, and `app-server --help` loads neither the server nor websockets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.unit.test_startup_imports import run_importtime

LAUNCHER = str(Path(sys.executable).parent / "pycodex")


def _loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["exec", "--help"], ["login", "--help"]],
    ids=lambda argv: " ".join(argv),
)
def test_other_commands_do_not_import_the_app_server(tmp_path: Path, argv: list[str]) -> None:
    result, modules = run_importtime(tmp_path, LAUNCHER, *argv)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _loaded(modules, "pycodex.frontends.app_server") == []
    assert _loaded(modules, "websockets") == []


def test_app_server_help_loads_only_its_click_command(tmp_path: Path) -> None:
    result, modules = run_importtime(tmp_path, LAUNCHER, "app-server", "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--listen URL" in result.stdout
    assert _loaded(modules, "pycodex.frontends.app_server") == []
    assert _loaded(modules, "websockets") == []
    assert _loaded(modules, "asyncio") == []
