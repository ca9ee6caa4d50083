"""`pycodex completion [bash|zsh|fish]`: a shell completion script on stdout.

The script is click's: it calls `pycodex` back with `_PYCODEX_COMPLETE` set, and pycodex
answers with the commands, options and choices that fit the words typed so far. Install
it with e.g. `pycodex completion bash > ~/.local/share/bash-completion/completions/pycodex`
(zsh: a file named `_pycodex` on `$fpath`; fish: `~/.config/fish/completions/pycodex.fish`).
"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command("completion", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("shell", type=click.Choice(SHELLS), default="bash")
def completion_command(shell: str) -> None:
    """Print a completion script for SHELL (default: bash)."""
    from click.shell_completion import get_completion_class

    from pycodex.cli.main import cli

    completion_class = get_completion_class(shell)
    assert completion_class is not None  # every name in SHELLS is one of click's
    script = completion_class(cli, {}, "pycodex", "_PYCODEX_COMPLETE").source()
    click.echo(script)
