"""TOML dotted key paths: parsing them, printing them, finding them in a file's text.

Used for `-c a."b.c".d=value` overrides and for pointing error messages at the line
where a key was written (tomllib keeps no positions, so we scan the text ourselves).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BARE_KEY_FULL = re.compile(r"[A-Za-z0-9_-]+\Z")

KeyPath = Sequence[str | int]


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _parse_segment(text: str, pos: int) -> tuple[str, int]:
    if pos >= len(text):
        raise ValueError("expected a key")
    quote = text[pos]
    if quote == "'":
        end = text.find("'", pos + 1)
        if end < 0:
            raise ValueError("unterminated quoted key")
        return text[pos + 1 : end], end + 1
    if quote == '"':
        i = pos + 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == '"':
                # Let tomllib decode the escapes rather than reimplementing them.
                raw = text[pos : i + 1]
                try:
                    value = tomllib.loads(f"k = {raw}")["k"]
                except tomllib.TOMLDecodeError as exc:
                    raise ValueError(f"invalid quoted key {raw}") from exc
                return str(value), i + 1
            i += 1
        raise ValueError("unterminated quoted key")
    match = _BARE_KEY.match(text, pos)
    if not match:
        raise ValueError(f"invalid character {text[pos]!r} in key")
    return match.group(0), match.end()


def parse_dotted_key(text: str, pos: int = 0) -> tuple[list[str], int]:
    """Parse `a.b."c d".'e'` starting at `pos`; return the segments and the end position.

    Raises ValueError on malformed keys.
    """
    segments: list[str] = []
    pos = _skip_ws(text, pos)
    while True:
        segment, pos = _parse_segment(text, pos)
        segments.append(segment)
        pos = _skip_ws(text, pos)
        if pos < len(text) and text[pos] == ".":
            pos = _skip_ws(text, pos + 1)
            continue
        return segments, pos


def format_key_path(path: KeyPath) -> str:
    """`projects."/a/b".trust_level`, `notify[0]`: how a key is named in messages."""
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
            continue
        text = segment if _BARE_KEY_FULL.match(segment) else _quote(segment)
        out = f"{out}.{text}" if out else text
    return out


def _quote(segment: str) -> str:
    escaped = segment.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def locate_key(text: str, path: KeyPath) -> tuple[int, int] | None:
    """1-based (line, column) where `path` (or its longest written prefix) is defined.

    Best effort: understands `[table]`, `[[array]]` headers and dotted `a.b = ...` keys,
    not keys nested in inline tables or lines inside multi-line strings.
    """
    wanted: list[str] = []
    for segment in path:
        if isinstance(segment, int):
            break
        wanted.append(segment)
    if not wanted:
        return None
    table: list[str] = []
    best: tuple[int, int, int] | None = None  # (matched length, line, column)
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" \t")
        indent = len(line) - len(stripped)
        if not stripped or stripped.startswith("#"):
            continue
        try:
            if stripped.startswith("[["):
                table, _ = parse_dotted_key(line, indent + 2)
                full = table
            elif stripped.startswith("["):
                table, _ = parse_dotted_key(line, indent + 1)
                full = table
            else:
                segments, end = parse_dotted_key(line, indent)
                if not line[end:].startswith("="):
                    continue
                full = table + segments
        except ValueError:
            continue
        if full != wanted[: len(full)]:
            continue
        if len(full) == len(wanted):
            return lineno, indent + 1
        if best is None or len(full) > best[0]:
            best = (len(full), lineno, indent + 1)
    return None if best is None else (best[1], best[2])
