"""`pycodex threads list|archive|unarchive|delete|name|reindex`, and the top-level
`pycodex archive|unarchive|delete ID` that Codex has (same texts, same exit codes).

Parses and prints only: the work is the engine's `ThreadStore`, which reads the files
and the SQLite index (no engine), so a cold `pycodex threads list` starts fast. A thread
is named by its id or, failing that, by its name (ids take precedence).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from pycodex.core import (
    ThreadIndexUnavailableError,
    ThreadListQuery,
    ThreadNotFoundError,
    ThreadQueryError,
    ThreadStore,
    ThreadStoreError,
    ThreadSummary,
)

_CTX = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _store() -> ThreadStore:
    """The home's threads, the index's warnings shown on stderr."""
    from pycodex.config.home import pycodex_home

    return ThreadStore(pycodex_home(), on_warning=lambda message: click.echo(f"warning: {message}", err=True))


@contextmanager
def _failing_as(prefix: str) -> Iterator[None]:
    """The store's errors as one line (exit 1); `prefix` names the action that failed."""
    try:
        yield
    except ThreadNotFoundError as exc:
        raise click.ClickException(f"{prefix}{exc.args[0]}") from None
    except ThreadIndexUnavailableError as exc:  # names the file: no prefix needed
        raise click.ClickException(str(exc)) from None
    except ThreadStoreError as exc:
        raise click.ClickException(f"{prefix}{exc}") from None


def _change(
    session: str, action: Callable[[ThreadStore, str], ThreadSummary], prefix: str, done: str
) -> None:
    with _failing_as(prefix):
        row = action(_store(), session)
    click.echo(f"{done} session {row.id}.")


def _delete(session: str, force: bool) -> None:
    if not force and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.ClickException(
            "cannot confirm session deletion without an interactive terminal; rerun with "
            "--force and a session UUID"
        )
    store = _store()
    with _failing_as("failed to delete session: "):
        row = store.get(session)
        if force and row.id != session.lower():
            raise click.ClickException("--force needs the session UUID, not its name")
        if not force and not click.confirm(f"Permanently delete session {row.id}?", default=False):
            raise click.ClickException("deletion cancelled")
        store.delete(row.id)
    click.echo(f"Deleted session {row.id}.")


_session_arg = click.argument("session", metavar="SESSION")


@click.command("archive", context_settings=_CTX)
@_session_arg
def archive_command(session: str) -> None:
    """Archive a saved session by id or session name (moved to archived_sessions/)."""
    _change(session, ThreadStore.archive, "failed to archive session: ", "Archived")


@click.command("unarchive", context_settings=_CTX)
@_session_arg
def unarchive_command(session: str) -> None:
    """Unarchive a saved session by id or session name (moved back under sessions/)."""
    _change(session, ThreadStore.unarchive, "failed to unarchive session: ", "Unarchived")


@click.command("delete", context_settings=_CTX)
@_session_arg
@click.option("--force", is_flag=True, help="Delete without prompting. SESSION must be a UUID.")
def delete_command(session: str, force: bool) -> None:
    """Permanently delete a saved session by id or session name."""
    _delete(session, force)


@click.command("name", context_settings=_CTX)
@_session_arg
@click.argument("name", required=False, default="")
def name_command(session: str, name: str) -> None:
    """Name a session (an empty NAME removes the name)."""
    with _failing_as(""):
        row = _store().set_name(session, name)
    click.echo(f"Named session {row.id}: {row.name}." if row.name else f"Removed the name of session {row.id}.")


@click.command("reindex", context_settings=_CTX)
def reindex_command() -> None:
    """Rebuild the thread index from the rollout files."""
    with _failing_as(""):
        count = _store().reindex()
    click.echo(f"Reindexed {count} thread{'s' if count != 1 else ''}.")


def _local(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


@click.command("list", context_settings=_CTX)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: {data, next_cursor}.")
@click.option("-n", "--limit", type=click.IntRange(1, 10_000), default=25, show_default=True)
@click.option("--sort", type=click.Choice(["created", "updated"]), default="updated", show_default=True)
@click.option("--cwd", "cwd", type=click.Path(path_type=Path), help="Only threads started in DIR.")
@click.option("--here", is_flag=True, help="Only threads started in the current directory.")
@click.option("--provider", help="Only threads of this model provider.")
@click.option("--source", help="Only threads from this source (exec, cli, vscode...).")
@click.option("--archived", is_flag=True, help="List archived threads instead.")
@click.option("--all", "include_all", is_flag=True, help="List archived and unarchived threads.")
@click.option("-s", "--search", help="Only threads whose title or name contains TEXT.")
@click.option("--cursor", help="Continue after the page that returned this cursor.")
def list_command(
    as_json: bool,
    limit: int,
    sort: str,
    cwd: Path | None,
    here: bool,
    provider: str | None,
    source: str | None,
    archived: bool,
    include_all: bool,
    search: str | None,
    cursor: str | None,
) -> None:
    """List recorded threads, newest first."""
    where = str(Path.cwd()) if here else (str(cwd.resolve()) if cwd is not None else None)
    query = ThreadListQuery(
        sort_key="created_at" if sort == "created" else "updated_at",
        limit=limit,
        cursor=cursor,
        cwd=where,
        model_providers=[provider] if provider else None,
        source_kinds=[source] if source else None,
        archived=None if include_all else archived,
        search_term=search,
    )
    try:
        with _failing_as(""):
            page = _store().list(query)
    except ThreadQueryError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        out: dict[str, Any] = {"data": [r.to_json() for r in page.items], "next_cursor": page.next_cursor}
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    if not page.items:
        click.echo("No threads.", err=True)
        return
    key = "created_at" if sort == "created" else "updated_at"
    for row in page.items:
        label = row.name or row.title or "(no message yet)"
        flag = " [archived]" if row.archived else ""
        click.echo(f"{row.id}  {_local(getattr(row, key))}  {label}{flag}")
    if page.next_cursor:
        click.echo(f"More: --cursor {page.next_cursor}", err=True)


@click.group("threads", context_settings=_CTX)
def threads_command() -> None:
    """List and manage recorded threads (sessions)."""


for _cmd in (list_command, archive_command, unarchive_command, delete_command, name_command, reindex_command):
    threads_command.add_command(_cmd)
