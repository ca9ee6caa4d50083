"""Find a chunk's lines in a file, with Codex's graded fuzziness.

Four passes, each scanning the whole remaining file before the next starts (so an exact
match further down beats a fuzzy match above): exact; trailing whitespace ignored;
surrounding whitespace ignored; surrounding whitespace ignored and typographic
punctuation folded to ASCII. A tab never matches spaces and `…` is not folded.

Each pass compares normalised lines, so the normalised file is computed once per pass
and cached; candidates are found with `list.index` (C speed) and then verified. That
keeps a 100-chunk patch on a multi-megabyte file linear instead of quadratic.
"""

from __future__ import annotations

from pycodex.apply_patch.text import rust_trim, rust_trim_end

TYPE_CHECKING = False  # not typing's: see record.py on what imports cost here
if TYPE_CHECKING:
    from collections.abc import Callable

_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-"),
        **dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b"), "'"),
        **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f"), '"'),
        **dict.fromkeys(
            map(
                ord,
                "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000",
            ),
            " ",
        ),
    }
)


def _identity(s: str) -> str:
    return s


def _fold(s: str) -> str:
    return rust_trim(s).translate(_PUNCTUATION)


_PASSES: tuple[Callable[[str], str], ...] = (_identity, rust_trim_end, rust_trim, _fold)


class LineMatcher:
    """Searches one file's lines; reuse it for all chunks of that file."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._normalised: dict[int, list[str]] = {0: lines}

    def _view(self, pass_index: int) -> list[str]:
        view = self._normalised.get(pass_index)
        if view is None:
            norm = _PASSES[pass_index]
            view = [norm(line) for line in self._lines]
            self._normalised[pass_index] = view
        return view

    def seek(self, pattern: tuple[str, ...] | list[str], start: int, eof: bool) -> int | None:
        """Index of the first line of `pattern` at or after `start`, or None.

        With `eof`, only the position that ends exactly at the end of the file is tried,
        and only if it is not before `start`.
        An empty pattern matches at `start`.
        """
        if not pattern:
            return start
        n, m = len(self._lines), len(pattern)
        if m > n:
            return None
        last = n - m
        first = last if eof else start
        if first > last or first < start:
            return None  # an `*** End of File` chunk never reaches back over the last one
        for pass_index, norm in enumerate(_PASSES):
            view = self._view(pass_index)
            pat = [norm(p) for p in pattern]
            found = _find(view, pat, first, last)
            if found is not None:
                return found
        return None


def _find(view: list[str], pat: list[str], first: int, last: int) -> int | None:
    head = pat[0]
    i = first
    while i <= last:
        try:
            i = view.index(head, i, last + 1)
        except ValueError:
            return None
        if view[i : i + len(pat)] == pat:
            return i
        i += 1
    return None
