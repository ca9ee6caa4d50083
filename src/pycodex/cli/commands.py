"""The table of `pycodex` subcommands and the top-level help text, without click.

`pycodex --version` and `pycodex --help` are answered from here before click (~40 ms to
import on a small machine) or anything else is loaded; the click group in `main.py` renders
its own help with :func:`top_level_help` too, so the two paths cannot drift apart.
Standard library only, and `textwrap` (which imports `re`) only for the help.
"""

from __future__ import annotations

import os

from pycodex import CODEX_COMPAT_VERSION, __version__

# name -> (module, attribute, one-line help shown in `pycodex --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "exec": ("pycodex.cli.exec_cmd", "exec_command", "Run pycodex non-interactively [alias: e]"),
    "resume": ("pycodex.cli.tui_cmd", "resume_command", "Resume an earlier thread interactively (--last or ID)"),
    "fork": ("pycodex.cli.tui_cmd", "fork_command", "Continue a copy of an earlier thread interactively"),
    "apply_patch": (
        "pycodex.cli.apply_patch_cmd",
        "apply_patch_command",
        "Apply a patch in the apply_patch format (argument or stdin)",
    ),
    "login": ("pycodex.cli.login_cmd", "login_command", "Manage login"),
    "app-server": (
        "pycodex.cli.app_server_cmd",
        "app_server_command",
        "[experimental] Run the app server (JSON-RPC for IDEs and SDKs)",
    ),
    "sandbox": (
        "pycodex.cli.sandbox_cmd",
        "sandbox_command",
        "Run a command in the sandbox; `sandbox doctor` checks sandbox support",
    ),
    "mcp": ("pycodex.cli.mcp_cmd", "mcp_command", "Manage external MCP servers for pycodex"),
    "mcp-server": (
        "pycodex.cli.mcp_server_cmd",
        "mcp_server_command",
        "Run pycodex as an MCP server (stdio; tools codex and codex-reply)",
    ),
    "logout": (
        "pycodex.cli.login_cmd",
        "logout_command",
        "Remove stored authentication credentials",
    ),
    "threads": (
        "pycodex.cli.threads_cmd",
        "threads_command",
        "List, name, archive and delete recorded threads; rebuild the index",
    ),
    "review": (
        "pycodex.cli.review_cmd",
        "review_command",
        "Run a code review non-interactively (prints the findings)",
    ),
    "undo": (
        "pycodex.cli.undo_cmd",
        "undo_command",
        "Restore the files the last turn of a thread changed (your own edits stay)",
    ),
    "completion": ("pycodex.cli.completion_cmd", "completion_command", "Print a shell completion script (bash, zsh, fish)"),
    "doctor": ("pycodex.cli.doctor_cmd", "doctor_command", "Check the installation, config, credentials, provider and sandbox"),
    "features": ("pycodex.cli.features_cmd", "features_command", "Inspect and set feature flags"),
    "init": ("pycodex.cli.init_cmd", "init_command", "Write an AGENTS.md for this repository (never overwrites one)"),
    "archive": ("pycodex.cli.threads_cmd", "archive_command", "Archive a saved session by id or name"),
    "unarchive": (
        "pycodex.cli.threads_cmd",
        "unarchive_command",
        "Unarchive a saved session by id or name",
    ),
    "delete": (
        "pycodex.cli.threads_cmd",
        "delete_command",
        "Permanently delete a saved session by id or name",
    ),
}
ALIASES = {"e": "exec", "applypatch": "apply_patch"}

VERSION_TEXT = f"pycodex {__version__} (codex-compatible {CODEX_COMPAT_VERSION})"

_DESCRIPTION = (
    "pycodex: a terminal coding agent, wire-compatible with the Codex CLI.",
    "Give it a task and it talks to a model, runs the tools the model asks for inside a "
    "sandbox, and records the session. Configuration lives in $PYCODEX_HOME/config.toml "
    "(default ~/.pycodex; Codex's ~/.codex is read when pycodex has none).",
)
_OPTIONS = (
    ("-c, --config key=value", "Override a config value for every command (as a subcommand's own -c)."),
    ("-V, --version", "Show the version and exit."),
    ("-h, --help", "Show this message and exit."),
)
_MAX_WIDTH = 100


def help_width() -> int:
    """The terminal's width, capped at 100 columns (80 when it cannot be told)."""
    try:
        columns = os.get_terminal_size().columns
    except OSError:
        columns = int(os.environ.get("COLUMNS", "80") or 80)
    return max(min(columns, _MAX_WIDTH) - 2, 50)


def _definitions(rows: tuple[tuple[str, str], ...] | list[tuple[str, str]], width: int) -> list[str]:
    """Two columns, the second wrapped with a hanging indent."""
    import textwrap  # imports `re`: not worth it for --version

    first = max(len(name) for name, _ in rows) + 2
    text_width = max(width - first - 2, 20)
    lines = []
    for name, text in rows:
        wrapped = textwrap.wrap(text, text_width) or [""]
        lines.append(f"  {name.ljust(first)}{wrapped[0]}")
        lines.extend(" " * (first + 2) + more for more in wrapped[1:])
    return lines


def top_level_help(width: int | None = None) -> str:
    """`pycodex --help`."""
    import textwrap

    width = width or help_width()
    lines = ["Usage: pycodex [OPTIONS] [COMMAND] [ARGS]...", ""]
    for paragraph in _DESCRIPTION:
        lines.extend(textwrap.wrap(paragraph, width, initial_indent="  ", subsequent_indent="  "))
        lines.append("")
    lines.append("Options:")
    lines.extend(_definitions(_OPTIONS, width))
    lines.extend(["", "Commands:"])
    lines.extend(_definitions([(name, COMMANDS[name][2]) for name in sorted(COMMANDS)], width))
    return "\n".join(lines)
