"""`pycodex undo` end to end: a real `pycodex exec` turn patches two files (apply_patch)
and runs `sed -i` on a third, the user then edits another file, and `pycodex undo` puts
back exactly the turn's three files — in a git repository (whose index, HEAD, branches
and stash stay as the user left them) and outside one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.exec_cli import PYCODEX, ExecHarness, shell_call
from tests.support.mock_model import custom_tool_call, message, response

pytestmark = pytest.mark.e2e

PATCH = """*** Begin Patch
*** Update File: a.txt
@@
-alpha
+ALPHA BY THE TURN
*** Update File: b.txt
@@
-beta
+BETA BY THE TURN
*** Add File: created/new.txt
+created by the turn
*** End Patch"""
ORIGINAL = {"a.txt": "alpha\n", "b.txt": "beta\n", "c.txt": "gamma\n", "existing.txt": "old line\n"}


def git(ws: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
                          cwd=ws, env=env, check=True, capture_output=True, text=True)
    return done.stdout


def git_state(ws: Path, env: dict[str, str]) -> dict[str, str]:
    """Everything of the user's git state undo must not touch."""
    return {
        "head": git(ws, env, "rev-parse", "HEAD"),
        "symbolic": git(ws, env, "symbolic-ref", "HEAD"),
        "refs": git(ws, env, "for-each-ref", "refs/heads", "refs/tags", "refs/stash"),
        "index": git(ws, env, "ls-files", "--stage"),
        "staged": git(ws, env, "diff", "--cached"),
    }


def run_turn(harness: ExecHarness, ws: Path, *extra: str) -> str:
    harness.mock.enqueue(
        response(custom_tool_call("apply_patch", PATCH, call_id="p1")),
        response(shell_call("sed -i 's/gamma/GAMMA BY SED/' c.txt", call_id="s1")),
        response(message("done")),
    )
    result = harness.run("--json", "-s", "danger-full-access", "-C", str(ws), *extra, "edit the files")
    assert result.rc == 0, result.stderr
    assert (ws / "a.txt").read_text() == "ALPHA BY THE TURN\n"
    assert (ws / "c.txt").read_text() == "GAMMA BY SED\n"
    thread: str = result.of_type("thread.started")[0]["thread_id"]
    return thread


def undo(harness: ExecHarness, ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PYCODEX), "undo", *args], cwd=ws, env=harness.env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def write_files(ws: Path) -> None:
    for name, text in ORIGINAL.items():
        (ws / name).write_text(text, encoding="utf-8")


def test_undo_in_git_restores_the_turns_files_and_keeps_the_users_edit(harness: ExecHarness) -> None:
    ws, env = harness.workspace, harness.env
    write_files(ws)
    git(ws, env, "add", "a.txt", "b.txt", "c.txt")
    git(ws, env, "commit", "-q", "-m", "files")
    (ws / "staged.txt").write_text("staged by the user\n")
    git(ws, env, "add", "staged.txt")  # the user's index holds a staged, uncommitted file
    (ws / "untracked.txt").write_text("mine\n")
    before = git_state(ws, env)

    run_turn(harness, ws)
    (ws / "existing.txt").write_text("the user's own edit\n")  # after the turn, before the undo
    done = undo(harness, ws)

    assert done.returncode == 0, done.stderr
    assert "a.txt" in done.stdout and "c.txt" in done.stdout
    for name in ("a.txt", "b.txt", "c.txt"):
        assert (ws / name).read_text() == ORIGINAL[name]
    assert not (ws / "created").exists()  # created by the turn: removed, with its directory
    assert (ws / "existing.txt").read_text() == "the user's own edit\n"
    assert (ws / "untracked.txt").read_text() == "mine\n"
    assert git_state(ws, env) == before
    assert git(ws, env, "stash", "list") == ""
    # The snapshots live on private refs only.
    assert git(ws, env, "for-each-ref", "--format=%(refname)", "refs/pycodex").strip()

    again = undo(harness, ws)  # nothing else to undo
    assert again.returncode == 1 and "nothing to undo" in again.stderr


def test_undo_refuses_when_a_file_of_the_turn_was_edited_since(harness: ExecHarness) -> None:
    ws, env = harness.workspace, harness.env
    write_files(ws)
    git(ws, env, "add", "a.txt", "b.txt", "c.txt")
    git(ws, env, "commit", "-q", "-m", "files")
    thread = run_turn(harness, ws)
    (ws / "b.txt").write_text("the user kept working on b\n")

    done = undo(harness, ws, thread)

    assert done.returncode == 1
    assert "b.txt" in done.stderr and "a.txt" not in done.stderr
    # Nothing was restored: the refusal is all or nothing.
    assert (ws / "a.txt").read_text() == "ALPHA BY THE TURN\n"
    assert (ws / "b.txt").read_text() == "the user kept working on b\n"


def test_undo_outside_a_git_repository(harness: ExecHarness) -> None:
    plain = harness.root / "plain"
    plain.mkdir()
    write_files(plain)
    thread = run_turn(harness, plain, "--skip-git-repo-check")
    (plain / "existing.txt").write_text("edited by the user\n")

    done = undo(harness, plain, thread)

    assert done.returncode == 0, done.stderr
    for name in ("a.txt", "b.txt", "c.txt"):
        assert (plain / name).read_text() == ORIGINAL[name]
    assert not (plain / "created").exists()
    assert (plain / "existing.txt").read_text() == "edited by the user\n"
    assert not (plain / ".git").exists()
