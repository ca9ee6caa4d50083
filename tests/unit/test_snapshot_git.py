"""`GitSnapshotter.take`: a ghost commit of the working tree, the user's index untouched."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pycodex.context import snapshot_git
from pycodex.context.snapshot_git import REF_PREFIX, GitSnapshotter

ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@t"}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, env=ENV, check=True, capture_output=True, text=True).stdout


def tree_of(root: Path, commit: str) -> set[str]:
    return set(git(root, "ls-tree", "-r", "--name-only", commit).split())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", ".")
    (root / ".gitignore").write_text("ignored.txt\n")
    (root / "tracked.txt").write_text("v1\n")
    return root


def test_a_repository_without_commits_gets_a_parentless_snapshot(repo: Path) -> None:
    (repo / "ignored.txt").write_text("never\n")
    commit = GitSnapshotter(repo).take("t/1/before")
    assert git(repo, "rev-list", "--parents", "-n", "1", commit).split() == [commit]
    assert tree_of(repo, commit) == {".gitignore", "tracked.txt"}
    assert git(repo, "rev-parse", REF_PREFIX + "t/1/before").strip() == commit
    assert git(repo, "status", "--porcelain").splitlines() == ["?? .gitignore", "?? tracked.txt"]


def test_a_snapshot_holds_the_changes_and_untracked_files_on_top_of_head(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    head = git(repo, "rev-parse", "HEAD").strip()
    (repo / "tracked.txt").write_text("v2\n")
    (repo / "new.txt").write_text("new\n")
    (repo / "big.bin").write_bytes(b"x" * 64)
    monkeypatch.setattr(snapshot_git, "MAX_FILE_BYTES", 32)
    commit = GitSnapshotter(repo).take("t/2/after")
    assert git(repo, "rev-list", "--parents", "-n", "1", commit).split() == [commit, head]
    assert tree_of(repo, commit) == {".gitignore", "tracked.txt", "new.txt"}
    assert git(repo, "show", f"{commit}:tracked.txt") == "v2\n"
    # The user's index is as it was: the change is unstaged, the new files untracked.
    assert sorted(git(repo, "status", "--porcelain").splitlines()) == [" M tracked.txt", "?? big.bin", "?? new.txt"]
