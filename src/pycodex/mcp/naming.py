"""The names MCP tools are offered to the model under (Codex's rule).

Model APIs accept tool names matching `^[a-zA-Z0-9_-]+$` of at most 64 bytes, while
server and tool names are whatever users and servers chose. A tool is offered as
`mcp__<server>__<tool>`, every other character replaced by `_`; a name that would pass
64 bytes keeps its first bytes and ends with the SHA-1 (hex) of the raw qualified name, so
it stays stable and distinct. A second tool that lands on a name already taken is dropped
(with a reason), as Codex does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import msgspec

DELIMITER = "__"
PREFIX = "mcp"
MAX_TOOL_NAME_BYTES = 64
_DISALLOWED = re.compile(r"[^A-Za-z0-9_-]")
_VALID_SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class QualifiedTool(msgspec.Struct, frozen=True):
    qualified: str
    server: str
    tool: str


def sanitize(name: str) -> str:
    # Any character outside the set, multi-byte ones included, becomes one `_`.
    return _DISALLOWED.sub("_", name) or "_"


def qualified_name(server: str, tool: str) -> str:
    """The name one tool is offered under, before collisions are considered."""
    raw = f"{PREFIX}{DELIMITER}{server}{DELIMITER}{tool}"
    name = sanitize(raw)
    if len(name) > MAX_TOOL_NAME_BYTES:
        digest = hashlib.sha1(raw.encode("utf-8")).hexdigest()
        name = name[: MAX_TOOL_NAME_BYTES - len(digest)] + digest
    return name


def qualify_tools(tools: Iterable[tuple[str, str]]) -> tuple[list[QualifiedTool], list[str]]:
    """`(server, tool)` pairs to offered names; also why any were dropped."""
    taken: set[str] = set()
    seen_raw: set[tuple[str, str]] = set()
    out: list[QualifiedTool] = []
    dropped: list[str] = []
    for server, tool in tools:
        if (server, tool) in seen_raw:
            dropped.append(f"MCP server `{server}` lists tool `{tool}` twice; the second is ignored")
            continue
        seen_raw.add((server, tool))
        name = qualified_name(server, tool)
        if name in taken:
            dropped.append(
                f"MCP tool `{server}/{tool}` is ignored: its name `{name}` is already taken"
            )
            continue
        taken.add(name)
        out.append(QualifiedTool(qualified=name, server=server, tool=tool))
    return out, dropped


def valid_server_name(name: str) -> bool:
    """Server names are part of tool names and config keys: Codex refuses any other."""
    return bool(_VALID_SERVER_NAME.match(name))
