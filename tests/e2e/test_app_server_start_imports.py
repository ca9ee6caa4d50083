"""`pycodex app-server` starts without click or tomlkit: every SDK and IDE session waits for
it before its first turn (start-up is a feature). Checked through `python -X importtime`,
which lists every module the process imports; no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pycodex.cli.app_server_fast import listen_url
from tests.e2e.test_app_server_support import initialize_params, server_env
from tests.unit.test_startup_imports import imported_modules

pytestmark = pytest.mark.e2e

NOT_AT_START = ("click", "tomlkit", "pycodex.cli.main", "pycodex.cli.app_server_cmd", "prompt_toolkit", "rich",
                "pycodex.frontends.tui")


@pytest.mark.parametrize("args", [[], ["--listen", "stdio://"], ["--stdio"], ["--listen=stdio://"]])
def test_the_server_answers_initialize_without_click_or_tomlkit(tmp_path: Path, args: list[str]) -> None:
    request = json.dumps({"id": 1, "method": "initialize", "params": initialize_params()}) + "\n"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pycodex", "app-server", *args],
        input=request, capture_output=True, text=True, env=server_env(tmp_path), timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "userAgent" in json.loads(result.stdout.splitlines()[0])["result"]
    modules = imported_modules(result.stderr)
    assert "pycodex.frontends.app_server.server" in modules  # the check sees the imports
    assert sorted(m for m in modules for bad in NOT_AT_START if m == bad or m.startswith(bad + ".")) == []


@pytest.mark.parametrize(
    ("args", "url"),
    [
        (["app-server"], "stdio://"),
        (["app-server", "--stdio"], "stdio://"),
        (["app-server", "--listen", "ws://127.0.0.1:0"], "ws://127.0.0.1:0"),
        (["app-server", "--listen=unix://"], "unix://"),
        # Anything else is click's: help, root options, subcommands, a missing value.
        (["app-server", "--help"], None),
        (["-c", "model=x", "app-server"], None),
        (["app-server", "generate-json-schema"], None),
        (["app-server", "--listen"], None),
        (["app-server", "--listen", "--stdio"], None),
        (["app-server", "--stdio", "--listen", "ws://127.0.0.1:0"], None),
    ],
)
def test_only_the_plain_forms_skip_click(args: list[str], url: str | None) -> None:
    assert listen_url(args) == url
