"""httpcore2 alone (no httpx2), imported without `importlib.metadata` or anyio (see
`pycodex.http_stack`): `from pycodex.http_core import httpcore2`."""

from __future__ import annotations

from pycodex.http_stack import load

load(httpx=False)

import httpcore2  # noqa: E402

__all__ = ["httpcore2"]
