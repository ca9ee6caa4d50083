"""`pycodex features list|enable|disable`: the feature flags (`[features]`), as Codex has them.

`list` prints every known feature with its stage and its effective value for this
invocation (config layers, profile, `-c`, `--enable`/`--disable`), in Codex's aligned
columns. `enable`/`disable` write `[features] NAME = true|false` into pycodex's
config.toml in place (comments and layout kept, replaced atomically); an unknown name is an
error that suggests the closest known one.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from pycodex.cli.common import config_options, overrides_from

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@click.group("features", context_settings=_CONTEXT)
def features_command() -> None:
    """Inspect and set feature flags."""


@features_command.command("list", context_settings=_CONTEXT)
@config_options
def list_command(**config_flags: Any) -> None:
    """List known features with their stage and effective state."""
    from pycodex.config.config import load_config
    from pycodex.config.errors import ConfigError
    from pycodex.config.features import FEATURES

    try:
        config = load_config(overrides_from(config_flags))
    except ConfigError as exc:
        _fail(str(exc))
    name_width = max(len(name) for name in FEATURES) + 2
    stage_width = max(len(spec.stage) for spec in FEATURES.values()) + 2
    for name, spec in FEATURES.items():
        enabled = "true" if config.features.get(name, False) else "false"
        click.echo(f"{name.ljust(name_width)}{spec.stage.ljust(stage_width)}{enabled}")


def _set(name: str, value: bool) -> None:
    from pycodex.config.edit import save_document, user_config_for_edit
    from pycodex.config.errors import ConfigError
    from pycodex.config.features import FEATURES

    if name not in FEATURES:
        import difflib

        close = difflib.get_close_matches(name, list(FEATURES), n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        _fail(f"Unknown feature flag: {name}{hint}")
    try:
        path, doc = user_config_for_edit()
    except ConfigError as exc:
        _fail(str(exc))
    import tomlkit

    table = doc.get("features")
    if table is None:
        table = tomlkit.table()
        doc["features"] = table
    elif not isinstance(table, dict):
        _fail(f"{path}: `features` is not a table")
    table[name] = value
    try:
        save_document(path, doc)
    except OSError as exc:
        _fail(f"failed to write {path}: {exc.strerror or exc}")
    click.echo(f"{'Enabled' if value else 'Disabled'} feature `{name}` in config.toml.")


@features_command.command("enable", context_settings=_CONTEXT)
@click.argument("feature")
def enable_command(feature: str) -> None:
    """Enable a feature in config.toml (for example: unified_exec)."""
    _set(feature, True)


@features_command.command("disable", context_settings=_CONTEXT)
@click.argument("feature")
def disable_command(feature: str) -> None:
    """Disable a feature in config.toml."""
    _set(feature, False)
