"""Git facts recorded in a session's header (commit, branch, remote), gathered cheaply.

Read straight from the repository's files (HEAD, refs, packed-refs, config): three `git`
processes cost ~10–30 ms of every start-up on a small machine. Layouts this reader does not
handle — the reftable ref store, config `include`s, `GIT_DIR`-style environment overrides —
are answered by `git` itself, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

GIT_TIMEOUT_S = 2.0
# Environment variables that make `git` look somewhere else than the cwd's repository.
_GIT_ENV_OVERRIDES = ("GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE", "GIT_CONFIG", "GIT_CONFIG_GLOBAL")


class _NeedsGit(Exception):
    """The repository uses something this reader does not parse: ask `git`."""


async def collect_git_info(cwd: Path) -> dict[str, str]:
    """`{commit_hash, branch, repository_url}` for the repo at `cwd`; {} outside a repo."""
    try:
        commit, branch, remote = read_git_info(cwd)
    except (_NeedsGit, OSError, UnicodeDecodeError):
        commit, branch, remote = await asyncio.gather(
            _git(cwd, "rev-parse", "HEAD"),
            _git(cwd, "rev-parse", "--abbrev-ref", "HEAD"),
            _git(cwd, "config", "--get", "remote.origin.url"),
        )
    info: dict[str, str] = {}
    if commit:
        info["commit_hash"] = commit
    if branch and branch != "HEAD":
        info["branch"] = branch
    if remote:
        info["repository_url"] = remote
    return info


def read_git_info(cwd: Path) -> tuple[str | None, str | None, str | None]:
    """(commit, branch, origin url) from the files, as the three `git` commands print them.

    Raises `_NeedsGit` for layouts it does not read, `OSError` for unreadable files.
    """
    if any(os.environ.get(name) for name in _GIT_ENV_OVERRIDES):
        raise _NeedsGit
    found = _find_git_dir(cwd)
    if found is None:
        return None, None, None
    git_dir, common = found
    if (common / "reftable").exists():
        raise _NeedsGit
    head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    if head.startswith("ref:"):
        ref = head[4:].strip()
        commit = _resolve_ref(common, git_dir, ref)
        branch = ref.removeprefix("refs/heads/") if commit is not None else None
    else:
        commit, branch = head or None, "HEAD"
    return commit, branch, _origin_url(common / "config")


def _find_git_dir(cwd: Path) -> tuple[Path, Path] | None:
    """(the worktree's git dir, the common dir holding refs and config), or None."""
    for directory in (cwd, *cwd.parents):
        dot_git = directory / ".git"
        if dot_git.is_dir():
            git_dir = dot_git
        elif dot_git.is_file():
            text = dot_git.read_text(encoding="utf-8").strip()
            if not text.startswith("gitdir:"):
                raise _NeedsGit
            git_dir = (directory / text[7:].strip()).resolve()
        else:
            continue
        common_file = git_dir / "commondir"
        if common_file.is_file():
            common = (git_dir / common_file.read_text(encoding="utf-8").strip()).resolve()
        else:
            common = git_dir
        return git_dir, common
    return None


def _resolve_ref(common: Path, git_dir: Path, ref: str, depth: int = 0) -> str | None:
    if depth > 5:
        raise _NeedsGit
    for base in (git_dir, common):
        loose = base / ref
        if loose.is_file():
            value = loose.read_text(encoding="utf-8").strip()
            if value.startswith("ref:"):
                return _resolve_ref(common, git_dir, value[4:].strip(), depth + 1)
            return value or None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8").splitlines():
            if line.endswith(" " + ref) and not line.startswith(("#", "^")):
                return line.split(" ", 1)[0]
    return None  # an unborn branch: `git rev-parse HEAD` fails too


def _origin_url(config: Path) -> str | None:
    """`remote.origin.url` from a config file in git's syntax (the common subset)."""
    if not config.is_file():
        return None
    section = ""
    url: str | None = None
    for raw in config.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]").strip()
            if section.lower().startswith("include"):
                raise _NeedsGit  # an included file may set the url
            continue
        key, sep, value = line.partition("=")
        if sep and section == 'remote "origin"' and key.strip().lower() == "url":
            url = _config_value(value)  # the last one wins, as with `git config --get`
    return url


def _config_value(value: str) -> str:
    value = value.strip()
    if '"' in value or "\\" in value:
        raise _NeedsGit  # quoting and escapes: let git unquote them
    for comment in (" #", " ;", "\t#", "\t;"):
        value = value.split(comment, 1)[0]
    return value.strip()


async def _git(cwd: Path, *args: str) -> str | None:
    try:
        proc = await asyncio.create_subprocess_exec(
            "git", *args, cwd=str(cwd),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        return None  # no git installed
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), GIT_TIMEOUT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return None
    if proc.returncode != 0:
        return None
    return out.decode("utf-8", errors="replace").strip() or None
