"""`@` file mentions in the composer: find the `@token` under the cursor, ask the
app-server's `fuzzyFileSearch` for matching files, replace the token with the chosen path.

Only a token that starts a word is a mention (`mail@example.com` is not). The search
runs in the app-server (gitignore-aware, fast in big repositories); every request of a
composer carries the same cancellation token, so a search made stale by the next
keystroke is cancelled there instead of competing with it.

`MentionCompleter` plugs this into prompt_toolkit's completion menu (the composer merges
it with slash-command completion).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples

Request = Callable[[str, dict[str, Any]], Awaitable[Any]]
MAX_SHOWN = 20


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


def apply_mention(text: str, mention: Mention, path: str) -> tuple[str, int]:
    """`text` with the mention replaced by `path` and a space; the new cursor position."""
    inserted = mention_text(path) + " "
    rest = text[mention.end:]
    if rest.startswith(" "):
        rest = rest[1:]
    return text[: mention.start] + inserted + rest, mention.start + len(inserted)


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


def highlighted(hit: FileHit) -> StyleAndTextTuples:
    """The path with its matched characters in bold, for the completion menu."""
    marked = set(hit.indices)
    return [("bold" if i in marked else "", ch) for i, ch in enumerate(hit.path)]


class MentionCompleter(Completer):
    """prompt_toolkit completion of the `@token` before the cursor with file paths."""

    def __init__(self, search: FileSearch) -> None:
        self._search = search

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        return []  # the search is asynchronous: see get_completions_async

    async def get_completions_async(
        self, document: Document, complete_event: CompleteEvent
    ) -> AsyncGenerator[Completion, None]:
        mention = find_mention(document.text, document.cursor_position)
        if mention is None or mention.end != document.cursor_position or not mention.query:
            return
        for hit in (await self._search.search(mention.query))[:MAX_SHOWN]:
            yield Completion(
                mention_text(hit.path) + " ",
                start_position=mention.start - document.cursor_position,
                display=highlighted(hit),
            )
