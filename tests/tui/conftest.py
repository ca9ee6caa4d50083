"""Fixtures for screen tests of the interactive TUI (`pycodex` with no subcommand).

* `tui_world` — the isolated world of tests/support/exec_cli.py `ExecHarness`: a git
  workspace, a `PYCODEX_HOME` whose config.toml selects the mock model, a scrubbed env.
* `start_tui(*args, cols=100, rows=30, env=None, cwd=None)` — starts the installed
  `pycodex ARGS` in a real pseudo-terminal (tests/support/terminal.py `PtyTerminal`) in the
  workspace and returns it; every terminal is closed (process tree killed) at teardown.
* `start_tmux_tui(...)` — the same inside a private tmux server (`TmuxTerminal`); tests
  using it skip, saying why, when tmux is not installed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.exec_cli import PYCODEX, ExecHarness
from tests.support.mock_model import MockModelServer
from tests.support.terminal import PtyTerminal, TmuxTerminal

TERMINAL_ENV = {"TERM": "xterm-256color", "COLORTERM": "truecolor"}


@pytest.fixture
def tui_world(tmp_path: Path, mock_model: MockModelServer) -> Iterator[ExecHarness]:
    world = ExecHarness(tmp_path, mock_model)
    try:
        yield world
    finally:
        world.close()


def tui_env(world: ExecHarness, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The world's environment as a terminal session would have it."""
    return {**world.env, **TERMINAL_ENV, **(extra or {})}


@pytest.fixture
def start_tui(tui_world: ExecHarness) -> Iterator[Callable[..., PtyTerminal]]:
    started: list[PtyTerminal] = []

    def start(
        *args: str,
        cols: int = 100,
        rows: int = 30,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> PtyTerminal:
        term = PtyTerminal(
            [str(PYCODEX), *args], cols=cols, rows=rows, env=tui_env(tui_world, env),
            cwd=cwd or tui_world.workspace,
        )
        started.append(term)
        return term

    try:
        yield start
    finally:
        for term in started:
            term.close()


@pytest.fixture
def start_tmux_tui(tui_world: ExecHarness) -> Iterator[Callable[..., TmuxTerminal]]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (.ci/run installs it with apt-get)")
    started: list[TmuxTerminal] = []

    def start(
        *args: str,
        cols: int = 100,
        rows: int = 30,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        history: int = 5000,
    ) -> TmuxTerminal:
        # Inside tmux TERM is tmux's own; the rest of the world's environment is kept.
        session_env = {**tui_env(tui_world, env), "TERM": "tmux-256color"}
        term = TmuxTerminal(
            [str(PYCODEX), *args], cols=cols, rows=rows, env=session_env,
            cwd=cwd or tui_world.workspace, history=history,
        )
        started.append(term)
        return term

    try:
        yield start
    finally:
        for term in started:
            term.close()
