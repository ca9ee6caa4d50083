"""The top-level `pycodex` command: help, version, and what a Codex user types first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pycodex import __version__

pytestmark = pytest.mark.e2e

PYCODEX = Path(sys.executable).parent / "pycodex"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PYCODEX), *args], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )


def test_version_and_help() -> None:
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith(f"pycodex {__version__} ")
    assert run("exec", "-V").stdout == f"pycodex-exec {__version__}\n"
    bare = run()
    assert bare.returncode == 0 and "exec" in bare.stdout and "Commands:" in bare.stdout


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (("fix the failing test",), "pycodex exec 'fix the failing test'"),
        (("resume", "--last"), "pycodex exec resume --last"),
    ],
)
def test_the_interactive_tui_without_a_terminal_points_to_exec(args: tuple[str, ...], suggestion: str) -> None:
    r = run(*args)
    assert r.returncode == 1
    assert r.stderr.strip() == (
        f"Error: the interactive TUI needs a terminal (stdin and stdout); without one use: {suggestion}"
    )


def test_a_mistyped_command_is_named_not_taken_for_a_task() -> None:
    r = run("exce")
    assert r.returncode == 2 and "No such command 'exce'" in r.stderr


def test_top_level_config_applies_to_exec_under_its_own(tmp_path: Path) -> None:
    """`pycodex -c k=v exec …`: the top-level value is used unless exec's own -c says else."""
    from tests.support.exec_cli import ExecHarness
    from tests.support.mock_model import MockModelServer, message, response

    with MockModelServer() as mock:
        harness = ExecHarness(root=tmp_path, mock=mock)
        mock.enqueue(response(message("one")), response(message("two")))
        for extra, expected in (((), "gpt-root"), (("-c", 'model="gpt-own"'), "gpt-own")):
            proc = subprocess.run(
                [str(PYCODEX), "-c", 'model="gpt-root"', "exec", *extra, "--json", "hi"],
                cwd=harness.workspace, env=harness.env, capture_output=True, text=True,
                timeout=60, stdin=subprocess.DEVNULL,
            )
            assert proc.returncode == 0, proc.stderr
            assert mock.model_requests()[-1].body["model"] == expected
