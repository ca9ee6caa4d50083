"""Render an argv as one shell-readable line, the way Codex shows commands.

Codex displays commands with the Rust `shlex` crate's `join`, whose quoting differs from
Python's `shlex.join`: it prefers single quotes, switches to double quotes (escaping
`"` and `\\`) for a stretch containing a single quote or a backslash, and splits a word
into differently quoted chunks when no one style fits (`$`, `` ` ``, `!`, `^` never go
inside double quotes). Clients compare and display these strings (`command_execution`
items), so pycodex renders them the same way:

    ["bash", "-lc", "printf 'a\\n'"]  ->  bash -lc "printf 'a\\\\n'"
    ["echo", "it's"]                  ->  echo "it's"
    ["echo", "$HOME", '"x"']          ->  echo '$HOME' '"x"'
"""

from __future__ import annotations

from collections.abc import Iterable

_UNQUOTED, _SINGLE, _DOUBLE = 1, 2, 4
# Bytes that may stand bare: letters, digits and + - . / : @ ] _ (everything else asks
# for quotes, as in the crate: shell metacharacters, glob and brace characters, `,`, `=`,
# `%`, `~`, `#`, `!`, `^`, whitespace and control characters).
_BARE = frozenset(
    b"+-./:@]_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_NOT_IN_SINGLE = frozenset(b"'^\\")
_NOT_IN_DOUBLE = frozenset(b"`$!^")
_ESCAPED_IN_DOUBLE = frozenset(b'$`"\\')


def _chunk(data: bytes) -> tuple[int, int]:
    """The longest prefix of `data` one quoting style can cover, and the best such style."""
    allowed = _UNQUOTED | _SINGLE | _DOUBLE
    i = 0
    if data[0] == ord("^"):  # only safe right after an opening single quote
        allowed, i = _SINGLE, 1
    while i < len(data):
        byte = data[i]
        now = allowed
        if byte >= 0x80:
            now &= ~_UNQUOTED
        else:
            if byte not in _BARE:
                now &= ~_UNQUOTED
            if byte in _NOT_IN_SINGLE:
                now &= ~_SINGLE
            if byte in _NOT_IN_DOUBLE:
                now &= ~_DOUBLE
        if not now:
            break
        allowed = now
        i += 1
    style = _UNQUOTED if allowed & _UNQUOTED else _SINGLE if allowed & _SINGLE else _DOUBLE
    return i, style


def quote_word(word: str) -> str:
    if not word:
        return "''"
    data = word.encode("utf-8", errors="surrogateescape")
    out = bytearray()
    while data:
        size, style = _chunk(data)
        piece, data = data[:size], data[size:]
        if style == _UNQUOTED:
            out += piece
        elif style == _SINGLE:
            out += b"'" + piece + b"'"
        else:
            out += b'"'
            for byte in piece:
                if byte in _ESCAPED_IN_DOUBLE:
                    out += b"\\"
                out.append(byte)
            out += b'"'
    return out.decode("utf-8", errors="surrogateescape")


def join_command(argv: Iterable[str]) -> str:
    """The words quoted as needed and separated by single spaces."""
    return " ".join(quote_word(word) for word in argv)
