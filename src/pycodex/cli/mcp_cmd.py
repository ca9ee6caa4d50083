"""`pycodex mcp add|list|get|remove`: the `[mcp_servers]` of the user's config.toml.

Output follows Codex's (`reference/config/mcp_cli.txt`); one deliberate difference: the
`list` table's header is aligned with its rows (Codex pads the Args header by the Env
column's width too). Edits go to pycodex's own config.toml ($PYCODEX_HOME) in place with
tomlkit, so comments and formatting around the edit survive, and are written atomically;
when pycodex has no config.toml yet but Codex has one, pycodex's starts as a copy of it
(Codex's is never written), so adding a server does not drop the user's other settings.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from pathlib import Path
from typing import Any, NoReturn

import click

from pycodex.config.home import pycodex_home, read_home_for

CONFIG_FILE = "config.toml"
_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
Json = dict[str, Any]


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@click.group("mcp", context_settings=_CONTEXT)
def mcp_command() -> None:
    """Manage external MCP servers for pycodex."""


# --- reading ---------------------------------------------------------------------------------


def _servers() -> dict[str, Json]:
    path = read_home_for(CONFIG_FILE) / CONFIG_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        _fail(f"failed to read {path}: {exc}")
    servers = data.get("mcp_servers")
    return {k: v for k, v in servers.items() if isinstance(v, dict)} if isinstance(servers, dict) else {}


def _transport(server: Json, *, sort_env: bool) -> Json:
    if "url" in server:
        return {
            "type": "streamable_http",
            "url": server["url"],
            "bearer_token_env_var": server.get("bearer_token_env_var"),
            "http_headers": server.get("http_headers"),
            "env_http_headers": server.get("env_http_headers"),
            "http_headers_helper": None,
        }
    env = server.get("env")
    if isinstance(env, dict) and sort_env:
        env = dict(sorted(env.items()))
    return {
        "type": "stdio",
        "command": server.get("command"),
        "args": list(server.get("args") or []),
        "env": env or None,
        "env_vars": list(server.get("env_vars") or []),
        "cwd": server.get("cwd"),
    }


def _auth_status(name: str, server: Json) -> tuple[str, str]:
    """(JSON value, table text), as Codex reports them; whether a server that has no
    credentials would accept an OAuth login is not probed (no network for a listing)."""
    if "url" not in server:
        return "unsupported", "Unsupported"
    headers = {str(h).lower() for h in (*(server.get("http_headers") or {}), *(server.get("env_http_headers") or {}))}
    if server.get("bearer_token_env_var") or "authorization" in headers:
        return "bearer_token", "Bearer token"
    from pycodex.mcp.oauth_store import has_tokens

    if has_tokens(pycodex_home(), name, str(server["url"])):
        return "o_auth", "OAuth"
    return "unsupported", "Unsupported"


def _masked_env(server: Json) -> str:
    env = server.get("env")
    if not isinstance(env, dict) or not env:
        return "-"
    return ", ".join(f"{key}=*****" for key in sorted(env))


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]


@mcp_command.command("list", context_settings=_CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Output the configured servers as JSON.")
def list_command(as_json: bool) -> None:
    """List the configured MCP servers."""
    servers = _servers()
    if as_json:
        entries = [
            {
                "name": name,
                "enabled": server.get("enabled", True),
                "disabled_reason": None,
                "transport": _transport(server, sort_env=True),
                "startup_timeout_sec": server.get("startup_timeout_sec"),
                "tool_timeout_sec": server.get("tool_timeout_sec"),
                "auth_status": _auth_status(name, server)[0],
            }
            for name, server in sorted(servers.items())
        ]
        click.echo(json.dumps(entries, indent=2, ensure_ascii=False))
        return
    if not servers:
        click.echo("No MCP servers configured yet. Try `pycodex mcp add my-tool -- my-command`.")
        return
    click.echo("\n\n".join("\n".join(_table(t)) for t in _list_tables(servers)))


def _list_tables(servers: dict[str, Json]) -> list[list[list[str]]]:
    stdio = [["Name", "Command", "Args", "Env", "Cwd", "Status", "Auth"]]
    http = [["Name", "Url", "Bearer Token Env Var", "Status", "Auth"]]
    for name, server in sorted(servers.items()):
        status = "enabled" if server.get("enabled", True) else "disabled"
        auth = _auth_status(name, server)[1]
        if "url" in server:
            http.append([name, str(server["url"]), server.get("bearer_token_env_var") or "-", status, auth])
        else:
            args = " ".join(str(a) for a in server.get("args") or []) or "-"
            cwd = str(server.get("cwd") or "-")
            stdio.append([name, str(server.get("command")), args, _masked_env(server), cwd, status, auth])
    return [table for table in (stdio, http) if len(table) > 1]


@mcp_command.command("get", context_settings=_CONTEXT)
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Output the server configuration as JSON.")
def get_command(name: str, as_json: bool) -> None:
    """Show one MCP server's configuration."""
    server = _servers().get(name)
    if server is None:
        _fail(f"No MCP server named '{name}' found.")
    if as_json:
        entry = {
            "name": name,
            "enabled": server.get("enabled", True),
            "disabled_reason": None,
            "transport": _transport(server, sort_env=False),
            "enabled_tools": server.get("enabled_tools"),
            "disabled_tools": server.get("disabled_tools"),
            "startup_timeout_sec": server.get("startup_timeout_sec"),
            "tool_timeout_sec": server.get("tool_timeout_sec"),
        }
        click.echo(json.dumps(entry, indent=2, ensure_ascii=False))
        return
    lines = [name, f"  enabled: {str(server.get('enabled', True)).lower()}"]
    if "url" in server:
        lines += [
            "  transport: streamable_http",
            f"  url: {server['url']}",
            f"  bearer_token_env_var: {server.get('bearer_token_env_var') or '-'}",
        ]
    else:
        lines += [
            "  transport: stdio",
            f"  command: {server.get('command')}",
            f"  args: {' '.join(str(a) for a in server.get('args') or []) or '-'}",
            f"  cwd: {server.get('cwd') or '-'}",
            f"  env: {_masked_env(server)}",
        ]
    lines.append(f"  remove: pycodex mcp remove {name}")
    click.echo("\n".join(lines))


# --- editing -----------------------------------------------------------------------------------


def _load_for_edit() -> tuple[Path, Any]:
    from pycodex.config.edit import user_config_for_edit
    from pycodex.config.errors import ConfigError

    try:
        return user_config_for_edit()
    except ConfigError as exc:
        _fail(str(exc))


def _save(path: Path, doc: Any) -> None:
    from pycodex.config.edit import save_document

    save_document(path, doc)


def _parse_env(values: tuple[str, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"environment entries must be KEY=VALUE, got '{value}'", param_hint="--env")
        env[key] = val
    return env


def _server_table(command: tuple[str, ...], url: str | None, env: dict[str, str], bearer: str | None) -> Any:
    import tomlkit

    table = tomlkit.table()
    if url is not None:
        table["url"] = url
        if bearer:
            table["bearer_token_env_var"] = bearer
        return table
    table["command"] = command[0]
    table["args"] = list(command[1:])
    if env:
        env_table = tomlkit.table()
        for key in sorted(env):
            env_table[key] = env[key]
        table["env"] = env_table
    return table


@mcp_command.command("add", context_settings=_CONTEXT)
@click.argument("name")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--env", "env_values", multiple=True, metavar="KEY=VALUE",
              help="Environment variables to set when launching the server (stdio only).")
@click.option("--url", default=None, help="URL of a streamable HTTP MCP server.")
@click.option("--bearer-token-env-var", default=None, metavar="ENV_VAR",
              help="Environment variable holding a bearer token (streamable HTTP only).")
def add_command(
    name: str, command: tuple[str, ...], env_values: tuple[str, ...], url: str | None,
    bearer_token_env_var: str | None,
) -> None:
    """Add (or replace) an MCP server: `add NAME -- COMMAND ARGS...` or `add NAME --url URL`."""
    if not _NAME.match(name):
        raise click.BadParameter(
            f"invalid server name '{name}' (use letters, numbers, '-', '_')", param_hint="NAME"
        )
    if (url is None) == (not command):
        raise click.UsageError("give exactly one of --url URL or -- COMMAND [ARGS]...")
    if url is not None and env_values:
        raise click.UsageError("--env is only valid with stdio servers (-- COMMAND)")
    if url is None and bearer_token_env_var:
        raise click.UsageError("--bearer-token-env-var is only valid with --url")
    env = _parse_env(env_values)
    path, doc = _load_for_edit()
    import tomlkit

    if "mcp_servers" not in doc:
        doc["mcp_servers"] = tomlkit.table(is_super_table=True)
    servers = doc["mcp_servers"]
    if name in servers:
        del servers[name]
    servers[name] = _server_table(command, url, env, bearer_token_env_var)
    _save(path, doc)
    click.echo(f"Added global MCP server '{name}'.")


@mcp_command.command("remove", context_settings=_CONTEXT)
@click.argument("name")
def remove_command(name: str) -> None:
    """Remove an MCP server from config.toml."""
    path, doc = _load_for_edit()
    servers = doc.get("mcp_servers")
    if servers is None or name not in servers:
        click.echo(f"No MCP server named '{name}' found.")
        return
    del servers[name]
    if not servers:
        del doc["mcp_servers"]
    _save(path, doc)
    click.echo(f"Removed global MCP server '{name}'.")


# --- OAuth -------------------------------------------------------------------------------------


def _http_server(name: str) -> Json:
    server = _servers().get(name)
    if server is None:
        _fail(f"No MCP server named '{name}' found.")
    if "url" not in server:
        _fail(f"OAuth login is only supported for streamable HTTP servers ('{name}' runs a command).")
    return server


def _open_browser(url: str) -> bool:
    if os.environ.get("PYCODEX_NO_BROWSER"):
        return False
    import webbrowser

    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


@mcp_command.command("login", context_settings=_CONTEXT)
@click.argument("name")
@click.option("--scopes", metavar="SCOPE,SCOPE", help="Comma-separated OAuth scopes to request.")
def login_command(name: str, scopes: str | None) -> None:
    """Log in to a streamable-HTTP MCP server with OAuth (opens the browser).

    The tokens are stored in $PYCODEX_HOME/mcp_oauth_credentials.json (mode 0600) and used,
    refreshed as they expire, whenever pycodex connects to the server.
    """
    import asyncio

    from pycodex.mcp.errors import McpError
    from pycodex.mcp.oauth import login

    server = _http_server(name)
    if server.get("bearer_token_env_var"):
        _fail(f"MCP server '{name}' authenticates with the bearer token in "
              f"${server['bearer_token_env_var']}: OAuth login is not needed.")
    headers = {str(k): str(v) for k, v in (server.get("http_headers") or {}).items()}
    for header, var in (server.get("env_http_headers") or {}).items():
        if value := os.environ.get(str(var)):
            headers[str(header)] = value
    wanted = [scope.strip() for scope in (scopes or "").split(",") if scope.strip()] or None
    try:
        asyncio.run(login(pycodex_home(), name, str(server["url"]), headers, scopes=wanted,
                          out=sys.stdout, open_browser=_open_browser))
    except McpError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("login cancelled")
    click.echo(f"Successfully logged in to MCP server '{name}'.")


@mcp_command.command("logout", context_settings=_CONTEXT)
@click.argument("name")
def logout_command(name: str) -> None:
    """Remove the OAuth credentials stored for an MCP server."""
    from pycodex.mcp.oauth_store import OAuthStoreError, delete_entry

    _http_server(name)
    try:
        removed = delete_entry(pycodex_home(), name)
    except (OAuthStoreError, OSError) as exc:
        _fail(str(exc))
    if not removed:
        _fail(f"No OAuth credentials stored for server '{name}'.")
    click.echo(f"Removed OAuth credentials for '{name}'.")
