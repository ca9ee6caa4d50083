"""`[mcp_servers.<name>]` tables for tests: the fixture server of
`tests/support/mcp_fixture_server.py`, run by this interpreter."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def toml_value(value: object) -> str:
    """A TOML value for strings, numbers, booleans and lists of strings (JSON syntax is
    valid TOML for those)."""
    return json.dumps(value)


def fixture_server(name: str = "fx", *, env: dict[str, str] | None = None, **keys: object) -> str:
    """A config.toml table starting the fixture server; `keys` are extra settings."""
    server_env = {"PYTHONPATH": str(REPO), **(env or {})}
    lines = [
        f"[mcp_servers.{name}]",
        f"command = {toml_value(sys.executable)}",
        'args = ["-m", "tests.support.mcp_fixture_server"]',
        *(f"{key} = {toml_value(value)}" for key, value in keys.items()),
        f"[mcp_servers.{name}.env]",
        *(f"{key} = {toml_value(value)}" for key, value in server_env.items()),
    ]
    return "\n" + "\n".join(lines) + "\n"
