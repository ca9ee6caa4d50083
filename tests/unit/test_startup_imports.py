"""`pycodex --version` / `--help` must not import the engine or heavy libraries.

A behavioural guarantee checked through `python -X importtime`, which lists every module
a process imports; no timing is asserted (that is `benchmarks/bench_startup.py`'s job).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = ("pydantic", "httpx2", "pycodex.core", "pycodex.client", "pycodex.protocol")


def imported_modules(importtime_stderr: str) -> set[str]:
    """Module names from `-X importtime` lines: `import time: self | cumulative | name`."""
    modules: set[str] = set()
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line.split("|")
        if len(parts) != 3:
            continue
        name = parts[2].strip()
        if name and name != "imported package":
            modules.add(name)
    return modules


def forbidden_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules for bad in FORBIDDEN if m == bad or m.startswith(bad + "."))


def run_importtime(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYCODEX_HOME": str(tmp_path / "pycodex"),
        "CODEX_HOME": str(tmp_path / "codex"),
        "LANG": "C.UTF-8",
    }
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    return result, imported_modules(result.stderr)


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_cli_startup_does_not_import_engine(tmp_path: Path, flag: str) -> None:
    result, modules = run_importtime(tmp_path, "-m", "pycodex", flag)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "pycodex" in result.stdout
    # The parse found the modules this command really needs, so an empty result below
    # means "not imported", not "nothing parsed".
    assert {"pycodex.cli.main", "click"} <= modules
    assert forbidden_in(modules) == []


def test_detector_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The check above is not vacuous: importing pydantic is reported."""
    result, modules = run_importtime(tmp_path, "-c", "import pydantic")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "pydantic" in forbidden_in(modules)


def test_parser_reads_importtime_lines() -> None:
    sample = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       914 |      38404 | pycodex.cli.main\n"
        "import time:       120 |        120 |     pycodex.protocol.models\n"
        "some other stderr line\n"
    )
    modules = imported_modules(sample)
    assert modules == {"pycodex.cli.main", "pycodex.protocol.models"}
    assert forbidden_in(modules) == ["pycodex.protocol.models"]
    assert forbidden_in({"pydantic_core", "pycodex.clientele"}) == []
