"""Where the shared design folder (captured Codex data, schemas) is: `$PYCODEX_SHARED`, else
`../shared` next to the checkout."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("PYCODEX_SHARED") or Path(__file__).resolve().parents[3] / "shared")
REFERENCE = SHARED / "reference"
APP_SERVER_REFERENCE = REFERENCE / "app-server"
APP_SERVER_SCHEMAS = REFERENCE / "app-server-schema" / "stable"
