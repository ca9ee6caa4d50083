"""The fast path for updating a file: every chunk found verbatim in the text.

Most patches quote the file exactly. Then nothing requires cutting a 10 MB file into
170,000 line objects and joining them again (~40 ms of a 100-chunk patch): each chunk is
found with `str.find` at line boundaries and the result is sliced together, which gives
the same file as the line-based path (changes.py) for exactly these inputs.

Anything else returns None and the line-based path decides, so the two can disagree on
speed only: a chunk that matches only after normalising whitespace or punctuation (or
not at all), a file with mixed line breaks, an empty file, quoted lines that contain a
line break character.
"""

from __future__ import annotations

from pycodex.apply_patch.text import uniform_break

TYPE_CHECKING = False  # not typing's: see record.py on what imports cost here
if TYPE_CHECKING:
    from pycodex.apply_patch.parser import UpdateChunk

# A replacement: the characters [start, stop) of whole lines, breaks included, give way
# to `lines`, each written with the file's line break.
Edit = tuple[int, int, tuple[str, ...]]


def update_exactly(contents: str, chunks: tuple[UpdateChunk, ...]) -> str | None:
    """The updated file when every chunk matches verbatim, else None (see above)."""
    brk = uniform_break(contents)
    if brk is None or not contents:
        return None
    text = _Text(contents, brk)
    edits: list[Edit] = []
    pos = 0  # where the next search starts: a line start
    for chunk in chunks:
        if chunk.context is not None:
            at = text.find((chunk.context,), pos)
            if at is None:
                return None
            pos = text.after(at, (chunk.context,))
        if not chunk.old_lines:
            edits.append((len(contents), len(contents), chunk.new_lines))  # at the very end
            continue
        at = text.find(chunk.old_lines, pos, eof=chunk.is_end_of_file)
        if at is None:
            return None
        stop = text.after(at, chunk.old_lines)
        edits.append((at, stop, chunk.new_lines))
        pos = stop
    edits.sort(key=lambda e: e[0])  # stable: patch order on ties, as the line path
    return _render(contents, brk, edits)


class _Text:
    """A file with one kind of line break, searched for runs of whole lines."""

    __slots__ = ("body_end", "brk", "contents")

    def __init__(self, contents: str, brk: str) -> None:
        self.contents = contents
        self.brk = brk
        # Where the last line's text ends (before a final break, if there is one).
        self.body_end = len(contents) - len(brk) if contents.endswith(brk) else len(contents)

    def find(self, lines: tuple[str, ...], pos: int, eof: bool = False) -> int | None:
        """Offset of the first run of whole lines equal to `lines` starting at or after
        the line start `pos` (with `eof`: the run ending the file, if it starts there)."""
        if any("\r" in line or "\n" in line for line in lines):
            return None  # would match across lines here; never matches a line verbatim
        needle = self.brk.join(lines)
        if eof:
            at = self.body_end - len(needle)
            ok = at >= pos and self._line_start(at) and self.contents.startswith(needle, at)
            return at if ok else None
        if self._line_start(pos) and self._run_at(needle, pos):
            return pos
        candidates = []
        # Bracketing the needle with breaks lets one C-speed scan enforce both boundaries.
        inner = self.contents.find(self.brk + needle + self.brk, pos)
        if inner >= 0:
            candidates.append(inner + len(self.brk))
        last = len(self.contents) - len(needle)  # an unterminated last line ends the file
        unterminated = self.body_end == len(self.contents)
        if unterminated and last > pos and self._run_at(needle, last) and self._line_start(last):
            candidates.append(last)
        return min(candidates) if candidates else None

    def after(self, at: int, lines: tuple[str, ...]) -> int:
        """Offset just past the run of `lines` found at `at`, its last break included."""
        end = at + len(self.brk.join(lines))
        return end + len(self.brk) if end < len(self.contents) else end

    def _line_start(self, at: int) -> bool:
        # Callers never ask past `body_end`, where a break would not start a line.
        return at == 0 or self.contents.startswith(self.brk, at - len(self.brk))

    def _run_at(self, needle: str, at: int) -> bool:
        end = at + len(needle)
        if not self.contents.startswith(needle, at) or end > self.body_end:
            return False
        return end == self.body_end or self.contents.startswith(self.brk, end)


def _render(contents: str, brk: str, edits: list[Edit]) -> str:
    out: list[str] = []
    cursor = 0
    # True after the file's unterminated last line: whatever follows needs a break first.
    open_line = False
    for start, stop, lines in edits:
        kept = contents[cursor:start]
        if kept:
            out.append(kept)
            open_line = not kept.endswith(brk)
        if lines:
            if open_line:
                out.append(brk)
                open_line = False
            out.append(brk.join(lines))
            out.append(brk)
        cursor = stop
    out.append(contents[cursor:])
    result = "".join(out)
    # An updated file always ends with a line break (unless nothing is left of it).
    return result + brk if result and not result.endswith(brk) else result
