"""Exec policy: the user's `prefix_rule(...)` files under `<pycodex home>/rules/*.rules`.

A rules file is a sequence of calls in Starlark/Python syntax::

    prefix_rule(
        pattern = ["git", ["push", "pull"]],   # ordered tokens; a list = alternatives
        decision = "prompt",                   # allow | prompt | forbidden (default allow)
        justification = "pushing needs a human look",
        match = [["git", "push"], "git pull origin"],   # examples that must match
        not_match = ["git status"],                     # examples that must not match
    )

Files are read with :mod:`ast` and nothing else: only top-level `prefix_rule(...)` (and
Codex's `host_executable(...)`, accepted and ignored) calls with keyword arguments whose
values are literals. Nothing in a rules file is ever evaluated or executed. A file that
breaks these rules is reported as one line naming `file:line` and skipped as a whole.

Evaluation: every rule whose pattern is a prefix of the command matches; the strictest
decision wins (forbidden > prompt > allow). A `bash -lc` script is judged by the commands
inside it (see :meth:`ExecPolicy.evaluate`).
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shlex
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import msgspec

from . import RULES_DIR, RULES_SUFFIX
from .command_safety import is_known_safe_command
from .shell_parse import all_command_words, plain_commands, shell_script

DEFAULT_RULES_FILE = "default.rules"


class Decision(StrEnum):
    ALLOW = "allow"
    PROMPT = "prompt"
    FORBIDDEN = "forbidden"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Decision.ALLOW: 0, Decision.PROMPT: 1, Decision.FORBIDDEN: 2}


class RulesError(Exception):
    """A rules file that cannot be used; `str()` is one line naming `file:line`."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = Path(path)
        self.line = line
        self.message = message


class PrefixRule(msgspec.Struct, frozen=True):
    # Each position: the tokens accepted there.
    pattern: tuple[tuple[str, ...], ...]
    decision: Decision
    justification: str | None = None
    source: str = ""  # "file:line", for messages

    def matches(self, command: Sequence[str]) -> bool:
        if len(command) < len(self.pattern):
            return False
        for index, (alternatives, token) in enumerate(zip(self.pattern, command, strict=False)):
            if token in alternatives:
                continue
            # `/usr/bin/git` is still `git` to a rule about git.
            if index == 0 and "/" in token and os.path.basename(token) in alternatives:
                continue
            return False
        return True

    def describe(self) -> str:
        return " ".join(alts[0] if len(alts) == 1 else "[" + "|".join(alts) + "]" for alts in self.pattern)


class Evaluation(msgspec.Struct, frozen=True):
    """What the rules say about one command.

    `decision` is None when the rules have no opinion: some part of the command matched
    no rule and is not known-safe either (the approval policy decides then).
    """

    decision: Decision | None
    matched: tuple[PrefixRule, ...] = ()

    @property
    def strictest_rule(self) -> PrefixRule | None:
        if not self.matched:
            return None
        return max(self.matched, key=lambda rule: rule.decision.severity)


class ExecPolicy(msgspec.Struct):
    rules: list[PrefixRule] = msgspec.field(default_factory=list)

    def matching(self, command: Sequence[str]) -> list[PrefixRule]:
        return [rule for rule in self.rules if rule.matches(command)]

    def evaluate(self, argv: Sequence[str]) -> Evaluation:
        """Judge `argv`; a shell script is judged by the commands in it.

        - forbidden/prompt: if any command anywhere in the script (nested ones included,
          best effort) matches such a rule;
        - allow: only if the script is plain (see `plain_commands`) and every command in
          it matches an allow rule or is known-safe — and at least one rule matched;
        - otherwise no decision.
        """
        if not self.rules:
            return Evaluation(None)  # the common case: no parsing needed
        command = list(argv)
        script = shell_script(command)
        plain: list[list[str]] | None = None
        candidates: list[list[str]] = [command]
        if script is not None:
            parsed = plain_commands(script)
            if parsed is not None:
                plain = [[w.text for w in words] for words in parsed]
                candidates = plain
            else:
                candidates = [command, *all_command_words(script)]
        else:
            plain = [command]
        matched: list[PrefixRule] = []
        for candidate in candidates:
            matched.extend(self.matching(candidate))
        if not matched:
            return Evaluation(None)
        strictest = max(rule.decision.severity for rule in matched)
        if strictest > Decision.ALLOW.severity:
            decision = Decision.FORBIDDEN if strictest == 2 else Decision.PROMPT
            return Evaluation(decision, tuple(matched))
        if plain is not None and all(
            self.matching(cmd) or is_known_safe_command(cmd) for cmd in plain
        ):
            return Evaluation(Decision.ALLOW, tuple(matched))
        return Evaluation(None, tuple(matched))


# --- parsing ------------------------------------------------------------------------------


_PREFIX_RULE_KEYS = frozenset({"pattern", "decision", "justification", "match", "not_match"})
_HOST_EXECUTABLE_KEYS = frozenset({"name", "paths"})


def parse_rules(text: str, path: Path | str) -> list[PrefixRule]:
    """The rules of one file; raises RulesError (file:line) on anything but the allowed form."""
    try:
        module = ast.parse(text, filename=str(path), mode="exec")
    except SyntaxError as exc:
        raise RulesError(path, exc.lineno or 1, f"syntax error: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        raise RulesError(path, 1, f"cannot parse: {exc}") from None
    rules: list[PrefixRule] = []
    for stmt in module.body:
        line = stmt.lineno
        if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
            raise RulesError(path, line, "only prefix_rule(...) calls are allowed in a rules file")
        call = stmt.value
        func = call.func.id if isinstance(call.func, ast.Name) else None
        if func not in ("prefix_rule", "host_executable"):
            raise RulesError(path, line, "only prefix_rule(...) calls are allowed in a rules file")
        if call.args:
            raise RulesError(path, line, f"{func}() takes keyword arguments only")
        kwargs: dict[str, Any] = {}
        for kw in call.keywords:
            if kw.arg is None:
                raise RulesError(path, kw.value.lineno, f"{func}() does not accept **kwargs")
            if kw.arg in kwargs:
                raise RulesError(path, kw.value.lineno, f"duplicate argument `{kw.arg}`")
            kwargs[kw.arg] = _literal(kw.value, path, kw.arg)
        if func == "host_executable":
            _check_host_executable(kwargs, path, line)
            continue
        rules.append(_prefix_rule(kwargs, path, line))
    return rules


def _literal(node: ast.expr, path: Path | str, name: str) -> Any:
    """Strings, lists of them (nested once), booleans and None — nothing callable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bool | type(None)):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(elt, path, name) for elt in node.elts]
    raise RulesError(
        path, node.lineno, f"argument `{name}` must be a string or a list of strings (literals only)"
    )


def _prefix_rule(kwargs: dict[str, Any], path: Path | str, line: int) -> PrefixRule:
    unknown = sorted(set(kwargs) - _PREFIX_RULE_KEYS)
    if unknown:
        raise RulesError(path, line, f"prefix_rule() got an unexpected argument `{unknown[0]}`")
    raw_pattern = kwargs.get("pattern")
    if not isinstance(raw_pattern, list) or not raw_pattern:
        raise RulesError(path, line, "prefix_rule() needs `pattern`, a non-empty list")
    pattern: list[tuple[str, ...]] = []
    for element in raw_pattern:
        if isinstance(element, str) and element:
            pattern.append((element,))
        elif (
            isinstance(element, list)
            and element
            and all(isinstance(alt, str) and alt for alt in element)
        ):
            pattern.append(tuple(element))
        else:
            raise RulesError(
                path, line, "each `pattern` element must be a non-empty string or a list of them"
            )
    raw_decision = kwargs.get("decision", "allow")
    try:
        decision = Decision(raw_decision)
    except ValueError:
        raise RulesError(
            path, line, f"`decision` must be allow, prompt or forbidden, not {raw_decision!r}"
        ) from None
    justification = kwargs.get("justification")
    if justification is not None and not isinstance(justification, str):
        raise RulesError(path, line, "`justification` must be a string")
    rule = PrefixRule(tuple(pattern), decision, justification, f"{path}:{line}")
    for key, expected in (("match", True), ("not_match", False)):
        for example in _examples(kwargs.get(key), key, path, line):
            if rule.matches(example) != expected:
                verb = "does not match" if expected else "matches"
                raise RulesError(
                    path, line, f"rule {verb} its `{key}` example {shlex.join(example)!r}"
                )
    return rule


def _examples(raw: Any, key: str, path: Path | str, line: int) -> list[list[str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise RulesError(path, line, f"`{key}` must be a list of examples")
    out: list[list[str]] = []
    for example in raw:
        if isinstance(example, str):
            try:
                out.append(shlex.split(example))
            except ValueError as exc:
                raise RulesError(path, line, f"`{key}` example {example!r}: {exc}") from None
        elif isinstance(example, list) and all(isinstance(t, str) for t in example):
            out.append(list(example))
        else:
            raise RulesError(path, line, f"each `{key}` example must be a string or a list of strings")
    return out


def _check_host_executable(kwargs: dict[str, Any], path: Path | str, line: int) -> None:
    unknown = sorted(set(kwargs) - _HOST_EXECUTABLE_KEYS)
    if unknown:
        raise RulesError(path, line, f"host_executable() got an unexpected argument `{unknown[0]}`")
    if not isinstance(kwargs.get("name"), str):
        raise RulesError(path, line, "host_executable() needs `name`, a string")
    paths = kwargs.get("paths", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise RulesError(path, line, "host_executable() `paths` must be a list of strings")


# --- loading and amending ------------------------------------------------------------------


def rules_dir(home: Path) -> Path:
    return home / RULES_DIR


def load_exec_policy(home: Path) -> tuple[ExecPolicy, list[str]]:
    """All `*.rules` files of `<home>/rules`, in name order; bad files skipped with a warning."""
    directory = rules_dir(home)
    policy = ExecPolicy()
    warnings: list[str] = []
    try:
        files = sorted(p for p in directory.iterdir() if p.name.endswith(RULES_SUFFIX))
    except FileNotFoundError:
        return policy, warnings
    except OSError as exc:
        return policy, [f"failed to read rules directory {directory}: {exc.strerror}"]
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
            policy.rules.extend(parse_rules(text, file))
        except RulesError as exc:
            warnings.append(f"ignoring rules file: {exc}")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not valid UTF-8"
            warnings.append(f"ignoring rules file: {file}:1: cannot read it: {reason}")
    return policy, warnings


_append_lock = threading.Lock()


def format_allow_rule(prefix: Sequence[str]) -> str:
    # JSON string syntax is valid Starlark/Python string syntax.
    return f'prefix_rule(pattern={json.dumps(list(prefix), ensure_ascii=False)}, decision="allow")\n'


def append_allow_rule(home: Path, prefix: Sequence[str]) -> Path:
    """Add `prefix_rule(pattern=prefix, decision="allow")` to `rules/default.rules`.

    Atomic: the new file is written beside the old one and renamed over it, so a reader
    sees the old or the new file, never half of one.
    """
    if not prefix or not all(isinstance(t, str) and t for t in prefix):
        raise ValueError("an allow rule needs a non-empty list of non-empty tokens")
    directory = rules_dir(home)
    target = directory / DEFAULT_RULES_FILE
    line = format_allow_rule(prefix)
    with _append_lock:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            existing = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            existing = ""
        if existing and not existing.endswith("\n"):
            existing += "\n"
        fd, tmp = tempfile.mkstemp(prefix=f".{DEFAULT_RULES_FILE}.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(existing + line)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    return target


class ExecPolicyManager:
    """The session's view of the rules: loaded once, amended in memory and on disk."""

    def __init__(self, home: Path, policy: ExecPolicy | None = None) -> None:
        self.home = home
        self._policy = policy
        self.warnings: list[str] = []

    @classmethod
    def load(cls, home: Path) -> ExecPolicyManager:
        policy, warnings = load_exec_policy(home)
        manager = cls(home, policy)
        manager.warnings = warnings
        return manager

    @property
    def policy(self) -> ExecPolicy:
        if self._policy is None:
            self._policy, self.warnings = load_exec_policy(self.home)
        return self._policy

    def evaluate(self, argv: Sequence[str]) -> Evaluation:
        return self.policy.evaluate(argv)

    def remember_allow(self, prefix: Sequence[str]) -> Path:
        path = append_allow_rule(self.home, prefix)
        self.policy.rules.append(
            PrefixRule(tuple((t,) for t in prefix), Decision.ALLOW, None, f"{path}:end")
        )
        return path


def rules_from(texts: Mapping[str, str] | Iterable[tuple[str, str]]) -> ExecPolicy:
    """An ExecPolicy from in-memory (name, text) pairs; for tests and tools."""
    items = texts.items() if isinstance(texts, Mapping) else texts
    policy = ExecPolicy()
    for name, text in items:
        policy.rules.extend(parse_rules(text, name))
    return policy
