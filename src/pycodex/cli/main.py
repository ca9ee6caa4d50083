"""The `pycodex` command (click).

Startup is a feature: `pycodex --version` and `pycodex --help` are answered by
`pycodex.cli.entry` before this module (and click) is imported. This module imports only
click and the command table; each subcommand lives in its own module and is imported only
when that subcommand runs (or when its --help is shown).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from pycodex import __version__
from pycodex.cli.commands import ALIASES, COMMANDS, VERSION_TEXT, top_level_help


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "tui":  # hidden: what `pycodex [PROMPT]` runs
            from pycodex.cli.tui_cmd import tui_command

            return tui_command
        name = ALIASES.get(cmd_name, cmd_name)
        spec = COMMANDS.get(name)
        if spec is None:
            return None
        module = importlib.import_module(spec[0])
        command: click.Command = getattr(module, spec[1])
        return command

    def get_help(self, ctx: click.Context) -> str:
        # One renderer for both paths: `pycodex --help` is usually answered by
        # pycodex.cli.entry before click is even imported.
        return top_level_help()


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    invoke_without_command=True,
)
@click.version_option(
    __version__,
    "-V",
    "--version",
    prog_name="pycodex",
    message=VERSION_TEXT,
)
@click.option(
    "-c",
    "--config",
    "config_overrides",
    multiple=True,
    metavar="key=value",
    help="Override a config value for every command (as a subcommand's own -c).",
)
@click.pass_context
def cli(ctx: click.Context, config_overrides: tuple[str, ...]) -> None:
    """pycodex: a terminal coding agent, wire-compatible with the Codex CLI.

    Give it a task and it talks to a model, runs the tools the model asks for inside a
    sandbox, and records the session. Configuration lives in $PYCODEX_HOME/config.toml
    (default ~/.pycodex; Codex's ~/.codex is read when pycodex has none).
    """
    # `pycodex -c k=v SUBCOMMAND` (the official SDK launches `app-server` this way):
    # applied before the subcommand's own -c, which win.
    ctx.obj = {"config_overrides": list(config_overrides)}
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(0)


def _interactive_args(args: list[str]) -> list[str]:
    """`pycodex [ROOT OPTIONS] [PROMPT]` as the hidden `tui` command: bare `pycodex` on a
    terminal, or a first word that is no command (a task)."""
    index = 0
    while index < len(args) and args[index] in ("-c", "--config"):
        index += 2  # root `-c key=value`
    rest = args[index:]
    if not rest:
        return [*args, "tui"] if sys.stdin.isatty() and sys.stdout.isatty() else args
    first = rest[0]
    if first.split("=", 1)[0] in _TUI_OPTIONS:  # `pycodex -m MODEL "task"`
        return [*args[:index], "tui", *rest]
    if first.startswith("-") or first in COMMANDS or first in ALIASES or first == "tui":
        return args
    if " " not in first and _looks_like_a_command(first):
        return args  # a mistyped command: click names it and suggests the right one
    return [*args[:index], "tui", *rest]


# The TUI's own options (tui_cmd.py): given first, they mean the interactive session.
_TUI_OPTIONS = frozenset({
    "-m", "--model", "-s", "--sandbox", "-a", "--ask-for-approval", "-C", "--cd", "--remote",
    "--remote-token-env",
})


def _looks_like_a_command(word: str) -> bool:
    import difflib

    return bool(difflib.get_close_matches(word, [*COMMANDS, *ALIASES], n=1, cutoff=0.75))


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    args = argv if argv is not None else sys.argv[1:]
    if argv is None:
        # Invoked through a symlink named `apply_patch`, or re-run by the agent to apply a
        # patch: behave as the standalone patch tool, without loading the CLI.
        from pycodex.cli.apply_patch_entry import dispatch_argv0, dispatch_run_as_flag

        dispatch_argv0(sys.argv[0])
        dispatch_run_as_flag(args)
    return cli.main(args=_interactive_args(args), prog_name="pycodex")
