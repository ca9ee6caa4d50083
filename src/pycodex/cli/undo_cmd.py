"""`pycodex undo [THREAD]`: restore the files the last turn of a thread changed.

Works from the thread's undo log alone (no model, no engine): the files that turn changed
are put back as they were before it, and the user's own edits since are left alone — or,
when one of those very files was edited since, nothing is changed and the files are named.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("undo", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("thread", required=False)
@click.option("-C", "--cd", "cwd", type=click.Path(path_type=Path, file_okay=False), help="Working directory.")
def undo_command(thread: str | None, cwd: Path | None) -> None:
    """Restore the files changed by the last turn of THREAD (default: the thread whose last
    file-changing turn ran in this directory most recently).

    Only what that turn changed is restored, whether by a patch or a shell command; files
    edited since the turn are never overwritten: then nothing is restored and they are
    listed (exit 1). Run it again to undo the turn before.
    """
    from pycodex.config.home import pycodex_home
    from pycodex.context.snapshot_restore import latest_thread_in, undo_last_turn

    home = pycodex_home()
    where = (cwd or Path.cwd()).resolve()
    thread_id = thread or latest_thread_in(home, where)
    if thread_id is None:
        raise click.ClickException(f"no turn that changed files was recorded in {where}; name a THREAD")
    result = undo_last_turn(home, thread_id)
    if not result.success:
        raise click.ClickException(result.message)
    click.echo(f"thread {thread_id}: {result.message}")
