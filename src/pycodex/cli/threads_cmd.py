"""`pycodex threads list|archive|unarchive|delete|name|reindex`, and the top-level
`pycodex archive|unarchive|delete ID` that Codex has (same texts, same exit codes).

Works on the files and the SQLite index only (no engine), so a cold
`pycodex threads list` starts fast. A thread is named by its id or, failing that, by its
name (ids take precedence).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from pycodex.rollout.index import (
    ARCHIVED_DIR,
    SESSIONS_DIR,
    ThreadIndex,
    ThreadIndexError,
    ThreadRow,
    append_name,
    iter_rollout_files,
    row_from_rollout,
    thread_id_from_path,
)
from pycodex.rollout.reader import parse_rollout_name

_CTX = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _home() -> Path:
    from pycodex.config.home import pycodex_home

    return pycodex_home()


def _lookup(index: ThreadIndex, session: str) -> ThreadRow | None:
    """The row for an id or name; a rollout the index does not know yet is indexed."""
    row = index.find(session)
    if row is not None and Path(row.rollout_path).is_file():
        return row
    wanted = session.lower()
    for path, archived in iter_rollout_files(index.home):
        if thread_id_from_path(path) == wanted:
            found = row_from_rollout(path, archived=archived)
            if found is not None:
                if row is not None:
                    found.name = row.name
                index.upsert(found)
                index.set_location(found.id, path, archived)
                return found
    return None


def _open_index(home: Path) -> ThreadIndex:
    """The index, its warnings shown on stderr; one line (exit 1) when it cannot be opened."""
    try:
        return ThreadIndex(home, on_warning=lambda message: click.echo(f"warning: {message}", err=True))
    except ThreadIndexError as exc:
        raise click.ClickException(str(exc)) from None


def _move(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        raise click.ClickException(f"{dest} already exists")
    os.replace(src, dest)


def _archive(session: str) -> None:
    home = _home()
    with _open_index(home) as index:
        row = _lookup(index, session)
        if row is None:
            raise click.ClickException(f"failed to archive session: no session found for {session}")
        src = Path(row.rollout_path)
        if not row.archived:
            dest = home / ARCHIVED_DIR / src.name
            _move(src, dest)
            index.set_location(row.id, dest, True)
    click.echo(f"Archived session {row.id}.")


def _unarchive(session: str) -> None:
    home = _home()
    with _open_index(home) as index:
        row = _lookup(index, session)
        if row is None:
            raise click.ClickException(f"failed to unarchive session: no session found for {session}")
        src = Path(row.rollout_path)
        if row.archived:
            parsed = parse_rollout_name(src.name)
            if parsed is None:
                raise click.ClickException(f"failed to unarchive session: unexpected file name {src.name}")
            when = parsed[0]
            dest = home / SESSIONS_DIR / f"{when:%Y}" / f"{when:%m}" / f"{when:%d}" / src.name
            _move(src, dest)
            index.set_location(row.id, dest, False)
    click.echo(f"Unarchived session {row.id}.")


def _delete(session: str, force: bool) -> None:
    if not force and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.ClickException(
            "cannot confirm session deletion without an interactive terminal; rerun with "
            "--force and a session UUID"
        )
    home = _home()
    with _open_index(home) as index:
        row = _lookup(index, session)
        if force and row is not None and row.id != session.lower():
            raise click.ClickException("--force needs the session UUID, not its name")
        if row is None:
            raise click.ClickException(f"failed to delete session: no session found for {session}")
        if not force and not click.confirm(f"Permanently delete session {row.id}?", default=False):
            raise click.ClickException("deletion cancelled")
        Path(row.rollout_path).unlink(missing_ok=True)
        index.delete(row.id)
    click.echo(f"Deleted session {row.id}.")


_session_arg = click.argument("session", metavar="SESSION")


@click.command("archive", context_settings=_CTX)
@_session_arg
def archive_command(session: str) -> None:
    """Archive a saved session by id or session name (moved to archived_sessions/)."""
    _archive(session)


@click.command("unarchive", context_settings=_CTX)
@_session_arg
def unarchive_command(session: str) -> None:
    """Unarchive a saved session by id or session name (moved back under sessions/)."""
    _unarchive(session)


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
    home = _home()
    with _open_index(home) as index:
        row = _lookup(index, session)
        if row is None:
            raise click.ClickException(f"no session found for {session}")
        name = name.strip()
        append_name(home, row.id, name or None)
        index.set_name(row.id, name or None)
    click.echo(f"Named session {row.id}: {name}." if name else f"Removed the name of session {row.id}.")


@click.command("reindex", context_settings=_CTX)
def reindex_command() -> None:
    """Rebuild the thread index from the rollout files."""
    with _open_index(_home()) as index:
        count = index.rebuild()
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
    with _open_index(_home()) as index:
        try:
            page = index.list(
                sort="created_at" if sort == "created" else "updated_at",
                limit=limit,
                cursor=cursor,
                cwd=where,
                provider=provider,
                source=source,
                archived=None if include_all else archived,
                search=search,
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
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
