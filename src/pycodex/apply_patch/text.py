"""Text primitives with Codex's (Rust's) semantics rather than Python's.

Python's `str.strip()` and `str.splitlines()` disagree with Rust's `trim()` and `lines()`
on several code points (`\\x1c`-`\\x1f`, `\\x0b`, `\\x0c`, NEL, U+2028/2029), and patches
must match byte for byte what Codex accepts, so nothing here uses them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: see record.py on what imports cost here
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TypeVar

    T = TypeVar("T")

# (start, old_len, new line texts, their endings): see SourceText.render.
Replacement = tuple[int, int, tuple[str, ...], tuple[str | None, ...]]

# Unicode White_Space, which is what Rust's `char::is_whitespace` / `str::trim` use.
RUST_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def rust_trim(s: str) -> str:
    return s.strip(RUST_WHITESPACE)


def rust_trim_end(s: str) -> str:
    return s.rstrip(RUST_WHITESPACE)


def rust_lines(s: str) -> list[str]:
    """Rust's `str::lines()`: split on `\\n`, drop one trailing `\\r` per line."""
    if not s:
        return []
    parts = s.split("\n")
    if parts[-1] == "":
        parts.pop()
    return [p[:-1] if p.endswith("\r") else p for p in parts]


def git_lines(text: str) -> list[str]:
    """Lines as git's diff sees them, each keeping its `\n`: only `\n` ends a line
    (`str.splitlines` also splits on form feeds, lone CRs and Unicode separators, which
    would garble hunks)."""
    lines = text.split("\n")
    last = lines.pop()
    out = [line + "\n" for line in lines]
    if last:
        out.append(last)
    return out


def uniform_break(contents: str) -> str | None:
    """The one line break `contents` uses throughout, or None when it mixes several.

    Nearly every file uses a single style; for those a C-speed `str.split` replaces the
    regex scan, which costs ~10x more on a 10 MB file (427 ms against ~40 ms)."""
    if "\r" not in contents:  # a memchr, several times cheaper than counting
        return "\n"
    crs = contents.count("\r")
    lfs = contents.count("\n")
    if lfs == 0:
        return "\r"
    return "\r\n" if contents.count("\r\n") == crs == lfs else None


class SourceText:
    """A file as lines plus the ending each line had.

    `endings[i]` is line i's break (None: the last line, unterminated). `endings` itself
    is None when every line ends with `preferred_ending` (the last one possibly with no
    break at all), which is the common case and needs no per-line bookkeeping.
    """

    __slots__ = ("endings", "lines", "preferred_ending")

    def __init__(
        self, lines: list[str], endings: list[str | None] | None, preferred_ending: str
    ) -> None:
        self.lines = lines
        self.endings = endings
        self.preferred_ending = preferred_ending

    @classmethod
    def parse(cls, contents: str) -> SourceText:
        uniform = uniform_break(contents)
        if uniform is not None:
            lines = contents.split(uniform)
            if lines[-1] == "":  # a final break (or an empty file) leaves one empty piece
                lines.pop()
            # A file with no break at all prefers LF, as `uniform_break` says.
            return cls(lines, None, uniform)
        import re  # mixed line breaks are rare; the common case never pays for `re`

        lines = []
        endings: list[str | None] = []
        pos = 0
        # CRLF first so it is one break, then LF, then a lone CR.
        for m in re.finditer(r"\r\n|\n|\r", contents):
            lines.append(contents[pos : m.start()])
            endings.append(m.group())
            pos = m.end()
        if pos < len(contents):
            lines.append(contents[pos:])
            endings.append(None)
        # Like rustfmt and ruff, the first line's break is the file's style for new lines.
        preferred = endings[0] if endings and endings[0] is not None else "\n"
        return cls(lines, endings, preferred)

    def ending(self, index: int) -> str | None:
        """Line `index`'s break (None: the preferred one, or none at the end)."""
        return None if self.endings is None else self.endings[index]

    def render(self, replacements: list[Replacement]) -> str:
        """Apply `(start, old_len, new_lines, new_endings)` replacements and return the
        new contents. A new line's ending of None means the preferred ending; untouched
        lines keep theirs; the result always ends with a line break unless it is empty.
        """
        pref = self.preferred_ending
        ordered = sorted(replacements, key=lambda r: r[0])  # stable: patch order on ties
        texts = _splice(self.lines, [(at, n, new) for at, n, new, _ in ordered])
        if self.endings is None:
            # Every line, new or old, ends with `pref`: one join, no per-line work.
            return pref.join(texts) + pref if texts else ""
        ends = _splice(self.endings, [(at, n, e) for at, n, _, e in ordered])
        out: list[str] = []
        for text, end in zip(texts, ends, strict=True):
            out.append(text)
            out.append(pref if end is None else end)
        return "".join(out)


def _splice(items: list[T], ordered: list[tuple[int, int, Sequence[T]]]) -> list[T]:
    """`items` with each `(start, old_len, new)` of `ordered` (sorted by start) spliced in,
    in one forward pass, linear in the file size. Regions never overlap: chunks are found
    in order, each after the last, and pure additions go at the very end."""
    out: list[T] = []
    cursor = 0
    for start, old_len, new in ordered:
        assert start >= cursor, "overlapping replacements"
        out += items[cursor:start]
        out += new
        cursor = start + old_len
    out += items[cursor:]
    return out
