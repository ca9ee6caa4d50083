"""`pycodex sandbox [OPTIONS] [--] COMMAND...` and `pycodex sandbox doctor`.

The first runs one command under the sandbox policy the config and flags select, exactly as
the agent would run it, and exits with the command's exit code (the process is replaced by
the sandboxed command, so signals and the terminal behave as for the command itself). The
second reports which sandbox backend works here, why the others do not, and how to fix it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from pycodex.cli.common import config_options, overrides_from

_USAGE = "pycodex sandbox [OPTIONS] [--] COMMAND [ARGS]...  |  pycodex sandbox doctor"


class _SandboxCommand(click.Command):
    """Remembers whether `--` preceded the command, so `-- doctor` runs a program."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["sandbox_dashdash"] = "--" in args
        ctx.meta["sandbox_first"] = _first_positional(args)
        return super().parse_args(ctx, args)


def _first_positional(args: list[str]) -> str | None:
    for arg in args:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg
    return None


@click.command(
    "sandbox",
    cls=_SandboxCommand,
    context_settings={
        "help_option_names": ["-h", "--help"],
        "max_content_width": 100,
        "allow_interspersed_args": False,
    },
)
@config_options
@click.option("--backend", type=click.Choice(["bwrap", "userns", "landlock"]), hidden=True,
              help="Force one Linux backend (testing).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def sandbox_command(ctx: click.Context, /, command: tuple[str, ...], backend: str | None,
                    **config_flags: Any) -> None:
    """Run COMMAND under the sandbox policy from config and flags (-s, -c, -C, --add-dir).

    `pycodex sandbox doctor` reports which sandbox backend works on this machine.
    """
    first = ctx.meta.get("sandbox_first")
    if command and command[0] == "doctor" and first == "doctor":
        ctx.exit(_doctor(config_flags))
    if not command:
        raise click.UsageError(f"no command given. Usage: {_USAGE}")
    ctx.exit(_run(list(command), config_flags, backend))


def _policy(config_flags: dict[str, Any]) -> tuple[Any, Any]:
    from pycodex.config.config import load_config
    from pycodex.protocol.policies import SandboxPolicy

    config = load_config(overrides_from(config_flags))
    ws = config.sandbox_workspace_write
    policy = SandboxPolicy.from_mode(
        config.sandbox_mode,
        writable_roots=[str(p) for p in config.writable_roots],
        network_access=ws.network_access,
        exclude_tmpdir_env_var=ws.exclude_tmpdir_env_var,
        exclude_slash_tmp=ws.exclude_slash_tmp,
    )
    return config, policy


def _run(command: list[str], config_flags: dict[str, Any], backend: str | None) -> int:
    from pycodex.config.errors import ConfigError
    from pycodex.sandbox.launcher import SandboxUnavailable, prepare_command

    try:
        config, policy = _policy(config_flags)
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        return 1
    try:
        prepared = prepare_command(command, policy=policy, cwd=config.cwd, env=os.environ,
                                   backend=backend)
    except SandboxUnavailable as exc:
        click.echo(f"pycodex sandbox: {exc}", err=True)
        return 1
    for warning in prepared.warnings:
        click.echo(f"⚠ {warning}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.chdir(config.cwd)
        os.execvpe(prepared.argv[0], prepared.argv, prepared.env)
    except FileNotFoundError:
        click.echo(f"pycodex sandbox: {prepared.argv[0]}: command not found", err=True)
        return 127
    except OSError as exc:
        click.echo(f"pycodex sandbox: {prepared.argv[0]}: {exc.strerror}", err=True)
        return 126
    return 0  # pragma: no cover - execvpe does not return


def _doctor(config_flags: dict[str, Any]) -> int:
    from pycodex.config.errors import ConfigError
    from pycodex.sandbox.launcher import BACKENDS, FIX_HINT, sandbox_status

    policy = None
    try:
        _, policy = _policy(config_flags)
    except ConfigError as exc:
        click.echo(f"warning: config not loaded ({exc}); checking without a policy", err=True)
    status = sandbox_status(policy)
    details = status.details
    echo = click.echo
    echo(f"platform:        {details.get('platform', '?')} (uid {os.getuid()})")
    if policy is not None:
        echo(f"policy:          {policy.type}")
    abi = details.get("landlock_abi", "0")
    echo(f"landlock:        {'ABI ' + abi if abi != '0' else 'unavailable'}")
    echo(f"seccomp:         {details.get('seccomp', '?')}")
    echo(f"user namespaces: {details.get('user_namespaces', '?')}")
    if details.get("bwrap_path"):
        extra = ", --disable-userns" if details.get("bwrap_disable_userns") == "yes" else ""
        echo(f"bubblewrap:      {details['bwrap_path']} {details.get('bwrap_version', '')}{extra}")
    else:
        echo("bubblewrap:      not found (apt-get install bubblewrap)")
    echo(f"python:          {details.get('python', '?')}")
    if status.backend == "none":
        echo("backend:         none (danger-full-access: commands run without a sandbox)")
        return 0
    if status.backend == "seatbelt":
        echo("backend:         seatbelt (/usr/bin/sandbox-exec)")
        return 0
    echo("backends (in order of preference):")
    for name in BACKENDS:
        if name in status.failures:
            mark, note = "✖", status.failures[name]
        else:
            mark, note = "✔", "works"
            if name == status.backend:
                note += " (in use)"
        echo(f"  {mark} {name:<9} {note}")
    for warning in status.warnings:
        echo(f"⚠ {warning}")
    echo(status.summary())
    if not status.available:
        echo(FIX_HINT)
        return 1
    return 0
