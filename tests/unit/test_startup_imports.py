"""`pycodex --version` / `--help` must not import the engine or heavy libraries.

A behavioural guarantee checked through `python -X importtime`, which lists every module
a process imports; no timing is asserted (that is `benchmarks/bench_startup.py`'s job).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = ("pydantic", "msgspec", "httpx2", "pycodex.core", "pycodex.client", "pycodex.protocol",
             "prompt_toolkit", "rich", "pycodex.frontends.tui")


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


def run_importtime(
    tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None, stdin: str | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {
        **(extra_env or {}),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYCODEX_HOME": str(tmp_path / "pycodex"),
        "CODEX_HOME": str(tmp_path / "codex"),
        "LANG": "C.UTF-8",
    }
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    return result, imported_modules(result.stderr)


LAUNCHER = Path(sys.executable).parent / "pycodex"
# What `pycodex --version` / `--help` may import of pycodex: the entry point and the
# command table, nothing else (not even click: ~40 ms).
FAST_PATH_MODULES = {"pycodex", "pycodex.cli", "pycodex.cli.entry", "pycodex.cli.commands"}
NOT_ON_FAST_PATH = ("click", "typing", *FORBIDDEN)


def pycodex_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if m == "pycodex" or m.startswith("pycodex.")}


@pytest.mark.parametrize("flag", ["--version", "-V", "--help", "-h", None])
@pytest.mark.parametrize("how", ["launcher", "-m"])
def test_version_and_help_are_answered_before_click(
    tmp_path: Path, flag: str | None, how: str
) -> None:
    argv = [str(LAUNCHER)] if how == "launcher" else ["-m", "pycodex"]
    result, modules = run_importtime(tmp_path, *argv, *([flag] if flag else []))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "pycodex" in result.stdout
    assert pycodex_modules(modules) == FAST_PATH_MODULES
    assert sorted(m for m in modules for bad in NOT_ON_FAST_PATH
                  if m == bad or m.startswith(bad + ".")) == []
    if flag in ("--version", "-V"):
        # `re` is ~10 ms on a small machine: pip's console-script template imports it,
        # which is why `pycodex` is installed as a hand-written launcher.
        assert "re" not in modules and "textwrap" not in modules


def test_fast_help_is_the_click_help(tmp_path: Path) -> None:
    """The help printed before click loads is the one click prints for `pycodex --help`
    when it renders it (a usage error, `pycodex help`-like paths): one renderer."""
    from click.testing import CliRunner

    from pycodex.cli.commands import top_level_help
    from pycodex.cli.main import cli

    clicked = CliRunner().invoke(cli, ["--help"], terminal_width=80)
    assert clicked.exit_code == 0
    assert clicked.output == top_level_help() + "\n"
    fast, _ = run_importtime(tmp_path, str(LAUNCHER), "--help")
    assert fast.stdout == clicked.output


def test_other_arguments_reach_click(tmp_path: Path) -> None:
    result, modules = run_importtime(tmp_path, str(LAUNCHER), "--bogus")
    assert result.returncode == 2
    assert "No such option '--bogus'" in result.stderr
    assert "click" in modules


def test_detector_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The check above is not vacuous: importing the HTTP stack is reported."""
    result, modules = run_importtime(tmp_path, "-c", "import httpx2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "httpx2" in forbidden_in(modules)


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


def test_the_apply_patch_flag_skips_click(tmp_path: Path) -> None:
    """How Codex re-runs itself to apply a patch: answered by the patch engine alone."""
    patch = "*** Begin Patch\n*** Add File: made.txt\n+hi\n*** End Patch"
    result, modules = run_importtime(tmp_path, str(LAUNCHER), "--codex-run-as-apply-patch", patch)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "made.txt").read_text() == "hi\n"
    assert "pycodex.apply_patch" in modules
    assert "click" not in modules and "pycodex.cli.main" not in modules


def test_exec_runs_without_click(tmp_path: Path) -> None:
    """`pycodex exec` in its common form (what every SDK turn spawns) is parsed by
    `cli.exec_fast`: a whole turn against the mock model runs without loading click."""
    from tests.support.mock_model import MockModelServer, message, response

    with MockModelServer() as mock:
        home = tmp_path / "pycodex"
        home.mkdir()
        (home / "config.toml").write_text(
            f'model = "gpt-5.5"\nmodel_provider = "mock"\n[model_providers.mock]\nname = "mock"\n'
            f'base_url = "{mock.url}"\nenv_key = "MOCK_KEY"\nrequest_max_retries = 0\n'
            "stream_max_retries = 0\n"
        )
        mock.enqueue(response(message("answered without click")))
        result, modules = run_importtime(
            tmp_path, str(LAUNCHER), "exec", "--json", "--skip-git-repo-check", "-c", "model_verbosity=low",
            "say something", extra_env={"MOCK_KEY": "x"},
        )
        thread_id = json.loads(result.stdout.splitlines()[0])["thread_id"]
        mock.enqueue(response(message("resumed without click")))
        second, resumed_modules = run_importtime(
            tmp_path, str(LAUNCHER), "exec", "--json", "--skip-git-repo-check", "resume", thread_id,
            extra_env={"MOCK_KEY": "x"}, stdin="and then?",
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "answered without click" in result.stdout
    assert "pycodex.cli.exec_fast" in modules
    # Nor what only other paths need: the CLI framework, the rename scorer of turn diffs,
    # PKCE's `secrets`, undo's snapshots (no tool ran).
    unneeded = {"click", "pycodex.cli.main", "difflib", "secrets", "pycodex.core.undo"}
    assert unneeded.isdisjoint(modules), sorted(unneeded & modules)


    # The SDKs' next turn on that thread: `exec … resume <id>`, prompt on stdin.
    assert second.returncode == 0, second.stderr[-2000:]
    assert "resumed without click" in second.stdout
    assert "click" not in resumed_modules and "pycodex.cli.exec_fast" in resumed_modules
