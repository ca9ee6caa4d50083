"""The HTTP stack (httpx2), imported without `importlib.metadata`.

httpx2 and httpcore2 look their own version up with `importlib.metadata.version()` at
import time, which imports `importlib.metadata` with `email`, `zipfile` and friends:
~20–40 ms of every `exec`. While they are imported, a small stand-in answers `version()`
from the `.dist-info` directory name; any other use of `importlib.metadata` during that
window gets the real module. Import `httpx2` from here: `from pycodex.http import httpx2`.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any


def _dist_version(name: str) -> str:
    prefix = name.replace("-", "_") + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for candidate in names:
            if candidate.startswith(prefix) and candidate.endswith(".dist-info"):
                return candidate[len(prefix) : -len(".dist-info")]
    return _real_metadata().version(name)  # type: ignore[no-any-return]


def _real_metadata() -> Any:
    if isinstance(sys.modules.get("importlib.metadata"), _StandIn):
        del sys.modules["importlib.metadata"]
    import importlib.metadata

    return importlib.metadata


class _StandIn(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            # The import system probes `__path__` and friends: not a reason to load.
            raise AttributeError(name)
        return getattr(_real_metadata(), name)


def _import_quietly() -> None:
    if "httpx2" in sys.modules or "importlib.metadata" in sys.modules:
        return
    stand_in = _StandIn("importlib.metadata")
    stand_in.version = _dist_version  # type: ignore[attr-defined]
    sys.modules["importlib.metadata"] = stand_in
    try:
        # httpcore2 first: httpx2 imports it lazily, and that must happen in here too.
        import httpcore2  # noqa: F401
        import httpx2  # noqa: F401
    finally:
        if sys.modules.get("importlib.metadata") is stand_in:
            del sys.modules["importlib.metadata"]


_import_quietly()

import httpx2  # noqa: E402

__all__ = ["httpx2"]
