"""`pycodex [PROMPT]`, `pycodex resume [--last | ID]`, `pycodex fork ID`: the interactive
TUI (imported only when it runs: prompt_toolkit and rich are not loaded otherwise)."""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any

import click

_COMMON = [
    click.option("-m", "--model", help="Model the thread uses."),
    click.option("-s", "--sandbox", "sandbox_mode", type=click.Choice(["read-only", "workspace-write", "danger-full-access"]),
                 help="Sandbox for the commands the model runs."),
    click.option("-a", "--ask-for-approval", "approval_policy",
                 type=click.Choice(["untrusted", "on-failure", "on-request", "never"]),
                 help="When to ask before running a command."),
    click.option("-C", "--cd", "cwd", type=click.Path(file_okay=False), help="Work in this directory."),
    click.option("-c", "--config", "config_overrides", multiple=True, metavar="key=value",
                 help="Override a config value (TOML), as `exec -c`."),
    click.option("--remote", metavar="URL", help="Attach to a running `pycodex app-server` (ws://HOST:PORT)."),
    click.option("--remote-token-env", metavar="VAR", help="Environment variable holding the bearer token for --remote."),
]


def _common(fn: Any) -> Any:
    for option in reversed(_COMMON):
        fn = option(fn)
    return fn


def _run(prompt: str | None, resume: str | None, fork: str | None, **flags: Any) -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        suggestion = shlex.join(["pycodex", "exec", *([prompt] if prompt else [])])
        if resume:
            suggestion = shlex.join(["pycodex", "exec", "resume", resume])
        raise click.ClickException(
            f"the interactive TUI needs a terminal (stdin and stdout); without one use: {suggestion}"
        )
    from pycodex.cli.common import root_config_overrides
    from pycodex.frontends.tui.app import TuiOptions, run_tui

    if flags.get("cwd"):
        os.chdir(flags["cwd"])
    params = {"model": flags.get("model"), "sandbox": flags.get("sandbox_mode"),
              "approvalPolicy": flags.get("approval_policy")}
    token_var = flags.get("remote_token_env")
    options = TuiOptions(
        prompt=prompt, resume=resume, fork=fork, remote=flags.get("remote"),
        remote_token=os.environ.get(token_var) if token_var else None,
        config_overrides=(*root_config_overrides(), *flags.get("config_overrides", ())),
        thread_params=tuple((k, v) for k, v in params.items() if v is not None),
    )
    raise SystemExit(run_tui(os.environ, options))


@click.command("tui", hidden=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("prompt", required=False)
@_common
def tui_command(prompt: str | None, **flags: Any) -> None:
    """Start an interactive session (optionally with a first message)."""
    _run(prompt, None, None, **flags)


@click.command("resume", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("thread_id", required=False)
@click.option("--last", is_flag=True, help="Resume the most recent thread.")
@_common
def resume_command(thread_id: str | None, last: bool, **flags: Any) -> None:
    """Resume an earlier thread in the interactive TUI (`--last`, or its id / name)."""
    if not thread_id and not last:
        last = True
    _run(None, "--last" if last else thread_id, None, **flags)


@click.command("fork", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("thread_id")
@_common
def fork_command(thread_id: str, **flags: Any) -> None:
    """Continue a copy of an earlier thread in the interactive TUI."""
    _run(None, None, thread_id, **flags)
