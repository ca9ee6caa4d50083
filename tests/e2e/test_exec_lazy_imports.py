"""`pycodex exec` imports a subsystem only when the turn needs it (startup is a feature).

A text-only turn makes no safety decision and runs no command, so neither tree-sitter nor
any sandbox backend is imported; a command that runs unsandboxed (full access) does not
load the sandbox either. Checked through `python -X importtime`, which lists every module
the process imports, as in tests/unit/test_startup_imports.py; no timing is asserted.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.exec_cli import ExecHarness, parse_jsonl, shell_call
from tests.support.mock_model import MockModelServer, message, response
from tests.unit.test_startup_imports import imported_modules

pytestmark = pytest.mark.e2e

LAZY = ("tree_sitter", "tree_sitter_bash", "pycodex.sandbox")
# What only running a tool needs (loaded by the tool registry on the first call), and
# what nothing on the exec path needs at all (the HTTP stack is imported without
# importlib.metadata; prompts are read without importlib.resources, which imports zipfile).
TOOL_MACHINERY = (
    "pycodex.apply_patch",
    "pycodex.safety.approval",
    "pycodex.safety.exec_policy",
    "pycodex.tools.orchestrator",
    "pycodex.tools.handlers.shell",
    "pycodex.tools.handlers.unified_exec",
    "pycodex.tools.handlers.apply_patch",
    "pycodex.process.spawn",
    "pycodex.process.runtime",
    "pycodex.process.sessions",
)
# httpx2 (with http.cookiejar, urllib.request and email, which its models import): the
# model client talks through httpcore2's pool directly unless a proxy is configured
# (pycodex.client.wire_threads). anyio: that pool is driven from threads, so neither the
# import of the HTTP stack nor a request loads
# it (~100 M instructions of anyio and its asyncio backend otherwise; importtime lists the
# refused `import anyio` itself, so its subpackages are what is checked). importlib.abc /
# importlib.resources: httpx2's `alias_httpx` module, replaced during the import.
NEVER_ON_EXEC = ("pydantic", "importlib.metadata", "xml", "zipfile", "httpx2", "http.cookiejar",
                 "urllib.request", "email", "anyio._core",
                 "anyio._backends", "anyio.streams", "importlib.abc", "importlib.resources",
                 "httpx2._alias")


def run_importtime(harness: ExecHarness, *args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pycodex", "exec", "--json", *args],
        cwd=harness.workspace,
        env=harness.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    events = parse_jsonl(result.stdout)
    assert events[-1]["type"] == "turn.completed", result.stdout
    modules = imported_modules(result.stderr)
    # The parse found the engine, so a missing module below means "not imported".
    assert {"pycodex.core.session", "httpcore2"} <= modules
    return modules


def loaded(modules: set[str], *prefixes: str) -> list[str]:
    return sorted(m for m in modules for p in prefixes if m == p or m.startswith(p + "."))


def test_text_only_turn_imports_no_safety_parser_or_sandbox(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(response(message("Just text, no tools.")))
    modules = run_importtime(harness, "[[text]] just answer")
    assert loaded(modules, *LAZY) == []
    assert loaded(modules, *TOOL_MACHINERY) == []
    assert loaded(modules, *NEVER_ON_EXEC) == []


def test_unsandboxed_command_does_not_import_the_sandbox(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(
        response(shell_call("echo hello-from-tool")), response(message("All done."))
    )
    modules = run_importtime(harness, "-s", "danger-full-access", "[[shell]] run echo")
    assert loaded(modules, "pycodex.sandbox") == []
    # Two model requests (one connection reused) and a command: still no anyio.
    assert loaded(modules, *NEVER_ON_EXEC) == []


def test_sandboxed_command_imports_the_sandbox(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    """The checks above are not vacuous: a sandboxed command does load the launcher
    (whether or not a sandbox can be set up on this machine)."""
    mock_model.enqueue(
        response(shell_call("echo hello-from-tool")), response(message("All done."))
    )
    modules = run_importtime(harness, "-s", "read-only", "[[shell]] run echo")
    assert "pycodex.sandbox.launcher" in modules
    # ... and a command loads what running a tool needs, on demand.
    assert {"pycodex.tools.orchestrator", "pycodex.process.spawn"} <= modules
