"""`@` file mentions in the composer: find the `@token` under the cursor, ask the
app-server's `fuzzyFileSearch` for matching files; the chosen path replaces the token.

Only a token that starts a word is a mention (`mail@example.com` is not). The search
runs in the app-server (gitignore-aware, fast in big repositories); every request of a
composer carries the same cancellation token, so a search made stale by the next
keystroke is cancelled there instead of competing with it.

The composer's completer (live.py) offers the hits in prompt_toolkit's menu, together
with slash-command completion. No terminal code here: these are pure functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

Request = Callable[[str, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Mention:
    start: int  # index of the "@"
    end: int  # index after the token
    query: str  # the token without its "@"


@dataclass(frozen=True)
class FileHit:
    path: str  # relative to its root, as the app-server reports it
    indices: tuple[int, ...]  # matched character positions in `path`


def find_mention(text: str, cursor: int) -> Mention | None:
    """The `@token` the cursor is in or right after, if any."""
    cursor = max(0, min(cursor, len(text)))
    start = cursor
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    if start >= len(text) or text[start] != "@":
        return None
    end = cursor
    while end < len(text) and not text[end].isspace():
        end += 1
    return Mention(start, end, text[start + 1: end])


def mention_text(path: str) -> str:
    """How a chosen path goes into the message: quoted when it has whitespace."""
    return f'"{path}"' if any(ch.isspace() for ch in path) else path


class FileSearch:
    """Asks `fuzzyFileSearch`; each instance cancels its own stale searches."""

    def __init__(self, request: Request, roots: Callable[[], Sequence[str]]) -> None:
        self._request = request
        self._roots = roots
        self._token = f"tui-mention-{uuid.uuid4().hex[:12]}"

    async def search(self, query: str) -> list[FileHit]:
        if not query:
            return []
        answer = await self._request(
            "fuzzyFileSearch",
            {"query": query, "roots": list(self._roots()), "cancellationToken": self._token},
        )
        return [
            FileHit(str(f["path"]), tuple(f.get("indices") or ()))
            for f in answer.get("files", [])
        ]
