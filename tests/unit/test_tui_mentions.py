"""`@` mentions (pycodex.frontends.tui.mentions): the token under the cursor, how a path
is written into the message, and the fuzzyFileSearch requests behind the completion menu."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pycodex.frontends.tui.mentions import (
    FileHit,
    FileSearch,
    Mention,
    find_mention,
    mention_text,
)


@pytest.mark.parametrize(
    ("text", "cursor", "expected"),
    [
        ("@", 1, Mention(0, 1, "")),
        ("look at @src/ma", 15, Mention(8, 15, "src/ma")),
        ("look at @src/main.py now", 12, Mention(8, 20, "src/main.py")),  # cursor inside
        ("a @x\nb", 4, Mention(2, 4, "x")),
        ("mail me@example.com", 19, None),  # not at a word start
        ("look at @src now", 16, None),  # cursor in a later word
        ("", 0, None),
        ("plain", 3, None),
    ],
)
def test_find_mention(text: str, cursor: int, expected: Mention | None) -> None:
    assert find_mention(text, cursor) == expected


class FakeServer:
    def __init__(self, files: list[dict[str, Any]]) -> None:
        self.files = files
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        self.asked.append((method, params))
        return {"files": self.files}


FILES = [
    {"root": "/w", "path": "src/main.py", "file_name": "main.py", "match_type": "file", "score": 9,
     "indices": [4, 5]},
    {"root": "/w", "path": "docs/manual.md", "file_name": "manual.md", "match_type": "file",
     "score": 5, "indices": None},
]


def test_file_search_asks_fuzzy_file_search_with_one_cancellation_token() -> None:
    server = FakeServer(FILES)
    search = FileSearch(server.request, lambda: ["/w"])
    hits = asyncio.run(search.search("ma"))
    asyncio.run(search.search("mai"))
    assert hits == [FileHit("src/main.py", (4, 5)), FileHit("docs/manual.md", ())]
    (m1, p1), (m2, p2) = server.asked
    assert m1 == m2 == "fuzzyFileSearch"
    assert (p1["query"], p1["roots"], p2["query"]) == ("ma", ["/w"], "mai")
    # The same token: the server cancels the first search when the second arrives.
    assert p1["cancellationToken"] == p2["cancellationToken"]
    assert asyncio.run(search.search("")) == []
    assert len(server.asked) == 2  # an empty query asks nothing


def test_mention_text_quotes_paths_with_spaces() -> None:
    assert mention_text("src/main.py") == "src/main.py"
    assert mention_text("my docs/a b.md") == '"my docs/a b.md"'
