"""How the HTTP stack (httpcore2, httpx2) is imported: no `importlib.metadata`, no anyio.

httpx2 and httpcore2 look their own version up with `importlib.metadata.version()` at
import time, which imports `importlib.metadata` with `email`, `zipfile` and friends:
~20–40 ms of every `exec`. While they are imported, a small stand-in answers `version()`
from the `.dist-info` directory name; any other use of `importlib.metadata` during that
window gets the real module.

httpx2 also imports `httpx2._alias` (its `alias_httpx()`, for programs migrating from
httpx), whose `import importlib.abc` drags in `importlib.resources`, `tempfile`, `shutil`,
`bz2`, `lzma` and `random` (~7–12 ms) that pycodex never uses. A stand-in module takes its
place during the import; `httpx2.alias_httpx()` still works (it loads the real module on
its first call), and a later `import httpx2._alias` gets the real module.

httpcore2 imports anyio (and its TLS stream module) eagerly, for its asyncio connection
pool: ~28 M instructions (~6 ms). pycodex's model client does not use that pool
(`pycodex.client.wire_threads` drives the synchronous one from threads), so anyio is
kept out of the import and handed to httpcore2 on first use: its async primitives and
`httpcore2.AnyIOBackend` load anyio then, and everything else (an `httpx2.AsyncClient`
with its default transport, as the MCP SDK or a proxy mount use) works as before.

Import `httpx2` through `pycodex.http` (`from pycodex.http import httpx2`) and httpcore2
alone through `pycodex.http_core` (`from pycodex.http_core import httpcore2`).
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


_ALIAS = "httpx2._alias"


def alias_httpx() -> None:
    """httpx2's `alias_httpx()`, from the real `httpx2._alias` (loaded on first call)."""
    if isinstance(sys.modules.get(_ALIAS), _AliasStandIn):
        del sys.modules[_ALIAS]
    import importlib

    importlib.import_module(_ALIAS).alias_httpx()


class _AliasStandIn(types.ModuleType):
    """Takes `httpx2._alias`'s place while httpx2 is imported (`from ._alias import *`)."""

    def __init__(self) -> None:
        super().__init__(_ALIAS)
        self.__all__ = ["alias_httpx"]
        self.alias_httpx = alias_httpx


def load(*, httpx: bool) -> None:
    """Import httpcore2 (and httpx2 with `httpx`) as described above; a no-op for what is
    already imported."""
    if "httpx2" in sys.modules or (not httpx and "httpcore2" in sys.modules):
        return
    stand_ins: dict[str, types.ModuleType] = {_ALIAS: _AliasStandIn()}
    if "importlib.metadata" not in sys.modules:
        metadata = _StandIn("importlib.metadata")
        metadata.version = _dist_version  # type: ignore[attr-defined]
        stand_ins["importlib.metadata"] = metadata
    sys.modules.update(stand_ins)
    defer_anyio = "anyio" not in sys.modules
    if defer_anyio:
        sys.modules["anyio"] = None  # type: ignore[assignment]  # `import anyio` fails
    try:
        # httpcore2 first: httpx2 imports it lazily, and that must happen in here too.
        import httpcore2  # noqa: F401

        if httpx:
            import httpx2  # noqa: F401
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
        if defer_anyio and sys.modules.get("anyio", False) is None:
            del sys.modules["anyio"]
    if defer_anyio:
        _hand_anyio_over_on_demand()
    # `from ._alias import *` also bound the stand-in as the package attribute; without it
    # a later `import httpx2._alias` loads the real module and binds that instead.
    package = sys.modules.get("httpx2")
    if package is not None and isinstance(getattr(package, "_alias", None), _AliasStandIn):
        del package._alias


class _AnyioOnDemand:
    """Stands for `anyio` in `httpcore2._synchronization` until first touched."""

    def __getattr__(self, name: str) -> Any:
        import anyio

        setattr(sys.modules["httpcore2._synchronization"], "anyio", anyio)  # noqa: B010
        return getattr(anyio, name)


def _anyio_backend_on_demand(name: str) -> Any:
    """httpcore2's module `__getattr__`: its real `AnyIOBackend`, loaded when asked for."""
    if name != "AnyIOBackend":
        raise AttributeError(f"module 'httpcore2' has no attribute {name!r}")
    import httpcore2
    from httpcore2._backends.anyio import AnyIOBackend

    httpcore2.AnyIOBackend = AnyIOBackend  # type: ignore[misc]
    return AnyIOBackend


def _hand_anyio_over_on_demand() -> None:
    import httpcore2
    import httpcore2._synchronization as sync

    # Where httpcore2 saw no anyio it holds None (its async primitives) and a stub class
    # that raises (AnyIOBackend); both are replaced by loaders of the real thing.
    if getattr(sync, "anyio", False) is None:
        setattr(sync, "anyio", _AnyioOnDemand())  # noqa: B010  (not a declared attribute)
    if "httpcore2._backends.anyio" not in sys.modules and "AnyIOBackend" in vars(httpcore2):
        del httpcore2.AnyIOBackend
        setattr(httpcore2, "__getattr__", _anyio_backend_on_demand)  # noqa: B010  (PEP 562)

