"""The `pycodex` command.

Startup is a feature: this module imports only click and the package's version. Each
subcommand lives in its own module and is imported only when that subcommand runs (or
when its --help is shown), so `pycodex --version` and `pycodex --help` never import the
engine, pydantic or the HTTP stack.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from pycodex import CODEX_COMPAT_VERSION, __version__

# name -> (module, attribute, one-line help shown in `pycodex --help`)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "exec": ("pycodex.cli.exec_cmd", "exec_command", "Run pycodex non-interactively [alias: e]"),
    "apply_patch": (
        "pycodex.cli.apply_patch_cmd",
        "apply_patch_command",
        "Apply a patch in the apply_patch format (argument or stdin)",
    ),
    "login": ("pycodex.cli.login_cmd", "login_command", "Manage login"),
    "sandbox": (
        "pycodex.cli.sandbox_cmd",
        "sandbox_command",
        "Run a command in the sandbox; `sandbox doctor` checks sandbox support",
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
_ALIASES = {"e": "exec", "applypatch": "apply_patch"}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = _ALIASES.get(cmd_name, cmd_name)
        spec = _COMMANDS.get(name)
        if spec is None:
            return None
        module = importlib.import_module(spec[0])
        command: click.Command = getattr(module, spec[1])
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        looks_like_a_task = " " in name or name in ("resume", "fork")
        if looks_like_a_task and self.get_command(ctx, name) is None:
            # `codex "task"` / `codex resume` start the TUI, which pycodex lacks: point at
            # the non-interactive command instead of "no such command".
            import shlex

            suggestion = shlex.join(["pycodex", "exec", *args])
            raise click.UsageError(
                f"pycodex has no interactive mode yet; run the task non-interactively with: {suggestion}",
                ctx,
            )
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Use the static help strings so `--help` does not import every command module.
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


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
    message=f"%(prog)s %(version)s (codex-compatible {CODEX_COMPAT_VERSION})",
)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """pycodex: a terminal coding agent, wire-compatible with the Codex CLI.

    Give it a task and it talks to a model, runs the tools the model asks for inside a
    sandbox, and records the session. Configuration lives in $PYCODEX_HOME/config.toml
    (default ~/.pycodex; Codex's ~/.codex is read when pycodex has none).
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(0)


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    args = argv if argv is not None else sys.argv[1:]
    if argv is None:
        # Invoked through a symlink named `apply_patch`, or re-run by the agent to apply a
        # patch: behave as the standalone patch tool, without loading the CLI.
        from pycodex.cli.apply_patch_entry import dispatch_argv0, dispatch_run_as_flag

        dispatch_argv0(sys.argv[0])
        dispatch_run_as_flag(args)
    return cli.main(args=args, prog_name="pycodex")
