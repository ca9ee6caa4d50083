"""`pycodex app-server`: the JSON-RPC server IDEs and the Codex SDKs drive.

Only click is imported here; the server (asyncio, msgspec, websockets) is loaded when the
command actually runs.
"""

from __future__ import annotations

import os
from typing import Any

import click

_HELP = """[experimental] Run the app server: Codex's JSON-RPC protocol for IDEs, SDKs and the TUI.

\b
Messages are JSON-RPC 2.0 without the "jsonrpc" field. Transports:
  stdio://        one JSON object per line on stdin / stdout (default)
  ws://IP:PORT    one message per websocket text frame; port 0 picks a free
                  port and prints the address on stderr; loopback only unless
                  clients must authenticate (--ws-auth: `Authorization: Bearer`)
  unix://[PATH]   websocket frames over a unix socket that only this user can
                  open (mode 0600); without PATH, the control socket under
                  $PYCODEX_HOME/app-server-control/

A client sends `initialize` first (then the `initialized` notification); stdout carries
only protocol messages, diagnostics go to stderr. With stdio the server exits when stdin
closes; a listener runs until SIGTERM or SIGINT.
"""


@click.group(
    "app-server",
    invoke_without_command=True,
    help=_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--listen",
    "listen_url",
    default="stdio://",
    show_default=True,
    metavar="URL",
    help="Transport endpoint: `stdio://`, `ws://IP:PORT`, `unix://` or `unix://PATH`.",
)
@click.option("--stdio", is_flag=True, help="Use stdio (same as --listen stdio://).")
@click.option(
    "--ws-auth",
    type=click.Choice(["capability-token", "signed-bearer-token"]),
    metavar="MODE",
    help="Require websocket clients to authenticate: `capability-token` or "
    "`signed-bearer-token` (required to listen on a non-loopback address).",
)
@click.option("--ws-token-file", metavar="PATH", help="Absolute path to the capability-token file.")
@click.option("--ws-token-sha256", metavar="HEX", help="SHA-256 digest (hex) of the capability token.")
@click.option(
    "--ws-shared-secret-file", metavar="PATH",
    help="Absolute path to the shared secret for signed (HS256 JWT) bearer tokens.",
)
@click.option("--ws-issuer", metavar="ISSUER", help="Expected `iss` of signed bearer tokens.")
@click.option("--ws-audience", metavar="AUDIENCE", help="Expected `aud` of signed bearer tokens.")
@click.option(
    "--ws-max-clock-skew-seconds", type=click.IntRange(min=0), metavar="SECONDS",
    help="Clock skew tolerated when checking `exp`/`nbf` of signed bearer tokens (default 30).",
)
@click.pass_context
def app_server_command(ctx: click.Context, /, listen_url: str, stdio: bool, **ws_flags: Any) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from pycodex.frontends.app_server.limits import LimitError, Limits
    from pycodex.frontends.app_server.listen import ListenUrlError, parse_listen_url
    from pycodex.frontends.app_server.ws_auth import WebsocketAuthError, WebsocketAuthFlags

    try:
        target = parse_listen_url("stdio://" if stdio else listen_url)
        limits = Limits.from_env()
        ws_auth = WebsocketAuthFlags(
            mode=ws_flags["ws_auth"], token_file=ws_flags["ws_token_file"],
            token_sha256=ws_flags["ws_token_sha256"], shared_secret_file=ws_flags["ws_shared_secret_file"],
            issuer=ws_flags["ws_issuer"], audience=ws_flags["ws_audience"],
            max_clock_skew_s=ws_flags["ws_max_clock_skew_seconds"],
        ).settings()
    except (ListenUrlError, LimitError, WebsocketAuthError) as exc:
        raise click.UsageError(str(exc), ctx) from None
    from pycodex.cli.common import root_config_overrides
    from pycodex.frontends.app_server.server import run

    ctx.exit(run(target, os.environ, limits=limits, config_overrides=root_config_overrides(), ws_auth=ws_auth))


def _out_option(func: Any) -> Any:
    func = click.option("--experimental", is_flag=True,
                        help="Include the experimental methods pycodex implements.")(func)
    return click.option("-o", "--out", "out", required=True, type=click.Path(file_okay=False),
                        help="Directory to write into (created if missing).")(func)


@app_server_command.command("generate-json-schema")
@_out_option
def generate_json_schema_command(out: str, experimental: bool) -> None:
    """[experimental] Write JSON Schemas of the protocol as pycodex implements it: every
    request it answers (params from the types it decodes them into) and the thread items it
    sends. Results and notifications follow Codex's published schemas."""
    from pathlib import Path

    from pycodex.frontends.app_server.schema_export import write_json_schema

    written = write_json_schema(Path(out), experimental)
    click.echo(f"Wrote {len(written)} JSON Schema files to {out}", err=True)


@app_server_command.command("generate-ts")
@_out_option
def generate_ts_command(out: str, experimental: bool) -> None:
    """[experimental] Write TypeScript types for the same protocol subset as
    generate-json-schema (one .ts file per type, and an index.ts)."""
    from pathlib import Path

    from pycodex.frontends.app_server.schema_export import write_typescript

    written = write_typescript(Path(out), experimental)
    click.echo(f"Wrote {len(written)} TypeScript files to {out}", err=True)
