"""`pycodex login`, `pycodex login status`, `pycodex logout`.

Messages and exit codes follow Codex's (`reference/config/login_cli.txt`): everything is
printed on stderr, so stdout stays empty for scripts. pycodex writes and deletes only its
own `auth.json` ($PYCODEX_HOME, default ~/.pycodex); Codex's is read by `status` when
pycodex has none, and is never modified.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from pycodex.auth.store import (
    AUTH_FILE,
    AuthFileError,
    delete_auth,
    mask_api_key,
    read_auth,
    write_api_key,
)
from pycodex.config.home import codex_home, pycodex_home, read_home_for

F = TypeVar("F", bound=Callable[..., Any])

ENV_API_KEY = "OPENAI_API_KEY"
PIPE_HINT = "`printenv OPENAI_API_KEY | pycodex login --with-api-key`"
API_KEY_FLAG_REMOVED = (
    f"The --api-key flag is no longer supported. Pipe the key instead, e.g. {PIPE_HINT}."
)
BROWSER_LOGIN_UNSUPPORTED = (
    "ChatGPT browser login is not supported by pycodex yet; "
    f"log in with an API key instead: {PIPE_HINT}"
)
ACCESS_TOKEN_UNSUPPORTED = (
    "Logging in with an access token is not supported by pycodex yet; "
    f"log in with an API key instead: {PIPE_HINT}"
)

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _validate_overrides(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    for value in values:
        key, sep, _ = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not of the form key=value", ctx, param)
    return values


def _config_options(func: F) -> F:
    """`-c key=value`, `--enable`, `--disable`: accepted for parity with Codex.

    Login does not depend on any configuration value yet, so they are checked for shape
    and otherwise ignored.
    """
    func = click.option(
        "--disable",
        "disabled_features",
        metavar="FEATURE",
        multiple=True,
        help="Disable a feature (repeatable). Equivalent to `-c features.<name>=false`.",
    )(func)
    func = click.option(
        "--enable",
        "enabled_features",
        metavar="FEATURE",
        multiple=True,
        help="Enable a feature (repeatable). Equivalent to `-c features.<name>=true`.",
    )(func)
    func = click.option(
        "-c",
        "--config",
        "overrides",
        metavar="key=value",
        multiple=True,
        callback=_validate_overrides,
        help="Override a configuration value (dotted key; the value is parsed as TOML).",
    )(func)
    return func


def _fail(ctx: click.Context, message: str) -> NoReturn:
    click.echo(message, err=True)
    ctx.exit(1)


def _read_key_from_stdin(ctx: click.Context) -> str:
    click.echo("Reading API key from stdin...", err=True)
    stream = sys.stdin
    if stream is None:
        raw = ""
    else:
        try:
            raw = stream.read()
        except UnicodeDecodeError:
            _fail(ctx, "The API key read from stdin is not valid UTF-8.")
    key = raw.strip()
    if not key:
        _fail(ctx, "No API key provided via stdin.")
    if any(ch.isspace() for ch in key):
        _fail(ctx, "The API key read from stdin contains whitespace; pipe exactly one key.")
    return key


@click.group(
    "login",
    invoke_without_command=True,
    context_settings=_CONTEXT,
    short_help="Manage login",
)
@_config_options
@click.option(
    "--with-api-key",
    is_flag=True,
    help=f"Read the API key from stdin (e.g. {PIPE_HINT}).",
)
@click.option(
    "--with-access-token",
    is_flag=True,
    help="Read an access token from stdin (not supported by pycodex yet).",
)
@click.option(
    "--device-auth",
    is_flag=True,
    help="Log in with ChatGPT's device code flow (not supported by pycodex yet).",
)
@click.option("--api-key", "api_key", is_flag=False, flag_value="", default=None, hidden=True)
@click.pass_context
def login_command(
    ctx: click.Context,
    overrides: tuple[str, ...],
    enabled_features: tuple[str, ...],
    disabled_features: tuple[str, ...],
    with_api_key: bool,
    with_access_token: bool,
    device_auth: bool,
    api_key: str | None,
) -> None:
    """Manage login.

    Stores an API key in $PYCODEX_HOME/auth.json (default ~/.pycodex, mode 0600). When
    pycodex has no auth.json, Codex's ($CODEX_HOME or ~/.codex) is read but never changed.
    """
    if ctx.invoked_subcommand is not None:
        return
    if api_key is not None:
        _fail(ctx, API_KEY_FLAG_REMOVED)
    if with_access_token:
        _fail(ctx, ACCESS_TOKEN_UNSUPPORTED)
    if not with_api_key:
        # Browser and device-code ChatGPT login need an OAuth client pycodex lacks.
        _fail(ctx, BROWSER_LOGIN_UNSUPPORTED)
    key = _read_key_from_stdin(ctx)
    home = pycodex_home()
    try:
        write_api_key(home, key)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        _fail(ctx, f"Error: cannot write {home / AUTH_FILE}: {reason}")
    click.echo("Successfully logged in", err=True)


def _env_api_key() -> str | None:
    value = os.environ.get(ENV_API_KEY, "").strip()
    return value or None


@login_command.command("status", context_settings=_CONTEXT)
@_config_options
@click.pass_context
def status_command(
    ctx: click.Context,
    overrides: tuple[str, ...],
    enabled_features: tuple[str, ...],
    disabled_features: tuple[str, ...],
) -> None:
    """Show login status."""
    own = pycodex_home()
    home = read_home_for(AUTH_FILE)
    try:
        stored = read_auth(home / AUTH_FILE)
    except AuthFileError as exc:
        _fail(ctx, f"Error: {exc}")
    env_key = _env_api_key()
    if stored is not None and stored.api_key:
        click.echo(f"Logged in using an API key - {mask_api_key(stored.api_key)}", err=True)
        if home != own:
            click.echo(f"(read from Codex's {stored.path})", err=True)
        if env_key is not None and env_key != stored.api_key:
            click.echo(
                f"Note: {ENV_API_KEY} is set in the environment and takes precedence "
                f"({mask_api_key(env_key)})",
                err=True,
            )
        return
    if env_key is not None:
        click.echo(f"Using {ENV_API_KEY} from the environment - {mask_api_key(env_key)}", err=True)
        return
    if stored is not None:
        _fail(
            ctx,
            f"Not logged in: {stored.path} holds no API key (auth_mode {stored.auth_mode!r})",
        )
    _fail(ctx, "Not logged in")


@click.command("logout", context_settings=_CONTEXT, short_help="Remove stored credentials")
@_config_options
@click.pass_context
def logout_command(
    ctx: click.Context,
    overrides: tuple[str, ...],
    enabled_features: tuple[str, ...],
    disabled_features: tuple[str, ...],
) -> None:
    """Remove stored authentication credentials.

    Deletes $PYCODEX_HOME/auth.json. Codex's own login is left untouched.
    """
    home = pycodex_home()
    try:
        removed = delete_auth(home)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        _fail(ctx, f"Error: cannot remove {home / AUTH_FILE}: {reason}")
    click.echo("Successfully logged out" if removed else "Not logged in", err=True)
    borrowed: Path = codex_home() / AUTH_FILE
    if borrowed.is_file() and borrowed.parent != home:
        click.echo(
            f"Note: pycodex still reads Codex's login in {borrowed}; "
            "run `codex logout` to remove it.",
            err=True,
        )
