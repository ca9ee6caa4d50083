"""Git facts for the session header, read from the files, agree with `git` itself.

Each layout is built with the real `git`, then the file reader's answer is compared with
what the three `git` commands print (the way the facts were gathered before).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pycodex.rollout.git_info import _git, collect_git_info, read_git_info

GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@localhost", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@localhost"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


def repo(tmp: Path, *, commit: bool = True) -> Path:
    root = tmp / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    if commit:
        (root / "f").write_text("x\n")
        git(root, "add", "f")
        git(root, "commit", "-q", "-m", "one")
    return root


def by_git(cwd: Path) -> tuple[str | None, str | None, str | None]:
    async def ask() -> tuple[str | None, str | None, str | None]:
        return await asyncio.gather(
            _git(cwd, "rev-parse", "HEAD"),
            _git(cwd, "rev-parse", "--abbrev-ref", "HEAD"),
            _git(cwd, "config", "--get", "remote.origin.url"),
        )
    commit, branch, remote = asyncio.run(ask())
    return commit, None if branch == "HEAD" else branch, remote


def by_files(cwd: Path) -> tuple[str | None, str | None, str | None]:
    commit, branch, remote = read_git_info(cwd)
    return commit, None if branch == "HEAD" else branch, remote


def plain(tmp: Path) -> Path:
    return repo(tmp)


def with_remote(tmp: Path) -> Path:
    root = repo(tmp)
    git(root, "remote", "add", "origin", "git@example.com:me/proj.git")
    git(root, "remote", "add", "upstream", "https://example.com/up.git")
    return root


def subdirectory(tmp: Path) -> Path:
    root = with_remote(tmp)
    (root / "a" / "b").mkdir(parents=True)
    return root / "a" / "b"


def packed_refs(tmp: Path) -> Path:
    root = repo(tmp)
    git(root, "checkout", "-q", "-b", "feature/x")
    git(root, "pack-refs", "--all")
    return root


def detached(tmp: Path) -> Path:
    root = repo(tmp)
    git(root, "checkout", "-q", "--detach")
    return root


def unborn(tmp: Path) -> Path:
    return repo(tmp, commit=False)


def worktree(tmp: Path) -> Path:
    root = with_remote(tmp)
    git(root, "worktree", "add", "-q", "-b", "wt-branch", str(tmp / "wt"))
    return tmp / "wt"


def not_a_repo(tmp: Path) -> Path:
    (tmp / "nothing").mkdir()
    return tmp / "nothing"


LAYOUTS: list[Callable[[Path], Path]] = [
    plain, with_remote, subdirectory, packed_refs, detached, unborn, worktree, not_a_repo,
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda f: f.__name__)
def test_files_agree_with_git(tmp_path: Path, layout: Callable[[Path], Path]) -> None:
    cwd = layout(tmp_path)
    if layout is not_a_repo and any(p.joinpath(".git").exists() for p in cwd.parents):
        pytest.skip(f"{cwd} is inside another repository; cannot build a repo-less dir here")
    assert by_files(cwd) == by_git(cwd)


def test_header_facts(tmp_path: Path) -> None:
    cwd = with_remote(tmp_path)
    info = asyncio.run(collect_git_info(cwd))
    assert info == {"commit_hash": git(cwd, "rev-parse", "HEAD"), "branch": "main",
                    "repository_url": "git@example.com:me/proj.git"}


def test_quoted_config_values_are_left_to_git(tmp_path: Path) -> None:
    cwd = repo(tmp_path)
    with (cwd / ".git" / "config").open("a") as fh:
        fh.write('[remote "origin"]\n\turl = "/path with \\"quotes\\""\n')
    info = asyncio.run(collect_git_info(cwd))
    assert info["repository_url"] == git(cwd, "config", "--get", "remote.origin.url")
    assert info["repository_url"] == '/path with "quotes"'
