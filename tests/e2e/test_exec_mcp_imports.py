"""`pycodex exec` without `[mcp_servers]` never imports the `mcp` SDK (nor pydantic,
which it pulls in), nor pycodex's own MCP client; with a server configured it does.
Checked through `python -X importtime` as in tests/e2e/test_exec_lazy_imports.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.exec_cli import ExecHarness, parse_jsonl
from tests.support.mcp_config import fixture_server
from tests.support.mock_model import MockModelServer, message, response
from tests.unit.test_startup_imports import imported_modules

pytestmark = pytest.mark.e2e

MCP_MODULES = ("mcp", "mcp_types", "pydantic", "pycodex.mcp", "pycodex.tools.handlers.mcp")


def exec_imports(harness: ExecHarness) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pycodex", "exec", "--json", "hi"],
        cwd=harness.workspace,
        env=harness.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert parse_jsonl(result.stdout)[-1]["type"] == "turn.completed"
    return imported_modules(result.stderr)


def loaded(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for p in prefixes if m == p or m.startswith(p + "."))


def test_exec_without_mcp_servers_never_imports_mcp(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(response(message("ok")))
    assert loaded(exec_imports(harness), MCP_MODULES) == []


def test_exec_with_an_mcp_server_imports_it(harness: ExecHarness, mock_model: MockModelServer) -> None:
    # The other half: the check above would pass vacuously if the names were wrong.
    harness.write_config(extra=fixture_server())
    mock_model.enqueue(response(message("ok")))
    modules = exec_imports(harness)
    assert "mcp.client.session" in modules and "pycodex.mcp.connection" in modules
