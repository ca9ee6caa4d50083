"""A filterable list picker (the `/resume`, `/model`, `/approvals` and backtrack choosers).

`Picker` is pure state: the items, the search text typed so far, the filtered list and
the highlighted row; `render(width, color)` draws it as ANSI lines for the live region.
The app binds keys to `type_text`, `backspace`, `move`, `page` and reads `chosen()` on
Enter. Filtering: every whitespace-separated word of the search must occur in the item's
label, detail or extra search text (case-insensitive), items keep their order (for
threads: most recent first).

`thread_items` turns a `thread/list` answer into picker items (name or first prompt, age,
cwd), `fetch_thread_items` asks the app-server for them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

DEFAULT_ROWS = 10
RESUME_PAGE_SIZE = 200
SELECTED = "\x1b[7m"
DIM = "\x1b[2m"
BOLD = "\x1b[1m"
RESET = "\x1b[0m"
HELP = "↑/↓ select · Enter choose · Esc cancel · type to search"


@dataclass(frozen=True)
class PickerItem(Generic[T]):
    label: str
    value: T
    detail: str = ""
    search_text: str = ""  # matched by the search but not shown (e.g. a thread id)

    def haystack(self) -> str:
        return f"{self.label}\n{self.detail}\n{self.search_text}".lower()


class Picker(Generic[T]):
    def __init__(self, title: str, items: Sequence[PickerItem[T]], *, rows: int = DEFAULT_ROWS,
                 query: str = "") -> None:
        self.title = title
        self.items = list(items)
        self.rows = max(1, rows)
        self._haystacks = [item.haystack() for item in self.items]
        self.query = ""
        self.filtered: list[PickerItem[T]] = []
        self.index = 0
        self.offset = 0  # first filtered row shown
        self.set_query(query)

    # --- editing the search ------------------------------------------------------------

    def set_query(self, query: str) -> None:
        self.query = query
        words = query.lower().split()
        self.filtered = [
            item for item, hay in zip(self.items, self._haystacks, strict=True)
            if all(word in hay for word in words)
        ]
        self.index, self.offset = 0, 0

    def type_text(self, text: str) -> None:
        self.set_query(self.query + text)

    def backspace(self) -> None:
        if self.query:
            self.set_query(self.query[:-1])

    # --- moving the highlight ----------------------------------------------------------

    def move(self, delta: int) -> None:
        """Move the highlight; it wraps around at either end."""
        if self.filtered:
            self.index = (self.index + delta) % len(self.filtered)
            self._scroll_to_index()

    def page(self, pages: int) -> None:
        if self.filtered:
            self.index = min(len(self.filtered) - 1, max(0, self.index + pages * self.rows))
            self._scroll_to_index()

    def _scroll_to_index(self) -> None:
        if self.index < self.offset:
            self.offset = self.index
        elif self.index >= self.offset + self.rows:
            self.offset = self.index - self.rows + 1

    def chosen(self) -> PickerItem[T] | None:
        return self.filtered[self.index] if self.filtered else None

    # --- drawing -----------------------------------------------------------------------

    def render(self, width: int, color: bool = True) -> list[str]:
        """Title and search line, up to `rows` item rows, a help line."""
        def style(code: str, text: str) -> str:
            return f"{code}{text}{RESET}" if color else text

        width = max(10, width)
        search = f"  search: {self.query}" if self.query else "  (type to search)"
        lines = [style(BOLD, clip(self.title, width)) + style(DIM, clip(search, width - len(self.title)))]
        shown = self.filtered[self.offset: self.offset + self.rows]
        for row, item in enumerate(shown, start=self.offset):
            marker = "›" if row == self.index else " "
            label = clip(f"{marker} {item.label}", width)
            detail = clip(f"  {item.detail}", width - len(label)) if item.detail else ""
            if row == self.index:
                lines.append(style(SELECTED, label) + style(DIM, detail) if color else label + detail)
            else:
                lines.append(label + style(DIM, detail))
        if not self.filtered:
            lines.append(style(DIM, "  no matches" if self.items else "  nothing to choose from"))
        count = f"{len(self.filtered)}/{len(self.items)} · " if self.query else ""
        lines.append(style(DIM, clip(count + HELP, width)))
        return lines


def clip(text: str, width: int) -> str:
    """`text` on one line, cut to `width` columns with an ellipsis."""
    text = " ".join(text.split("\n"))
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


# --- threads for /resume ----------------------------------------------------------------

def age(seconds_ago: float) -> str:
    """A short human age: "just now", "5m ago", "3h ago", "2d ago"."""
    if seconds_ago < 60:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds_ago >= size:
            return f"{int(seconds_ago // size)}{unit} ago"
    return "just now"  # unreachable: the m unit catches everything from 60 s


def thread_items(threads: Sequence[dict[str, Any]], now: float | None = None,
                 exclude: str | None = None) -> list[PickerItem[str]]:
    """Picker items for `thread/list` threads (value: the thread id)."""
    now = time.time() if now is None else now
    items: list[PickerItem[str]] = []
    for thread in threads:
        if thread.get("id") == exclude:
            continue
        preview = str(thread.get("preview") or "").strip()
        label = str(thread.get("name") or "") or preview.split("\n", 1)[0] or "(no message yet)"
        updated = thread.get("updatedAt") or thread.get("createdAt") or now
        detail = f"{age(max(0.0, now - float(updated)))} · {thread.get('cwd', '')}"
        items.append(PickerItem(label, str(thread["id"]), detail, f"{thread['id']} {preview}"))
    return items


Request = Callable[[str, dict[str, Any]], Awaitable[Any]]


async def fetch_thread_items(request: Request, exclude: str | None = None) -> list[PickerItem[str]]:
    """The most recently updated threads, as picker items (one `thread/list` page)."""
    answer = await request(
        "thread/list", {"limit": RESUME_PAGE_SIZE, "sortKey": "updated_at", "archived": False}
    )
    return thread_items(answer.get("data", []), exclude=exclude)


async def run_picker_app(title: str, items: Sequence[PickerItem[T]], *, color: bool = True,
                         rows: int = DEFAULT_ROWS) -> T | None:
    """Let the user pick one of `items` below the cursor (not full-screen); its value, or
    None on Esc / Ctrl-C. Run it where the TUI's own app has let go of the terminal
    (`async with prompt_toolkit.application.in_terminal(): ...`)."""
    from prompt_toolkit.application import Application
    from prompt_toolkit.formatted_text import ANSI
    from prompt_toolkit.input import create_input
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
    from prompt_toolkit.keys import Keys
    from prompt_toolkit.layout import Layout, Window
    from prompt_toolkit.layout.controls import FormattedTextControl

    picker = Picker(title, items, rows=rows)
    keys = KeyBindings()

    def bind(key: str | Keys, action: Callable[[KeyPressEvent], None]) -> None:
        # eager: a lone Esc must not wait for a longer (Meta-) sequence to complete
        keys.add(key, eager=key == "escape")(action)

    bind("up", lambda e: picker.move(-1))
    bind("down", lambda e: picker.move(1))
    bind("pageup", lambda e: picker.page(-1))
    bind("pagedown", lambda e: picker.page(1))
    bind("backspace", lambda e: picker.backspace())
    bind("enter", lambda e: e.app.exit(result=picker.chosen()))
    bind("escape", lambda e: e.app.exit(result=None))
    bind("c-c", lambda e: e.app.exit(result=None))
    bind(Keys.Any, lambda e: picker.type_text(e.data) if e.data.isprintable() else None)

    def text() -> ANSI:
        width = app.output.get_size().columns
        return ANSI("\n".join(picker.render(width - 1, color)))

    app: Application[PickerItem[T] | None] = Application(
        layout=Layout(Window(FormattedTextControl(text), dont_extend_height=True)),
        key_bindings=keys, full_screen=False, erase_when_done=True,
        input=create_input(),  # own key parser: see overlay.py
    )
    chosen = await app.run_async()
    return None if chosen is None else chosen.value
