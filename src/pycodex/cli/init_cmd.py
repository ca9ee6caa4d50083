"""`pycodex init`: generate an AGENTS.md for the repository (never overwrites one)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pycodex.cli.common import config_options, overrides_from

if TYPE_CHECKING:
    from pycodex.config.config import Config


@click.command("init", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@config_options
def init_command(**config_flags: object) -> None:
    """Write an AGENTS.md for the repository in the working directory.

    The model looks around the repository with read-only commands and drafts the file;
    pycodex writes it. An existing AGENTS.md is never overwritten: the command stops
    (exit 1) and leaves it as it is.
    """
    import asyncio

    from pycodex.config.config import load_config
    from pycodex.config.errors import ConfigError
    from pycodex.context.init import InitError, agents_md_target

    overrides = overrides_from(config_flags, default_approval="never")
    if overrides.sandbox_mode is None:
        overrides.sandbox_mode = "read-only"  # the model only looks; pycodex writes the file
    try:
        config = load_config(overrides)
        agents_md_target(config.cwd)
        path = asyncio.run(_run(config))
    except (ConfigError, InitError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path}")


async def _run(config: Config) -> Path:
    from pycodex.context.init import run_init
    from pycodex.core import ThreadManager, ThreadOptions

    manager = ThreadManager(ThreadOptions(originator="pycodex_exec", source="exec"))
    thread = await manager.start_thread(config)
    try:
        await thread.next_event()  # SessionConfigured
        return await run_init(thread, config.cwd)
    finally:
        await thread.shutdown()
