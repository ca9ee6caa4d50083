"""Text primitives with Codex's (Rust's) semantics rather than Python's.

Python's `str.strip()` and `str.splitlines()` disagree with Rust's `trim()` and `lines()`
on several code points (`\\x1c`-`\\x1f`, `\\x0b`, `\\x0c`, NEL, U+2028/2029), and patches
must match byte for byte what Codex accepts, so nothing here uses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


# File line breaks: CRLF first so it is one break, then LF, then a lone CR.
_LINE_BREAK = re.compile(r"\r\n|\n|\r")


@dataclass
class SourceText:
    """A file as lines plus the ending each line had (None: last line, unterminated)."""

    lines: list[str]
    endings: list[str | None]
    preferred_ending: str

    @classmethod
    def parse(cls, contents: str) -> SourceText:
        lines: list[str] = []
        endings: list[str | None] = []
        pos = 0
        for m in _LINE_BREAK.finditer(contents):
            lines.append(contents[pos : m.start()])
            endings.append(m.group())
            pos = m.end()
        if pos < len(contents):
            lines.append(contents[pos:])
            endings.append(None)
        # Like rustfmt and ruff, the first line's break is the file's style for new lines.
        preferred = endings[0] if endings and endings[0] is not None else "\n"
        return cls(lines, endings, preferred)

    def render(self, replacements: list[tuple[int, int, tuple[str, ...]]]) -> str:
        """Apply `(start, old_len, new_lines)` replacements and return the new contents.

        New lines take the preferred ending; untouched lines keep theirs; the result
        always ends with a line break unless it is empty.
        """
        texts, ends = _splice(self.lines, self.endings, replacements, self.preferred_ending)
        pref = self.preferred_ending
        out: list[str] = []
        for text, end in zip(texts, ends, strict=True):
            out.append(text)
            out.append(pref if end is None else end)
        return "".join(out)


def _splice(
    lines: list[str],
    endings: list[str | None],
    replacements: list[tuple[int, int, tuple[str, ...]]],
    new_ending: str,
) -> tuple[list[str], list[str | None]]:
    ordered = sorted(replacements, key=lambda r: r[0])  # stable: keeps patch order on ties
    overlapping = any(
        ordered[i + 1][0] < ordered[i][0] + ordered[i][1] for i in range(len(ordered) - 1)
    )
    if overlapping:
        # Only reachable with EOF-anchored chunks that reach back over an earlier chunk.
        # Reproduce Codex's back-to-front splicing exactly; it is rare, so O(n*k) is fine.
        texts = list(lines)
        ends = list(endings)
        for start, old_len, new in reversed(ordered):
            stop = min(start + old_len, len(texts))
            texts[start:stop] = list(new)
            ends[start:stop] = [new_ending] * len(new)
        return texts, ends
    # The common case: one forward pass, linear in the file size.
    out_texts: list[str] = []
    out_ends: list[str | None] = []
    cursor = 0
    for start, old_len, new in ordered:
        out_texts.extend(lines[cursor:start])
        out_ends.extend(endings[cursor:start])
        out_texts.extend(new)
        out_ends.extend([new_ending] * len(new))
        cursor = max(cursor, start + old_len)
    out_texts.extend(lines[cursor:])
    out_ends.extend(endings[cursor:])
    return out_texts, out_ends
