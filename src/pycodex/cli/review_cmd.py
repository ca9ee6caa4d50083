"""`pycodex review`: a code review, run and printed as `pycodex exec review` does.

Codex's `codex review` opens its interactive TUI on the review; pycodex has no TUI yet, so
this command runs the review non-interactively and prints the findings (stdout), with
progress on stderr — the same command as `pycodex exec review`, under its own name.
"""

from __future__ import annotations

import click

from pycodex.cli.exec_cmd import exec_command
from pycodex.cli.exec_sessions import REVIEW_HELP, ExecCommand

assert isinstance(exec_command, ExecCommand)
review_command: click.Command = exec_command.subcommand("review")
review_command.help = (
    REVIEW_HELP
    + "\n\nUntil pycodex has an interactive TUI, this runs like `pycodex exec review`: "
    "non-interactively, the findings printed on stdout."
)
