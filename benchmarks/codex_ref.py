"""Where the reference Codex binary is, for the side-by-side benchmarks (never installs it).

Looked up in order: an explicit path (`--codex`), `$CODEX_BIN`, a `codex` beside this
interpreter, `codex` on PATH, then inside an installed `openai-codex-cli-bin` distribution.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sys
from pathlib import Path

CODEX_DIST = "openai-codex-cli-bin"


def _executable(candidate: str | Path | None) -> Path | None:
    if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
        return Path(candidate)
    return None


def find_codex(explicit: str | None = None) -> Path | None:
    for candidate in (
        explicit,
        os.environ.get("CODEX_BIN"),
        Path(sys.executable).parent / "codex",
        shutil.which("codex"),
    ):
        if (found := _executable(candidate)) is not None:
            return found
    try:
        dist = importlib.metadata.distribution(CODEX_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in dist.files or []:
        found = _executable(str(dist.locate_file(entry))) if entry.name in ("codex", "codex.exe") else None
        if found is not None:
            return found
    return None
