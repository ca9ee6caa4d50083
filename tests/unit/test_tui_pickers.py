"""The list picker model (pycodex.frontends.tui.pickers): search, highlight, drawing, and
the /resume items made from a `thread/list` answer."""

from __future__ import annotations

import asyncio
from typing import Any

from pycodex.frontends.tui.pickers import (
    Picker,
    PickerItem,
    age,
    clip,
    fetch_thread_items,
    thread_items,
)


def items(*labels: str) -> list[PickerItem[str]]:
    return [PickerItem(label, label.upper(), detail=f"d-{label}") for label in labels]


def test_search_keeps_items_containing_every_word_in_their_original_order() -> None:
    picker = Picker("Pick", items("fix login bug", "add logout", "login page", "docs"))
    picker.type_text("LOG")
    assert [i.label for i in picker.filtered] == ["fix login bug", "add logout", "login page"]
    picker.type_text("in page")
    assert [i.label for i in picker.filtered] == ["login page"]
    picker.backspace()
    picker.backspace()
    picker.backspace()
    picker.backspace()
    picker.backspace()
    assert picker.query == "LOGin"
    assert [i.label for i in picker.filtered] == ["fix login bug", "login page"]


def test_search_matches_detail_and_hidden_search_text() -> None:
    picker = Picker("Pick", [PickerItem("a", 1, detail="in /srv/app"), PickerItem("b", 2, search_text="0199-id")])
    picker.set_query("/srv")
    assert [i.value for i in picker.filtered] == [1]
    picker.set_query("0199")
    assert [i.value for i in picker.filtered] == [2]


def test_highlight_wraps_and_the_window_follows_it() -> None:
    picker = Picker("Pick", items(*(f"item{i}" for i in range(30))), rows=5)
    picker.move(-1)
    chosen = picker.chosen()
    assert chosen is not None and chosen.label == "item29"
    assert picker.offset == 25
    picker.move(1)
    assert picker.index == 0 and picker.offset == 0
    picker.page(1)
    assert picker.index == 5 and picker.offset == 1
    picker.page(10)
    assert picker.index == 29


def test_a_new_search_resets_the_highlight_and_no_match_chooses_nothing() -> None:
    picker = Picker("Pick", items("alpha", "beta"))
    picker.move(1)
    picker.type_text("a")
    assert picker.index == 0
    picker.type_text("zzz")
    assert picker.chosen() is None
    picker.move(1)  # nothing to move over
    assert picker.chosen() is None


def test_render_marks_the_highlight_and_fits_the_width() -> None:
    picker = Picker("Resume", items("first", "second " + "x" * 100), rows=5)
    picker.move(1)
    lines = picker.render(40, color=False)
    assert lines[0].startswith("Resume")
    assert lines[1] == "  first  d-first"
    assert lines[2].startswith("› second xxx") and lines[2].endswith("…")
    assert all(len(line) <= 40 for line in lines)
    assert "Enter choose" in lines[-1]
    colored = picker.render(40, color=True)
    assert "\x1b[7m› second" in colored[2]  # reverse video on the highlighted row


def test_render_says_when_nothing_matches() -> None:
    picker = Picker("Pick", items("alpha"))
    picker.type_text("zzz")
    lines = picker.render(60, color=False)
    assert "search: zzz" in lines[0]
    assert "no matches" in lines[1]
    assert lines[-1].startswith("0/1 · ")
    assert "nothing to choose from" in Picker("Pick", []).render(60, color=False)[1]


def test_clip_and_age() -> None:
    assert clip("one\ntwo", 20) == "one two"
    assert clip("abcdef", 4) == "abc…"
    assert clip("abc", 0) == ""
    assert [age(s) for s in (5, 61, 7200, 3 * 86400)] == ["just now", "1m ago", "2h ago", "3d ago"]


THREADS: list[dict[str, Any]] = [
    {"id": "t-1", "name": None, "preview": "fix the flaky test\nmore text", "updatedAt": 1000.0 - 120,
     "cwd": "/w/one"},
    {"id": "t-2", "name": "Release notes", "preview": "write notes", "updatedAt": 1000.0 - 7200,
     "cwd": "/w/two"},
    {"id": "t-3", "preview": "", "createdAt": 1000.0, "cwd": "/w/three"},
]


def test_thread_items_label_with_name_or_first_line_of_the_first_prompt() -> None:
    made = thread_items(THREADS, now=1000.0)
    assert [(i.label, i.value, i.detail) for i in made] == [
        ("fix the flaky test", "t-1", "2m ago · /w/one"),
        ("Release notes", "t-2", "2h ago · /w/two"),
        ("(no message yet)", "t-3", "just now · /w/three"),
    ]
    picker = Picker("Resume", made)
    picker.set_query("notes")  # the preview of a named thread is searchable too
    assert [i.value for i in picker.filtered] == ["t-2"]
    assert [i.value for i in thread_items(THREADS, now=1000.0, exclude="t-2")] == ["t-1", "t-3"]


def test_fetch_thread_items_asks_thread_list_for_the_most_recent_page() -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    async def request(method: str, params: dict[str, Any]) -> Any:
        asked.append((method, params))
        return {"data": THREADS, "nextCursor": None}

    made = asyncio.run(fetch_thread_items(request, exclude="t-1"))
    assert asked == [("thread/list", {"limit": 200, "sortKey": "updated_at", "archived": False})]
    assert [i.value for i in made] == ["t-2", "t-3"]
