"""`pycodex login`, `pycodex login status`, `pycodex logout`.

Messages and exit codes follow Codex's (`reference/config/login_cli.txt`): everything is
printed on stderr, so stdout stays empty for scripts. pycodex writes and deletes only its
own credentials (`$PYCODEX_HOME/auth.json`, or the system keyring per
`cli_auth_credentials_store`); Codex's auth.json is read when pycodex has none, and is
never modified. ChatGPT sign-in (browser or device code) lives in `pycodex.auth.login`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from pycodex.auth.store import AUTH_FILE

if TYPE_CHECKING:
    from pycodex.config.config import Config

F = TypeVar("F", bound=Callable[..., Any])

ENV_API_KEY = "OPENAI_API_KEY"
PIPE_HINT = "`printenv OPENAI_API_KEY | pycodex login --with-api-key`"
API_KEY_FLAG_REMOVED = (
    f"The --api-key flag is no longer supported. Pipe the key instead, e.g. {PIPE_HINT}."
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
    """`-c key=value`, `--enable`, `--disable`, as for every command: they can set
    `forced_login_method`, `forced_chatgpt_workspace_id`, `cli_auth_credentials_store` or
    the model provider `login status` speaks of."""
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


def _load_config(
    ctx: click.Context, overrides: tuple[str, ...], enable: tuple[str, ...], disable: tuple[str, ...]
) -> Config:
    from pycodex.config.config import ConfigOverrides, load_config
    from pycodex.config.errors import ConfigError

    try:
        return load_config(
            ConfigOverrides(config_overrides=list(overrides), enable=list(enable), disable=list(disable))
        )
    except ConfigError as exc:
        _fail(ctx, f"Error: {exc}")


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
    help="Sign in with ChatGPT using a device code (for machines without a browser).",
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

    Without options, signs in with ChatGPT in a browser (the URL is printed when no browser
    can be opened). Credentials go to $PYCODEX_HOME/auth.json (default ~/.pycodex, mode
    0600) or the system keyring (cli_auth_credentials_store). When pycodex has no login,
    Codex's ($CODEX_HOME or ~/.codex) is read but never changed.
    """
    if ctx.invoked_subcommand is not None:
        return
    if api_key is not None:
        _fail(ctx, API_KEY_FLAG_REMOVED)
    if with_access_token:
        _fail(ctx, ACCESS_TOKEN_UNSUPPORTED)
    # The key is read first, as Codex does: a pipe is never left unread.
    key = _read_key_from_stdin(ctx) if with_api_key else None
    config = _load_config(ctx, overrides, enabled_features, disabled_features)
    forced = config.config_toml.forced_login_method
    if key is not None:
        if forced == "chatgpt":
            _fail(ctx, 'API key login is disabled (forced_login_method = "chatgpt"); run `pycodex login`.')
        _api_key_login(ctx, config, key)
        return
    if forced == "api":
        _fail(ctx, f'ChatGPT login is disabled (forced_login_method = "api"); use {PIPE_HINT}.')
    _chatgpt_login(ctx, config, device=device_auth)


def _open_store(ctx: click.Context, config: Config) -> Any:
    from pycodex.auth.errors import AuthError
    from pycodex.auth.storage import open_store

    try:
        choice = open_store(config.cli_auth_credentials_store, config.pycodex_home)
    except AuthError as exc:
        _fail(ctx, f"Error: {exc}")
    if choice.note:
        click.echo(choice.note, err=True)
    return choice.store


def _api_key_login(ctx: click.Context, config: Config, key: str) -> None:
    from pycodex.auth.errors import AuthError
    from pycodex.auth.store import StoredAuth

    home = config.pycodex_home
    store = _open_store(ctx, config)
    try:
        store.save(StoredAuth(path=home / AUTH_FILE, auth_mode="apikey", api_key=key))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        _fail(ctx, f"Error: cannot write {home / AUTH_FILE}: {reason}")
    except AuthError as exc:
        _fail(ctx, f"Error: {exc}")
    click.echo("Successfully logged in", err=True)


def _chatgpt_login(ctx: click.Context, config: Config, *, device: bool) -> None:
    import os

    from pycodex.auth import oauth
    from pycodex.auth.errors import AuthError
    from pycodex.auth.login import LoginTarget, browser_login, device_login

    target = LoginTarget(
        store=_open_store(ctx, config),
        home=config.pycodex_home,
        workspace_id=config.config_toml.forced_chatgpt_workspace_id,
        issuer=oauth.issuer(os.environ),
    )

    def echo(text: str) -> None:
        click.echo(text, err=True)

    try:
        if device:
            device_login(target, echo)
        else:
            browser_login(target, echo, os.environ)
    except AuthError as exc:
        _fail(ctx, f"Error: {exc}")
    except OSError as exc:
        _fail(ctx, f"Error: cannot save the login in {config.pycodex_home}: {exc.strerror or exc}")
    click.echo("Successfully logged in", err=True)


@login_command.command("status", context_settings=_CONTEXT)
@_config_options
@click.pass_context
def status_command(
    ctx: click.Context,
    overrides: tuple[str, ...],
    enabled_features: tuple[str, ...],
    disabled_features: tuple[str, ...],
) -> None:
    """Show login status: the stored login, and which credential the configured model
    provider will use (an environment variable, an API key or ChatGPT)."""
    import os

    from pycodex.auth.credential import load_auth, policy_from_config
    from pycodex.auth.errors import AuthError
    from pycodex.auth.status import login_status
    from pycodex.auth.store import AuthFileError

    config = _load_config(ctx, overrides, enabled_features, disabled_features)
    policy = policy_from_config(config)
    try:
        loaded = load_auth(policy.store_mode, config.pycodex_home, config.codex_home)
    except (AuthFileError, AuthError) as exc:
        _fail(ctx, f"Error: {exc}")
    report = login_status(
        config.model_provider_id, config.model_provider,
        env=os.environ, loaded=loaded, policy=policy,
    )
    for line in report.lines:
        click.echo(line, err=True)
    if not report.ok:
        ctx.exit(1)


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

    Deletes $PYCODEX_HOME/auth.json (and the keyring entry, when one is used). Codex's own
    login is left untouched.
    """
    from pycodex.auth.errors import AuthError
    from pycodex.auth.storage import delete_credentials

    config = _load_config(ctx, overrides, enabled_features, disabled_features)
    home = config.pycodex_home
    try:
        removed = delete_credentials(config.cli_auth_credentials_store, home)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        _fail(ctx, f"Error: cannot remove {home / AUTH_FILE}: {reason}")
    except AuthError as exc:
        _fail(ctx, f"Error: {exc}")
    click.echo("Successfully logged out" if removed else "Not logged in", err=True)
    borrowed: Path = config.codex_home / AUTH_FILE
    if borrowed.is_file() and borrowed.parent != home:
        click.echo(
            f"Note: pycodex still reads Codex's login in {borrowed}; "
            "run `codex logout` to remove it.",
            err=True,
        )
