"""What a review looks at: the request's target turned into the reviewer's task.

Targets (Codex's `ReviewTarget`, and the older free-form `{prompt}`):
``uncommittedChanges`` (staged, unstaged and untracked files against HEAD), ``baseBranch``
(the working tree against the merge base with the branch), ``commit`` (what one commit
introduced) and ``custom`` (the user's own instructions). For the git targets the diff is
put in the task itself, so the reviewer starts from exactly the change under review (up
to :data:`MAX_DIFF_BYTES`; the rest it can read with the git command the task names).

Blocking (runs git); the engine calls :func:`build_review_task` from a worker thread.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import msgspec

from pycodex.protocol.review import ReviewRequest

MAX_DIFF_BYTES = 96 * 1024
GIT_TIMEOUT_S = 30.0


class ReviewTargetError(Exception):
    """The target cannot be reviewed (no repository, unknown branch or commit…)."""


class ReviewTask(msgspec.Struct, frozen=True):
    """The reviewer's first message, and a short description of the target for the user."""

    prompt: str
    hint: str


def build_review_task(request: ReviewRequest, cwd: Path) -> ReviewTask:
    target: dict[str, Any] = dict(request.target or {})
    if not target and request.prompt:
        target = {"type": "custom", "instructions": request.prompt}
    kind = target.get("type")
    if kind == "uncommittedChanges":
        task = _uncommitted(cwd)
    elif kind == "baseBranch":
        task = _base_branch(cwd, _required(target, "branch"))
    elif kind == "commit":
        task = _commit(cwd, _required(target, "sha"), target.get("title"))
    elif kind == "custom":
        instructions = str(target.get("instructions") or "").strip()
        if not instructions:
            raise ReviewTargetError("the review instructions are empty")
        task = ReviewTask(prompt=instructions, hint=instructions.splitlines()[0])
    else:
        raise ReviewTargetError(f"unknown review target {kind!r}")
    if request.user_facing_hint:
        task = ReviewTask(prompt=task.prompt, hint=request.user_facing_hint)
    return task


def _required(target: dict[str, Any], key: str) -> str:
    value = target.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ReviewTargetError(f"the review target {target.get('type')!r} needs a {key!r}")
    return value.strip()


def _git(cwd: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}  # never take the index lock
    try:
        done = subprocess.run(
            ["git", "--no-pager", *args], cwd=cwd, env=env, capture_output=True,
            timeout=GIT_TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReviewTargetError(f"git {args[0]} failed: {exc}") from exc
    if check and done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ReviewTargetError(f"git {' '.join(args)}: {detail[0] if detail else 'failed'}")
    return done.stdout.decode("utf-8", "replace")


def _repo_root(cwd: Path) -> Path:
    try:
        return Path(_git(cwd, "rev-parse", "--show-toplevel").strip())
    except ReviewTargetError:
        raise ReviewTargetError(f"{cwd} is not inside a git repository; review it with custom instructions") from None


def _bounded(diff: str, how_to_see_all: str) -> str:
    data = diff.encode("utf-8")
    if len(data) <= MAX_DIFF_BYTES:
        return diff
    cut = data[:MAX_DIFF_BYTES].decode("utf-8", "ignore")
    return cut + f"\n[diff truncated at {MAX_DIFF_BYTES} bytes of {len(data)}; run `{how_to_see_all}` for the rest]\n"


def _has_head(root: Path) -> bool:
    return bool(_git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).strip())


def _uncommitted(cwd: Path) -> ReviewTask:
    root = _repo_root(cwd)
    tracked = _git(root, "diff", "HEAD") if _has_head(root) else _git(root, "diff", "--cached")
    untracked = [p for p in _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0") if p]
    new_files = "".join(
        _git(root, "diff", "--no-index", "--", os.devnull, path, check=False) for path in untracked
    )
    diff = tracked + new_files
    if not diff.strip():
        raise ReviewTargetError("there are no uncommitted changes to review")
    prompt = (
        f"Review the uncommitted changes in the repository at {root}: staged, unstaged and "
        "untracked files, against HEAD. The complete diff follows.\n\n"
        f"```diff\n{_bounded(diff, 'git diff HEAD')}```"
    )
    return ReviewTask(prompt=prompt, hint="current changes")


def _base_branch(cwd: Path, branch: str) -> ReviewTask:
    root = _repo_root(cwd)
    if not _git(root, "rev-parse", "--verify", "-q", f"{branch}^{{commit}}", check=False).strip():
        raise ReviewTargetError(f"unknown branch {branch!r}")
    base = _git(root, "merge-base", "HEAD", branch).strip()
    diff = _git(root, "diff", base)
    prompt = (
        f"Review the changes of the current branch against the base branch '{branch}' in the "
        f"repository at {root}. Their merge base is commit {base}; the diff below is "
        f"`git diff {base}` (the working tree against that commit).\n\n"
        f"```diff\n{_bounded(diff, f'git diff {base}')}```"
    )
    return ReviewTask(prompt=prompt, hint=f"changes against '{branch}'")


def _commit(cwd: Path, sha: str, title: Any) -> ReviewTask:
    root = _repo_root(cwd)
    full = _git(root, "rev-parse", "--verify", "-q", f"{sha}^{{commit}}", check=False).strip()
    if not full:
        raise ReviewTargetError(f"unknown commit {sha!r}")
    subject = title if isinstance(title, str) and title.strip() else _git(root, "log", "-1", "--format=%s", full).strip()
    shown = _git(root, "show", "--format=commit %H%nAuthor: %an <%ae>%n%n%B", full)
    prompt = (
        f"Review the changes introduced by commit {full} (\"{subject}\") in the repository at "
        f"{root}. The commit message and its diff follow.\n\n"
        f"```diff\n{_bounded(shown, f'git show {full}')}```"
    )
    return ReviewTask(prompt=prompt, hint=f"commit {full[:7]}: {subject}")
