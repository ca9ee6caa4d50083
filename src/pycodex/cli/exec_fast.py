"""`pycodex exec` in its common forms, parsed without click.

Every turn the TypeScript SDK runs is a fresh `pycodex exec --experimental-json …`, and
scripts call `pycodex exec "task"`: loading click and building the command (~15–25 ms on a
small machine) is paid on every one. This parser understands the `exec` options exactly as
click reads them — long options with `=` or a separate value, short options with an
attached or a separate value, flags, repeated options, one positional prompt anywhere —
and hands the same values to `exec_launch`. `exec … resume SESSION_ID|--last [PROMPT]` and
`exec … fork SESSION_ID [PROMPT]` are read as `cli.exec_sessions` reads them (the SDKs
continue a thread with `exec --experimental-json … resume <id>`, every turn after the
first). Anything else (help, `--version`, `review`, `--`, an unknown option, a value
outside its choices, a missing value, a positional too many, contradicting flags) returns
None and goes through click, which owns every usage error; a test runs both parsers over
a table of argument lists. Standard library only (plus `SessionTarget` for resume/fork).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access")
_COLORS = ("always", "never", "auto")
_CYBER_PROGRAMS = ("standard", "daybreak_blue", "daybreak_red")
_SESSION_COMMANDS = ("resume", "fork")
_REVIEW = "review"

# kind: "flag" (True when given), "value" (last one wins), "multi" (each one appended);
# convert: None (a string), Path, or the tuple of allowed choices.
_Spec = tuple[str, str, Any]
_OPTIONS: dict[str, _Spec] = {}


def _option(names: tuple[str, ...], dest: str, kind: str, convert: Any = None) -> None:
    for name in names:
        _OPTIONS[name] = (dest, kind, convert)


# The shared config flags (cli.common.config_options) ...
_option(("-c", "--config"), "config_overrides", "multi")
_option(("--enable",), "enable", "multi")
_option(("--disable",), "disable", "multi")
_option(("--strict-config",), "strict_config", "flag")
_option(("-m", "--model"), "model", "value")
_option(("--oss",), "oss", "flag")
_option(("--local-provider",), "local_provider", "value")
_option(("-p", "--profile"), "profile", "value")
_option(("-s", "--sandbox"), "sandbox_mode", "value", _SANDBOX_MODES)
_option(("--full-auto",), "full_auto", "flag")
_option(("--dangerously-bypass-approvals-and-sandbox", "--yolo"), "bypass", "flag")
_option(("-C", "--cd"), "cwd", "value", Path)
_option(("--add-dir",), "add_dirs", "multi", Path)
# ... and exec's own (cli.exec_cmd).
_option(("-i", "--image"), "images", "multi", Path)
_option(("--json", "--experimental-json"), "json_mode", "flag")
_option(("-o", "--output-last-message"), "output_last_message", "value", Path)
_option(("--output-schema",), "output_schema", "value", Path)
_option(("--color",), "color", "value", _COLORS)
_option(("--skip-git-repo-check",), "skip_git_repo_check", "flag")
_option(("--ephemeral",), "ephemeral", "flag")
_option(("--ignore-user-config",), "ignore_user_config", "flag")
_option(("--ignore-rules",), "ignore_rules", "flag")
_option(("--thread-source",), "thread_source", "value")
_option(("--cyber-access-program",), "cyber_access_program", "value", _CYBER_PROGRAMS)


# `resume`'s own flags, read anywhere once the word `resume` has been seen.
_RESUME_OPTIONS: dict[str, _Spec] = {
    "--last": ("last", "flag", None),
    "--all": ("all_cwds", "flag", None),
}


def _defaults() -> dict[str, Any]:
    values: dict[str, Any] = {"prompt": None}
    for dest, kind, _ in _OPTIONS.values():
        values[dest] = False if kind == "flag" else () if kind == "multi" else None
    values["color"] = "auto"
    return values


def _converted(convert: Any, raw: str) -> Any:
    """The value as click would pass it; None when click must judge it (a choice it does
    not know, an empty path)."""
    if convert is None:
        return raw
    if convert is Path:
        return Path(raw) if raw else None
    return raw if raw in convert else None


def _split(token: str) -> tuple[str, str | None]:
    """(option name, its attached value or None) of one option token."""
    if token.startswith("--"):
        name, eq, value = token.partition("=")
        return name, (value if eq else None)
    if len(token) > 2:  # `-mgpt-5`: a short option with its value attached
        return token[:2], token[2:]
    return token, None


def parse_exec_args(args: list[str]) -> tuple[list[str], dict[str, Any], Any] | None:
    """(root `-c` overrides, the `exec` parameter values, the `SessionTarget` of
    `resume`/`fork` or None) for `[-c K=V]… exec|e ARGS`, or None when click must read
    these arguments."""
    root: list[str] = []
    index = 0
    while index + 1 < len(args) and args[index] in ("-c", "--config"):
        root.append(args[index + 1])
        index += 2
    if index >= len(args) or args[index] not in ("exec", "e"):
        return None
    values = _defaults()
    session_flags = {"last": False, "all_cwds": False}
    command: str | None = None  # "resume" / "fork" once that word came first
    positionals: list[str] = []
    rest = args[index + 1 :]
    position = 0
    while position < len(rest):
        token = rest[position]
        position += 1
        if token == "-" or not token.startswith("-"):
            if not positionals and command is None and token in _SESSION_COMMANDS:
                command = token
            elif not positionals and command is None and token == _REVIEW:
                return None
            else:
                positionals.append(token)
            continue
        name, value = _split(token)
        spec = _OPTIONS.get(name)
        target = values
        if spec is None and command == "resume":
            spec, target = _RESUME_OPTIONS.get(name), session_flags
        if spec is None:
            return None  # --help, --version, `--`, an unknown or misspelt option
        dest, kind, convert = spec
        if kind == "flag":
            if value is not None:
                return None  # `--json=1`: click's error
            target[dest] = True
            continue
        if value is None:
            if position >= len(rest) or rest[position].startswith("-"):
                return None  # a missing value, or one click might read differently
            value = rest[position]
            position += 1
        converted = _converted(convert, value)
        if converted is None:
            return None
        values[dest] = (*values[dest], converted) if kind == "multi" else converted
    if values["bypass"] and values["full_auto"]:
        return None
    if command is None:
        if len(positionals) > 1:
            return None
        values["prompt"] = positionals[0] if positionals else None
        return root, values, None
    return _session_form(root, values, command, positionals, session_flags)


def _session_form(
    root: list[str], values: dict[str, Any], command: str, positionals: list[str],
    flags: dict[str, bool],
) -> tuple[list[str], dict[str, Any], Any] | None:
    """`resume|fork [SESSION_ID] [PROMPT]` as `cli.exec_sessions`' callback reads them."""
    if len(positionals) > 2:
        return None
    session_id = positionals[0] if positionals else None
    prompt = positionals[1] if len(positionals) > 1 else None
    if flags["last"] and session_id is not None:
        if prompt is not None:
            return None  # --last with a SESSION_ID: click's usage error
        session_id, prompt = None, session_id  # `resume --last PROMPT`
    if session_id is None and not flags["last"]:
        return None  # `resume` needs an id or --last, `fork` an id
    from pycodex.frontends.exec.target import SessionTarget

    values["prompt"] = prompt
    target = SessionTarget(command, session_id, last=flags["last"], all_cwds=flags["all_cwds"])  # type: ignore[arg-type]
    return root, values, target


def run_fast(args: list[str]) -> int | None:
    """Run `exec` (exits the process) when these arguments are a common form; None when
    click must handle them."""
    parsed = parse_exec_args(args)
    if parsed is None:
        return None
    root, values, session = parsed
    from pycodex.cli.exec_launch import launch_exec

    launch_exec(values, root_overrides=root, session=session)
