"""Reading `bash -lc "<script>"` commands with tree-sitter-bash, conservatively.

Two readings of a script:

- :func:`plain_commands` — the script as a list of simple commands joined only by
  `&&`, `||`, `;`, `|`, `|&` or newlines, each made of plain words (bare words, single-
  or double-quoted strings without expansions, concatenations of those). Anything else
  — substitutions, expansions, subshells, control flow, background jobs, assignments,
  heredocs, redirections other than the harmless few below — makes the answer None.
  This is what "every part is a plain command" decisions (known-safe commands,
  exec-policy `allow`) are based on.
- :func:`all_command_words` — best effort: the words of *every* command node anywhere
  in the script (inside substitutions, subshells, loops...). Only used to find commands
  that a `forbidden`/`prompt` rule names; never to conclude that something is safe.

Harmless redirections accepted in plain commands: output to `/dev/null`, duplicating a
descriptor (`2>&1`, `>&2`), and reading a file (`< file`).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

SHELLS = frozenset({"bash", "sh", "zsh", "dash"})
SCRIPT_FLAGS = frozenset({"-c", "-lc"})

# Unquoted characters that make bash expand a word (globs, braces, tilde at the start).
_GLOB_CHARS = frozenset("*?[]{}")

_CONTAINER_KINDS = frozenset({"program", "list", "pipeline"})
_JOINERS = frozenset({"&&", "||", ";", "|", "|&", "\n"})
_OUTPUT_REDIRECTS = frozenset({">", ">>", "&>", "&>>", ">|"})
_DUP_REDIRECTS = frozenset({">&", "<&"})


class Word(msgspec.Struct, frozen=True):
    """One argument as bash would pass it, and whether bash could expand it further."""

    text: str
    # False when an unquoted glob/brace/tilde may turn it into other (or several) words.
    literal: bool = True


@lru_cache(maxsize=1)
def _parser() -> Parser:
    # Imported here: the grammar is only needed once a command is actually judged.
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def shell_script(argv: list[str]) -> str | None:
    """The script of `bash -lc SCRIPT` / `sh -c SCRIPT` / `zsh -lc SCRIPT`, else None."""
    if len(argv) != 3 or argv[1] not in SCRIPT_FLAGS:
        return None
    if os.path.basename(argv[0]) not in SHELLS:
        return None
    return argv[2]


def plain_commands(script: str) -> list[list[Word]] | None:
    """The simple commands of `script` in source order, or None if it is not plain."""
    tree = _parser().parse(script.encode("utf-8"))
    root = tree.root_node
    if root.has_error:
        return None
    commands: list[list[Word]] = []
    if not _collect_plain(root, commands):
        return None
    return commands or None


def all_command_words(script: str) -> list[list[str]]:
    """Best-effort words of every command in `script`, nested ones included."""
    tree = _parser().parse(script.encode("utf-8"))
    found: list[list[str]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "command":
            words = [_loose_text(child) for child in node.named_children if child.type != "variable_assignment"]
            words = [w for w in words if w]
            if words:
                found.append(words)
        stack.extend(reversed(node.children))
    found.reverse()
    return found


# --- plain reading ----------------------------------------------------------------------


def _collect_plain(node: Node, out: list[list[Word]]) -> bool:
    kind = node.type
    if kind in _CONTAINER_KINDS:
        for child in node.children:
            if child.is_named:
                if child.type == "comment":
                    continue
                if not _collect_plain(child, out):
                    return False
            elif child.type not in _JOINERS:
                return False  # `&` (background), `(`, `{`, ...
        return True
    if kind == "redirected_statement":
        body = node.child_by_field_name("body")
        if body is None or body.type != "command":
            return False
        for child in node.named_children:
            if child.id == body.id:
                continue
            if child.type != "file_redirect" or not _harmless_redirect(child):
                return False
        return _collect_plain(body, out)
    if kind == "command":
        words: list[Word] = []
        for child in node.children:
            if not child.is_named:
                return False
            if child.type == "command_name":
                inner = child.named_children
                if len(inner) != 1 or inner[0].type != "word":
                    return False
                word = _word(inner[0])
                if word is None or not word.literal:
                    return False
            else:
                word = _word(child)
                if word is None:
                    return False
            words.append(word)
        if not words:
            return False
        out.append(words)
        return True
    return False


def _harmless_redirect(node: Node) -> bool:
    operator = ""
    destination: Node | None = None
    for child in node.children:
        if child.type == "file_descriptor":
            continue
        if not child.is_named:
            operator = child.type
        elif destination is None:
            destination = child
        else:
            return False
    if destination is None:
        return False
    target = _word(destination)
    if target is None or not target.literal:
        return False
    if operator in _OUTPUT_REDIRECTS:
        return target.text == "/dev/null"
    if operator in _DUP_REDIRECTS:
        return target.text.isdigit() or target.text == "-"
    return operator == "<"


def _word(node: Node) -> Word | None:
    kind = node.type
    if kind in ("word", "number"):
        if node.named_children:
            return None
        return _unquoted(_text(node))
    if kind == "string":
        for child in node.named_children:
            if child.type != "string_content":
                return None
        raw = _text(node)
        if len(raw) < 2 or raw[0] != '"' or raw[-1] != '"':
            return None
        return Word(_unescape_double(raw[1:-1]))
    if kind == "raw_string":
        raw = _text(node)
        if len(raw) < 2 or raw[0] != "'" or raw[-1] != "'":
            return None
        return Word(raw[1:-1])
    if kind == "concatenation":
        parts: list[Word] = []
        for child in node.children:
            if not child.is_named:
                return None
            part = _word(child)
            if part is None:
                return None
            parts.append(part)
        if not parts:
            return None
        return Word("".join(p.text for p in parts), all(p.literal for p in parts))
    return None


def _unquoted(raw: str) -> Word:
    """Backslash escapes removed; not literal if bash would glob/brace/tilde-expand it."""
    out: list[str] = []
    literal = not raw.startswith("~")
    escaped = False
    for ch in raw:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            if ch in _GLOB_CHARS:
                literal = False
            out.append(ch)
    if escaped:
        out.append("\\")
    return Word("".join(out), literal)


def _unescape_double(body: str) -> str:
    # Inside double quotes a backslash escapes only $ ` " \ and newline.
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] in '$`"\\\n':
            if body[i + 1] != "\n":
                out.append(body[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _text(node: Node) -> str:
    data = node.text
    return data.decode("utf-8", "replace") if data is not None else ""


def _loose_text(node: Node) -> str:
    """A word's text with quotes stripped, for best-effort matching only."""
    if node.type == "command_name" and node.named_children:
        node = node.named_children[0]
    word = _word(node)
    if word is not None:
        return word.text
    text = _text(node)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
