"""Fixtures for screen tests of the interactive TUI (`pycodex` with no subcommand).

* `tui_world` — the isolated world of tests/support/exec_cli.py `ExecHarness`: a git
  workspace, a `PYCODEX_HOME` whose config.toml selects the mock model, a scrubbed env.
* `start_tui(*args, cols=100, rows=30, env=None, cwd=None)` — starts the installed
  `pycodex ARGS` in a real pseudo-terminal (tests/support/terminal.py `PtyTerminal`) in the
  workspace and returns it; every terminal is closed (process tree killed) at teardown.
* `start_tmux_tui(...)` — the same inside a private tmux server (`TmuxTerminal`); when
  pycodex ends, `[pycodex exited N]` is printed in the pane. Tests using it skip, saying
  why, when tmux is not installed.
* `client` — a real `pycodex app-server` on stdio (mock model, originator pycodex_tui)
  behind `StdioClient.request`, the call the TUI's own client offers: for testing the
  TUI's features against the real protocol without a terminal.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_app_server_support import AppServer, initialize_params, server_env
from tests.support.exec_cli import PYCODEX, ExecHarness
from tests.support.mock_model import MockModelServer
from tests.support.terminal import PtyTerminal, TmuxTerminal

TERMINAL_ENV = {"TERM": "xterm-256color", "COLORTERM": "truecolor"}
PROMPT_MARKERS = ("›", "❯", ">")


def prompt_ready(term: PtyTerminal) -> bool:
    """The composer is drawn and the cursor is on it."""
    return term.screen_lines()[term.cursor[1]].lstrip().startswith(PROMPT_MARKERS)


def pane_prompt_ready(pane: str) -> bool:
    """The composer is drawn somewhere in a tmux pane's text."""
    return any(line.lstrip().startswith(PROMPT_MARKERS) for line in pane.splitlines())


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


def require_tui_app() -> None:
    # Temporary while the TUI core is being built alongside these tests.
    if importlib.util.find_spec("pycodex.frontends.tui.app") is None:
        pytest.skip("the interactive TUI (pycodex.frontends.tui.app) is not built yet")


@pytest.fixture
def start_tui(tui_world: ExecHarness) -> Iterator[Callable[..., PtyTerminal]]:
    require_tui_app()
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
    require_tui_app()
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
        # The shell prints pycodex's exit status when it ends: tmux's own #{pane_dead_status}
        # is sometimes never filled in (tmux 3.3 leaves the pane's process unreaped).
        wrapped = ["sh", "-c", '"$0" "$@"; echo "[pycodex exited $?]"', str(PYCODEX), *args]
        term = TmuxTerminal(
            wrapped, cols=cols, rows=rows, env=session_env,
            cwd=cwd or tui_world.workspace, history=history,
        )
        started.append(term)
        return term

    try:
        yield start
    finally:
        for term in started:
            term.close()


Json = dict[str, Any]


class RpcFailure(Exception):
    """An error answer, with the message the TUI shows (as its own client's error has)."""

    def __init__(self, error: Json) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.message = str(error.get("message"))


class StdioClient:
    """`request` as the TUI's client offers it, over a real app-server's stdio."""

    def __init__(self, server: AppServer) -> None:
        self.server = server
        self._id = 0

    def call(self, method: str, params: Json) -> Json:
        self._id += 1
        self.server.send({"id": self._id, "method": method, "params": params})
        while True:
            msg = self.server.recv()
            if msg.get("id") == self._id and "method" not in msg:
                if "error" in msg:
                    raise RpcFailure(msg["error"])
                result: Json = msg["result"]
                return result

    def until(self, method: str, **match: Any) -> Json:
        while True:
            msg = self.server.recv()
            params = msg.get("params") or {}
            if msg.get("method") == method and all(params.get(k) == v for k, v in match.items()):
                return params

    async def request(self, method: str, params: Json) -> Any:
        return self.call(method, params)


@pytest.fixture
def client(tmp_path: Path, mock_model: MockModelServer) -> Iterator[StdioClient]:
    home = tmp_path / "pycodex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "mock"\n[model_providers.mock]\nname = "mock"\n'
        f'base_url = "{mock_model.url}"\nenv_key = "MOCK_KEY"\nrequest_max_retries = 0\n'
        "stream_max_retries = 0\n"
    )
    server = AppServer(tmp_path, env=server_env(tmp_path, MOCK_KEY="x", SHELL="/bin/bash"))
    c = StdioClient(server)
    c.call("initialize", initialize_params("pycodex_tui"))
    server.send({"method": "initialized"})
    try:
        yield c
    finally:
        server.stop()
