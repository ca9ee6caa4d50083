"""Git facts recorded in a session's header (commit, branch, remote), gathered cheaply."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

GIT_TIMEOUT_S = 2.0


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


async def collect_git_info(cwd: Path) -> dict[str, str]:
    """`{commit_hash, branch, repository_url}` for the repo at `cwd`; {} outside a repo."""
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
