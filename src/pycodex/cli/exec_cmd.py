"""`pycodex exec` (alias `e`): flags only; the work happens in `frontends.exec.run`."""

from __future__ import annotations

from pathlib import Path

import click

from pycodex import __version__
from pycodex.cli.common import config_options
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
    from pycodex.cli.common import root_config_overrides
    from pycodex.cli.exec_launch import UsageProblem, launch_exec

    values = {
        "prompt": prompt, "images": images, "json_mode": json_mode,
        "output_last_message": output_last_message, "output_schema": output_schema,
        "color": color, "skip_git_repo_check": skip_git_repo_check, "ephemeral": ephemeral,
        "ignore_user_config": ignore_user_config, "ignore_rules": ignore_rules,
        "thread_source": thread_source, "cyber_access_program": cyber_access_program,
        **config_flags,
    }
    try:
        launch_exec(values, root_overrides=root_config_overrides(),
                    session=session_target(), review=review_target())
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
