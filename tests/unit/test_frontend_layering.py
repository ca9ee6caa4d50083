"""Front ends are clients of the engine's public API (DESIGN: "front ends never reach into
core internals"): they import `pycodex.core`, never its modules, and never the services
behind it (process spawning, tools, the model client, the sandbox)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pycodex

SRC = Path(pycodex.__file__).parent
FRONT_ENDS = sorted([*(SRC / "frontends").rglob("*.py"), *(SRC / "cli").rglob("*.py")])
ENGINE_INTERNALS = ("pycodex.core.", "pycodex.process", "pycodex.tools", "pycodex.client", "pycodex.sandbox")
# `pycodex sandbox` is a debugging tool for the sandbox itself, as `codex sandbox` is, and
# `pycodex doctor` reports the sandbox backend as `sandbox doctor` finds it.
ALLOWED = {("cli/sandbox_cmd.py", "pycodex.sandbox"), ("cli/doctor_cmd.py", "pycodex.sandbox")}


def _runtime_imports(tree: ast.Module) -> list[str]:
    """Modules imported outside `if TYPE_CHECKING:` blocks (annotations cost nothing)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    names: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def _within(name: str, internal: str) -> bool:
    """`pycodex.core.` means a module inside `pycodex.core`; other entries a package."""
    if internal.endswith("."):
        return name.startswith(internal)
    return name == internal or name.startswith(internal + ".")


@pytest.mark.parametrize("path", FRONT_ENDS, ids=lambda p: str(p.relative_to(SRC)))
def test_front_ends_use_only_the_public_engine_api(path: Path) -> None:
    relative = str(path.relative_to(SRC))
    offending = [
        name
        for name in _runtime_imports(ast.parse(path.read_text(encoding="utf-8")))
        for internal in ENGINE_INTERNALS
        if _within(name, internal) and (relative, internal) not in ALLOWED
    ]
    assert offending == [], f"{relative} reaches into the engine: {offending}"
