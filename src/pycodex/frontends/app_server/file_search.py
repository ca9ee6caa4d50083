"""Fuzzy file search (`fuzzyFileSearch`): which files of some roots match a typed query,
best first, with the matched characters for highlighting.

Candidates: in a git work tree, `git ls-files` (tracked and untracked-but-not-ignored
files: gitignore rules exactly as git applies them, and fast in a big repository); else
a walk that skips VCS and dependency/build directories and the names listed in the
root's `.gitignore` (a simple reading: globs on names, no negation).

Matching is a case-insensitive subsequence match (`fzf`-style). A regular expression
built from the query rejects most paths in C before any Python scoring. The chosen
alignment is the one ending last in the path (so the file name is preferred), pulled as
far right as it goes; its score rewards matches at word starts, in the file name and
next to each other, and penalises gaps. Ties sort by path.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MATCH_LIMIT = 50
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".tox", "target", "dist", "build", ".next", ".cache",
})
GIT_TIMEOUT_S = 30.0

SCORE_MATCH = 16
BONUS_BOUNDARY = 10
BONUS_CONSECUTIVE = 8
BONUS_FILE_NAME = 4
BONUS_FIRST_CHAR = 8
PENALTY_GAP_START = 3
PENALTY_GAP = 1
_SEPARATORS = "/\\_-. "


@dataclass(frozen=True)
class FileMatch:
    root: str
    path: str  # relative to root
    score: int
    indices: list[int]

    def to_json(self) -> dict[str, object]:
        return {
            "root": self.root, "path": self.path, "match_type": "file",
            "file_name": self.path.rsplit("/", 1)[-1], "score": self.score, "indices": self.indices,
        }


def search(query: str, roots: list[str], *, cancel: threading.Event | None = None,
           limit: int = MATCH_LIMIT) -> list[FileMatch]:
    """The best `limit` matches of `query` in `roots` (blocking: run it in a worker thread).
    Returns what it has found so far, possibly nothing, once `cancel` is set."""
    cancel = cancel or threading.Event()
    if not query:
        return []
    prefilter = re.compile(".*?".join(re.escape(c) for c in query), re.IGNORECASE)
    found: list[FileMatch] = []
    for root in roots:
        for path in candidates(Path(root), cancel):
            if cancel.is_set():
                return []
            if prefilter.search(path) is None:
                continue
            scored = score(query, path)
            if scored is not None:
                found.append(FileMatch(root, path, scored[0], scored[1]))
    found.sort(key=lambda m: (-m.score, m.path))
    return found[:limit]


def score(query: str, path: str) -> tuple[int, list[int]] | None:
    """(score, matched indices) of `query` in `path`, or None when it does not match."""
    lower, needle = path.lower(), query.lower()
    indices = _rightmost(needle, lower)
    if indices is None:
        return None
    name_start = path.rfind("/") + 1
    total = 0
    for n, i in enumerate(indices):
        total += SCORE_MATCH
        if i == 0 or path[i - 1] in _SEPARATORS or (path[i].isupper() and path[i - 1].islower()):
            total += BONUS_FIRST_CHAR if n == 0 else BONUS_BOUNDARY
        if i >= name_start:
            total += BONUS_FILE_NAME
        if n > 0:
            gap = i - indices[n - 1] - 1
            total += BONUS_CONSECUTIVE if gap == 0 else -(PENALTY_GAP_START + PENALTY_GAP * (gap - 1))
    return max(total, 0), indices


def _rightmost(needle: str, hay: str) -> list[int] | None:
    """Indices of the subsequence match ending last, each character taken as far right as
    it goes (scanning from the end backwards): matches gather in the file name."""
    indices: list[int] = []
    pos = len(hay)
    for ch in reversed(needle):
        pos = hay.rfind(ch, 0, pos)
        if pos < 0:
            return None
        indices.append(pos)
    indices.reverse()
    return indices


def candidates(root: Path, cancel: threading.Event) -> Iterator[str]:
    """Paths (relative, `/`-separated) of the files under `root` worth matching."""
    tracked = _git_files(root)
    if tracked is not None:
        yield from tracked
        return
    yield from _walk(root, _gitignore_globs(root), cancel)


def _git_files(root: Path) -> list[str] | None:
    """`git ls-files` (cached + untracked, ignored left out), or None outside a work tree."""
    if not (root / ".git").exists():
        return None  # a subdirectory of a repository is walked; cheap and good enough
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True, timeout=GIT_TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    files = done.stdout.decode("utf-8", errors="replace").split("\0")
    # A deleted but still tracked file is listed too: only what exists is offered.
    return sorted({f for f in files if f and os.path.lexists(root / f)})


def _gitignore_globs(root: Path) -> list[str]:
    try:
        text = (root / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    globs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")):
            globs.append(line.strip("/"))
    return globs


def _walk(root: Path, ignored: list[str], cancel: threading.Event) -> Iterator[str]:
    def skip(name: str, rel: str) -> bool:
        return any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(rel, g) for g in ignored)

    for dirpath, dirnames, filenames in os.walk(root):
        if cancel.is_set():
            return
        base = os.path.relpath(dirpath, root)
        prefix = "" if base == "." else base.replace(os.sep, "/") + "/"
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not skip(d, prefix + d))
        for name in sorted(filenames):
            if not skip(name, prefix + name):
                yield prefix + name
