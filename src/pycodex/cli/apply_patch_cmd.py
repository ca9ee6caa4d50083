"""`pycodex apply_patch 'PATCH'` (alias `applypatch`): the standalone tool as a subcommand.

Arguments and stdin are handled by the same code as the `apply_patch` program, so the
messages and exit codes are identical; click only contributes `--help`.
"""

from __future__ import annotations

import click


@click.command(
    name="apply_patch",
    context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]},
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def apply_patch_command(args: tuple[str, ...]) -> None:
    """Apply a patch in the apply_patch format, given as PATCH or on stdin.

    Exit status: 0 when applied, 1 when the patch is invalid or does not fit (nothing is
    changed), 2 on a usage error.
    """
    from pycodex.cli.apply_patch_entry import run

    raise SystemExit(run(list(args)))
