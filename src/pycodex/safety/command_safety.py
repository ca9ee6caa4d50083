"""Which commands are known to only read: they may run without asking under `untrusted`.

A command is known-safe when it is an argv of an allow-listed read-only program whose
arguments cannot make it write, delete or execute something else — or a
`bash -lc`/`sh -c`/`zsh -lc` script in which *every* command is such a command, joined
only by `&&`, `||`, `;` and pipes (see :mod:`pycodex.safety.shell_parse`).

Known-safe is not "unsandboxed": under a sandbox these commands still run inside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from .shell_parse import Word, plain_commands, shell_script

# A program named by path must live here to count as the allow-listed program (a
# `./ls` in the workspace could be anything).
TRUSTED_BIN_DIRS = frozenset({"/bin", "/usr/bin"})

# Programs that only read, whatever their arguments (so globs in arguments are fine too).
_ANY_ARGS = frozenset(
    {
        "basename", "cat", "cd", "cut", "df", "dirname", "du", "echo", "expr", "false",
        "grep", "egrep", "fgrep", "head", "id", "ls", "nl", "numfmt", "paste", "printf",
        "pwd", "readlink", "realpath", "rev", "seq", "stat", "tac", "tail", "tr", "true",
        "uname", "wc", "which", "whoami",
    }
)  # fmt: skip

Check = Callable[[list[str]], bool]


def is_known_safe_command(argv: Sequence[str]) -> bool:
    """True when `argv` (possibly a shell `-c` script) only runs read-only commands."""
    command = list(argv)
    if not command:
        return False
    if _is_safe_words([Word(part) for part in command]):
        return True
    script = shell_script(command)
    if script is None:
        return False
    commands = plain_commands(script)
    return commands is not None and all(_is_safe_words(words) for words in commands)


def program_name(argv0: str) -> str | None:
    """The allow-list key of a program: its bare name, or the name of a trusted path."""
    if "/" not in argv0:
        return argv0
    head, name = os.path.split(argv0)
    return name if head in TRUSTED_BIN_DIRS else None


def _is_safe_words(words: list[Word]) -> bool:
    if not words or not words[0].literal:
        return False
    name = program_name(words[0].text)
    if name is None:
        return False
    if name in _ANY_ARGS:
        return True
    check = _CHECKS.get(name)
    if check is None:
        return False
    # Past this point arguments matter, so they must be exactly what we see.
    if not all(w.literal for w in words[1:]):
        return False
    return check([w.text for w in words[1:]])


# --- per-program argument checks ---------------------------------------------------------


def _find(args: list[str]) -> bool:
    unsafe = {
        "-exec", "-execdir", "-ok", "-okdir", "-delete",
        "-fls", "-fprint", "-fprint0", "-fprintf",
    }  # fmt: skip
    return not any(arg in unsafe for arg in args)


def _rg(args: list[str]) -> bool:
    with_value = ("--pre", "--hostname-bin")
    for arg in args:
        if arg in ("--search-zip", "--pre-glob") or arg.startswith("--pre-glob="):
            return False
        if any(arg == opt or arg.startswith(opt + "=") for opt in with_value):
            return False
        # `-z` (search compressed files via external tools), also inside `-nz`.
        if arg.startswith("-") and not arg.startswith("--") and "z" in arg[1:]:
            return False
    return True


def _sed(args: list[str]) -> bool:
    # Only `sed -n Np` / `sed -n M,Np` [file]: prints lines, nothing else.
    if not 2 <= len(args) <= 3 or args[0] != "-n":
        return False
    spec = args[1]
    if not spec.endswith("p"):
        return False
    parts = spec[:-1].split(",")
    return 1 <= len(parts) <= 2 and all(p.isdigit() for p in parts)


def _base64(args: list[str]) -> bool:
    for arg in args:
        if arg in ("-o", "--output") or arg.startswith("--output="):
            return False
        if arg.startswith("-o"):
            return False
    return True


def _sort(args: list[str]) -> bool:
    for arg in args:
        if arg.startswith("--output") or arg.startswith("--compress-program"):
            return False
        if arg.startswith("-") and not arg.startswith("--") and "o" in arg[1:]:
            return False
    return True


def _uniq(args: list[str]) -> bool:
    # `uniq IN OUT` writes OUT: allow at most one file operand.
    takes_value = {"-f", "-s", "-w", "--skip-fields", "--skip-chars", "--check-chars"}
    operands = 0
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in takes_value:
            skip = True
        elif arg == "-" or not arg.startswith("-"):
            operands += 1
    return operands <= 1


def _file(args: list[str]) -> bool:
    return not any(arg in ("-C", "--compile") for arg in args)


def _tree(args: list[str]) -> bool:
    return not any(arg == "-o" or arg.startswith("-o") for arg in args)


def _date(args: list[str]) -> bool:
    return not any(arg in ("-s", "--set") or arg.startswith("--set=") for arg in args)


_GIT_READ_SUBCOMMANDS = frozenset({"status", "log", "diff", "show", "branch"})
# Options that make these subcommands write a file or run a configured program.
_GIT_UNSAFE_PREFIXES = ("--output", "--ext-diff", "--textconv", "--exec", "--config-env")
_GIT_BRANCH_LISTING = frozenset(
    {
        "--show-current", "-a", "--all", "-r", "--remotes", "-v", "-vv", "--verbose",
        "-l", "--list", "--no-color", "--color", "--no-column", "--column",
        "--merged", "--no-merged", "--contains", "--no-contains", "-q", "--quiet",
    }
)  # fmt: skip


def _git(args: list[str]) -> bool:
    # No global options: `git -c core.pager=... log`, `git -C dir`, `--exec-path`...
    if not args or args[0] not in _GIT_READ_SUBCOMMANDS:
        return False
    rest = args[1:]
    if any(arg.startswith(_GIT_UNSAFE_PREFIXES) for arg in rest):
        return False
    if args[0] == "branch":
        # Listing only: every argument a listing flag (no names: those create branches).
        return all(arg in _GIT_BRANCH_LISTING for arg in rest)
    return True


_CHECKS: dict[str, Check] = {
    "base64": _base64,
    "date": _date,
    "file": _file,
    "find": _find,
    "git": _git,
    "rg": _rg,
    "sed": _sed,
    "sort": _sort,
    "tree": _tree,
    "uniq": _uniq,
}
