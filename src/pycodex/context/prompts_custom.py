"""Custom prompts: Markdown files in ``$PYCODEX_HOME/prompts`` used as ``/prompts:<name> args``.

A file's name (without ``.md``) is the prompt's name. Optional YAML-style frontmatter
between ``---`` lines gives a ``description`` and an ``argument-hint`` (shown by front
ends); the rest is the prompt's text, with placeholders filled from the arguments:

* ``$1`` … ``$9``: positional arguments (missing ones become empty);
* ``$ARGUMENTS``: all the arguments, joined by spaces;
* ``$NAME`` (upper case): the value of ``NAME=value`` among the arguments — a prompt that
  uses named placeholders is given its arguments as ``KEY=value`` pairs;
* ``$$``: a literal ``$``.

Arguments are split as a shell would (quotes group words). Only regular ``.md`` files
directly in the directory count; unreadable or non-UTF-8 files are skipped.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import msgspec

_PLACEHOLDER = re.compile(r"\$(\$|[1-9]|ARGUMENTS|[A-Z][A-Z0-9_]*)")


class PromptArgsError(ValueError):
    """The arguments cannot fill the prompt (unbalanced quotes, a named one missing)."""


class CustomPromptFile(msgspec.Struct, frozen=True):
    name: str
    path: Path
    content: str
    description: str | None = None
    argument_hint: str | None = None


def parse_frontmatter(text: str) -> tuple[dict[str, str], str]:
    """`key: value` lines between a leading `---` and the next `---`, and the body.
    Values may be quoted; no frontmatter (or an unterminated one) -> ({}, text)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text
    meta: dict[str, str] = {}
    for index, line in enumerate(lines[1:], 1):
        if line.strip() == "---":
            return meta, "".join(lines[index + 1 :])
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "\t", "#")):
            meta[key.strip()] = _unquote(value.strip())
    return {}, text


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def discover_prompts(directory: Path) -> list[CustomPromptFile]:
    """Every prompt in `directory`, sorted by name."""
    try:
        candidates = sorted(p for p in directory.iterdir() if p.suffix == ".md" and p.is_file())
    except OSError:
        return []
    found: list[CustomPromptFile] = []
    for path in candidates:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        meta, body = parse_frontmatter(text)
        found.append(
            CustomPromptFile(
                name=path.stem,
                path=path,
                content=body,
                description=meta.get("description") or None,
                argument_hint=meta.get("argument-hint") or meta.get("argument_hint") or None,
            )
        )
    return found


def named_placeholders(content: str) -> list[str]:
    """The `$NAME` placeholders a prompt uses (not `$ARGUMENTS`), in order of appearance."""
    names = [m.group(1) for m in _PLACEHOLDER.finditer(content)]
    return list(dict.fromkeys(n for n in names if n[0].isalpha() and n != "ARGUMENTS"))


def expand_prompt(content: str, args: str) -> str:
    """The prompt's text with its placeholders filled from `args` (see the module docstring)."""
    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise PromptArgsError(f"cannot split the arguments: {exc}") from exc
    named = {}
    for word in words:
        key, sep, value = word.partition("=")
        if sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", key):
            named[key] = value
    missing = [n for n in named_placeholders(content) if n not in named]
    if missing:
        raise PromptArgsError(f"missing required argument(s): {', '.join(missing)} (pass them as KEY=value)")

    def fill(match: re.Match[str]) -> str:
        token = match.group(1)
        if token == "$":
            return "$"
        if token == "ARGUMENTS":
            return " ".join(words)
        if token.isdigit():
            index = int(token) - 1
            return words[index] if index < len(words) else ""
        return named[token]

    return _PLACEHOLDER.sub(fill, content)
