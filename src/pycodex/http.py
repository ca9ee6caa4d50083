"""httpx2, imported without `importlib.metadata`, `importlib.abc` or anyio (see
`pycodex.http_stack`): `from pycodex.http import httpx2`."""

from __future__ import annotations

from pycodex.http_stack import _AliasStandIn, _StandIn, alias_httpx, load

load(httpx=True)

import httpx2  # noqa: E402

__all__ = ["_AliasStandIn", "_StandIn", "alias_httpx", "httpx2"]
