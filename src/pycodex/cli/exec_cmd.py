"""`pycodex exec` (alias `e`): flags only; the work happens in `frontends.exec.run`."""

from __future__ import annotations

import gc
from pathlib import Path

import click

from pycodex import __version__
from pycodex.cli.common import config_options, overrides_from
from pycodex.cli.exec_sessions import ExecCommand, review_target, session_target

_CYBER_PROGRAMS = ["standard", "daybreak_blue", "daybreak_red"]


@click.command(
    "exec",
    cls=ExecCommand,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.argument("prompt", required=False)
@config_options
@click.option("-i", "--image", "images", multiple=True, type=click.Path(path_type=Path),
              help="Attach an image to the prompt (repeatable).")
@click.option("--json", "--experimental-json", "json_mode", is_flag=True,
              help="Print events to stdout as JSONL (schema: pycodex exec --print-json-schema).")
@click.option("-o", "--output-last-message", type=click.Path(path_type=Path),
              help="Write the agent's last message to this file.")
@click.option("--output-schema", type=click.Path(path_type=Path),
              help="JSON Schema file the final answer must follow.")
@click.option("--color", type=click.Choice(["always", "never", "auto"]), default="auto",
              show_default=True, help="Colour in human output.")
@click.option("--skip-git-repo-check", is_flag=True,
              help="Allow running outside a git repository or trusted directory.")
@click.option("--ephemeral", is_flag=True, help="Do not record the session on disk.")
@click.option("--ignore-user-config", is_flag=True,
              help="Do not load <home>/config.toml (credentials still come from the home).")
@click.option("--ignore-rules", is_flag=True,
              help="Do not load the exec-policy rules files (<home>/rules/*.rules).")
@click.version_option(__version__, "-V", "--version", message="pycodex-exec %(version)s")
# Passed by the official SDKs; accepted so they can drive pycodex, not acted on yet.
@click.option("--thread-source", metavar="SOURCE",
              help="Source classification for the new thread (accepted; not recorded yet).")
@click.option("--cyber-access-program", type=click.Choice(_CYBER_PROGRAMS),
              help="Cyber access program for this turn (OpenAI provider only; accepted, not sent yet).")
@click.option("--print-json-schema", is_flag=True, hidden=True,
              help="Print the JSON Schema of the --json stream and exit.")
def exec_command(
    prompt: str | None,
    images: tuple[Path, ...],
    json_mode: bool,
    output_last_message: Path | None,
    output_schema: Path | None,
    color: str,
    skip_git_repo_check: bool,
    ephemeral: bool,
    ignore_user_config: bool,
    ignore_rules: bool,
    thread_source: str | None,
    cyber_access_program: str | None,
    print_json_schema: bool,
    **config_flags: object,
) -> None:
    """Run pycodex non-interactively: one task, then exit.

    The prompt comes from PROMPT, or from stdin when PROMPT is `-` or absent; with both,
    stdin is appended to the prompt as a <stdin> block. Progress goes to stderr and the
    final message to stdout; --json prints machine-readable events instead.

    By default commands run with approval `never` in a `read-only` sandbox.
    """
    if print_json_schema:
        from importlib import resources

        click.echo((resources.files("pycodex.frontends.exec") / "exec_events.schema.json").read_text())
        return
    # (The TLS context is prewarmed by the model client, for https providers only.)
    # Most runs run a command: start the process zygote now, on the other core, while the
    # engine loads (it also sees to it that nothing the model starts outlives pycodex).
    from pycodex.core import prestart_processes

    prestart_processes()
    from pycodex.frontends.exec.run import ExecArgs, run_exec

    # The engine's modules and classes live until exit: move them out of the
    # cyclic GC's sight so its full collections during the run do not re-scan them.
    gc.freeze()
    overrides = overrides_from(config_flags, default_approval="never")
    overrides.ephemeral = ephemeral
    overrides.ignore_user_config = ignore_user_config
    overrides.ignore_rules = ignore_rules
    code = run_exec(
        ExecArgs(
            prompt=prompt,
            overrides=overrides,
            images=list(images),
            json=json_mode,
            output_last_message=output_last_message,
            output_schema=output_schema,
            color=color,
            skip_git_repo_check=skip_git_repo_check,
            session=session_target(),
            review_target=review_target(),
        )
    )
    # The run is over (rollout closed, output flushed): spare interpreter teardown its final
    # collection over every object of the run (~60 ms of a ~400 ms `exec`). atexit handlers
    # and module cleanup still run; only unreachable cycles are left to the OS, like the rest.
    gc.freeze()
    raise SystemExit(code)
