"""Recognise a shell-tool command that is really an apply_patch call.

Models call the patch tool through the shell in a few shapes; the agent intercepts them
so the patch goes through approval and the in-process engine instead of a subprocess:

    ["apply_patch", PATCH]            ["applypatch", PATCH]
    ["bash", "-lc", "apply_patch <<'EOF'\\n...\\nEOF\\n"]     (also sh/zsh, -c)
    ["bash", "-lc", "cd some/dir && apply_patch <<'EOF'\\n...\\nEOF"]
    ["pwsh", "-NoProfile", "-Command", SCRIPT], ["cmd", "/c", SCRIPT]

Like Codex, a script matches only if the heredoc command is the *whole* script: a
prefix (`echo hi;`) or suffix (`&& echo done`) means it is an ordinary shell command.
"""

from __future__ import annotations

from pycodex.apply_patch.record import Record

TYPE_CHECKING = False  # not typing's: see record.py on what imports cost here
if TYPE_CHECKING:
    import re
    from collections.abc import Iterator

APPLY_PATCH_COMMANDS = ("apply_patch", "applypatch")


class ApplyPatchInvocation(Record):
    __slots__ = ("patch", "workdir")

    def __init__(self, patch: str, workdir: str | None) -> None:
        self.patch = patch
        # From a leading `cd DIR &&`; relative to the command's cwd when not absolute.
        self.workdir = workdir

    def __iter__(self) -> Iterator[str | None]:
        return iter((self.patch, self.workdir))


# Compiled on first use: the `apply_patch` program never needs it, and `re` costs it ~7 ms.
_script: re.Pattern[str] | None = None
_SCRIPT = r"""\A\s*
    (?:cd[ \t]+(?:(?P<word>[^\s;&|<>()'"`$\\]+)|'(?P<single>[^']*)'|"(?P<double>[^"\\$`]*)")
       [ \t]*&&[ \t]*)?
    (?:apply_patch|applypatch)[ \t]*<<[ \t]*
    (?P<quote>['"]?)(?P<delim>[A-Za-z_][A-Za-z0-9_]*)(?P=quote)[ \t]*\n
    (?P<body>(?:.*?\n)??)
    (?P=delim)[ \t]*(?:\n\s*)?\Z"""


def _script_pattern() -> re.Pattern[str]:
    global _script
    if _script is None:
        import re

        _script = re.compile(_SCRIPT, re.DOTALL | re.VERBOSE)
    return _script


def _stem(program: str) -> str:
    # Codex compares the file stem, lower-cased, so /bin/bash and BASH.EXE both count.
    name = program.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name.rsplit(".", 1)[0] if "." in name[1:] else name


def _is_shell_flag(program: str, flag: str) -> bool:
    stem = _stem(program)
    if stem in ("bash", "zsh", "sh"):
        return flag in ("-lc", "-c")
    if stem in ("pwsh", "powershell"):
        return flag.lower() == "-command"
    if stem == "cmd":
        return flag.lower() == "/c"
    return False


def _shell_script(argv: list[str]) -> str | None:
    if len(argv) == 3 and _is_shell_flag(argv[0], argv[1]):
        return argv[2]
    if (
        len(argv) == 4
        and _stem(argv[0]) in ("pwsh", "powershell")
        and argv[1].lower() == "-noprofile"
        and _is_shell_flag(argv[0], argv[2])
    ):
        return argv[3]
    return None


def extract_heredoc_patch(script: str) -> ApplyPatchInvocation | None:
    """The heredoc body (and `cd` dir) of `[cd DIR &&] apply_patch <<'EOF' ... EOF`."""
    m = _script_pattern().match(script)
    if m is None:
        return None
    workdir = m.group("word") or m.group("single") or m.group("double")
    if workdir is None and m.group("single") == "":
        workdir = ""
    body = m.group("body").rstrip("\n")
    return ApplyPatchInvocation(body, workdir)


def maybe_parse_apply_patch_invocation(argv: list[str]) -> ApplyPatchInvocation | None:
    """The patch text (and optional workdir) if `argv` invokes apply_patch, else None.

    The patch is returned unparsed; feed it to `parse_patch`, which also accepts the
    heredoc-wrapped form models sometimes pass as a literal argument.
    """
    if len(argv) == 2 and argv[0] in APPLY_PATCH_COMMANDS:
        return ApplyPatchInvocation(argv[1], None)
    script = _shell_script(argv)
    if script is None:
        return None
    return extract_heredoc_patch(script)
