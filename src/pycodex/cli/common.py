"""Flags shared by commands that load a config (exec, sandbox, ...)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

_SANDBOX_MODES = ["read-only", "workspace-write", "danger-full-access"]


def config_options(func: F) -> F:
    """Decorate a command with -c/-p/-m/-s/-C/... (collected into **config_flags)."""
    options = [
        click.option("-c", "--config", "config_overrides", multiple=True, metavar="key=value",
                     help="Override a config value (dotted key; value parsed as TOML, else a string)."),
        click.option("--enable", "enable", multiple=True, metavar="FEATURE",
                     help="Enable a feature (= -c features.FEATURE=true)."),
        click.option("--disable", "disable", multiple=True, metavar="FEATURE",
                     help="Disable a feature (= -c features.FEATURE=false)."),
        click.option("--strict-config", is_flag=True,
                     help="Fail on config keys this version does not know."),
        click.option("-m", "--model", help="Model to use."),
        click.option("--oss", is_flag=True, help="Use the local open-source provider (Ollama)."),
        click.option("--local-provider", hidden=True, help="Accepted for compatibility."),
        click.option("-p", "--profile", help="Config profile to layer on top of config.toml."),
        click.option("-s", "--sandbox", "sandbox_mode", type=click.Choice(_SANDBOX_MODES),
                     help="Sandbox policy for model-run commands."),
        click.option("--full-auto", is_flag=True,
                     help="Low-friction mode: workspace-write sandbox, approval on-request."),
        click.option("--dangerously-bypass-approvals-and-sandbox", "--yolo", "bypass", is_flag=True,
                     help="Run commands without sandbox or approvals. Only inside an external sandbox."),
        click.option("-C", "--cd", "cwd", type=click.Path(path_type=Path),
                     help="Working directory for the session."),
        click.option("--add-dir", "add_dirs", multiple=True, type=click.Path(path_type=Path),
                     help="Extra writable directory (repeatable)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def root_config_overrides() -> list[str]:
    """`pycodex -c k=v …`: the top-level overrides, before any subcommand's own."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return list(obj.get("config_overrides", ())) if isinstance(obj, dict) else []


def overrides_from(flags: Mapping[str, Any], *, default_approval: str | None = None) -> Any:
    """ConfigOverrides from the flags of `config_options`, the root `-c` first (the config
    package is imported lazily)."""
    from pycodex.cli.exec_launch import UsageProblem, overrides_from_flags

    try:
        return overrides_from_flags(
            flags, default_approval=default_approval, root_overrides=root_config_overrides()
        )
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
