"""`pycodex exec resume …` and `pycodex exec fork …` on top of the plain `exec [PROMPT]`.

Why not a click group with `invoke_without_command=True`: a group stops parsing its own
options at the first positional token and would take any prompt for a subcommand name,
so `pycodex exec "fix the tests"` breaks, and flags given *before* the subcommand (the
TypeScript SDK runs `exec --experimental-json --model m … resume <id>`) would be the
group's, not the subcommand's. Instead `exec` stays one command whose `make_context`
looks at the first positional token (skipping option values): when it is exactly
`resume` or `fork`, the remaining arguments — flags before and after the word — are
parsed by that subcommand, which has every `exec` option plus its own. Anything else is
a prompt: `pycodex exec "resume the work"` is a prompt, and `pycodex exec -- resume`
sends the one-word prompt "resume".

Imports only click (and a stdlib dataclass): this runs on every `pycodex exec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from pycodex.frontends.exec.target import SessionTarget

SUBCOMMANDS = ("resume", "fork", "review")
META_KEY = "pycodex.exec.session"
REVIEW_KEY = "pycodex.exec.review"
REVIEW_HELP = (
    "Review code changes: the uncommitted ones (--uncommitted), those against a base branch "
    "(--base BRANCH), one commit (--commit SHA), or follow custom review instructions "
    "(PROMPT; `-` reads them from stdin).\n\n"
    "An isolated reviewer (config `review_model`, else the model; low reasoning effort) reads "
    "the diff and answers with prioritised findings, printed on stdout (--json: JSONL events)."
)


def session_target() -> SessionTarget | None:
    """The target set by `exec resume|fork` for the running `exec` callback, if any."""
    ctx = click.get_current_context(silent=True)
    target = ctx.meta.get(META_KEY) if ctx is not None else None
    return target if isinstance(target, SessionTarget) else None


def review_target() -> dict[str, Any] | None:
    """The review target set by `exec review` / `pycodex review`, if any."""
    ctx = click.get_current_context(silent=True)
    target = ctx.meta.get(REVIEW_KEY) if ctx is not None else None
    return target if isinstance(target, dict) else None


def review_target_from(
    prompt: str | None, uncommitted: bool, base: str | None, commit: str | None, title: str | None
) -> dict[str, Any]:
    """Codex's ReviewTarget for the review flags: exactly one target, or a usage error."""
    chosen = [name for name, given in (("--uncommitted", uncommitted), ("--base", base),
                                       ("--commit", commit), ("PROMPT", prompt is not None)) if given]
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} cannot be used together: review one target")
    if title is not None and commit is None:
        raise click.UsageError("--title only applies to --commit")
    if uncommitted:
        return {"type": "uncommittedChanges"}
    if base is not None:
        return {"type": "baseBranch", "branch": base}
    if commit is not None:
        return {"type": "commit", "sha": commit, "title": title}
    if prompt is not None:
        return {"type": "custom"}  # instructions: PROMPT, or stdin for `-`
    raise click.UsageError("Specify --uncommitted, --base BRANCH, --commit SHA, or custom review instructions")


def _review_params() -> list[click.Parameter]:
    return [
        click.Argument(["prompt"], required=False),
        click.Option(["--uncommitted"], is_flag=True, help="Review staged, unstaged, and untracked changes."),
        click.Option(["--base"], metavar="BRANCH", help="Review changes against the given base branch."),
        click.Option(["--commit"], metavar="SHA", help="Review the changes introduced by a commit."),
        click.Option(["--title"], help="Commit title to show in the review summary (with --commit)."),
    ]


def first_positional(command: click.Command, args: Sequence[str]) -> int | None:
    """Index of the first positional token of `args` for `command`; None if there is none
    or it comes after `--`."""
    takes_value: dict[str, bool] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            value = not (param.is_flag or param.count)
            for name in (*param.opts, *param.secondary_opts):
                takes_value[name] = value
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            return None
        if token.startswith("--"):
            name = token.split("=", 1)[0]
            if takes_value.get(name, False) and "=" not in token:
                i += 1
        elif token.startswith("-") and token != "-":
            if takes_value.get(token[:2], False) and len(token) == 2:
                i += 1
        else:
            return i
        i += 1
    return None


class ExecCommand(click.Command):
    """`exec [PROMPT]`, or `exec resume|fork …` (see the module docstring)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        idx = first_positional(self, args)
        if idx is not None and args[idx] in SUBCOMMANDS:
            sub = self.subcommand(args[idx])
            # A bare stand-in for `exec`, so usage reads `pycodex exec resume ...` (click adds
            # a parent command's own arguments to the path).
            exec_ctx = click.Context(click.Command(self.name), info_name=info_name, parent=parent)
            return sub.make_context(args[idx], [*args[:idx], *args[idx + 1 :]], parent=exec_ctx, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.command is not self:
            return ctx.command.invoke(ctx)
        return super().invoke(ctx)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help(ctx, formatter)
        with formatter.section("Commands"):
            formatter.write_dl([
                ("resume", "Resume a previous session by id or pick the most recent with --last"),
                ("fork", "Fork a previous session by id into a new session"),
                ("review", "Run a code review against the current repository"),
            ])

    def subcommand(self, name: str) -> click.Command:
        shared = [
            p for p in self.params
            if isinstance(p, click.Option) and p.name not in ("print_json_schema",)
        ]
        exec_callback = self.callback
        assert exec_callback is not None
        if name == "review":
            return self.review_subcommand(name, shared)
        if name == "resume":
            params: list[click.Parameter] = [
                click.Argument(["session_id"], required=False, metavar="[SESSION_ID]"),
                click.Argument(["prompt"], required=False),
                click.Option(["--last"], is_flag=True,
                             help="Resume the most recent session in this directory."),
                click.Option(["--all", "all_cwds"], is_flag=True,
                             help="With --last: look in every directory, not just this one."),
                *shared,
            ]
            help_text = (
                "Resume a previous session by id (or name), or the most recent one with --last.\n\n"
                "The thread keeps its id and rollout file; PROMPT (or stdin) is the next turn."
            )
        else:
            params = [
                click.Argument(["session_id"], required=True, metavar="SESSION_ID"),
                click.Argument(["prompt"], required=False),
                *shared,
            ]
            help_text = (
                "Fork a previous session by id (or name) into a new session.\n\n"
                "The new thread starts with a full copy of the old one's history."
            )

        def callback(
            session_id: str | None,
            prompt: str | None,
            last: bool = False,
            all_cwds: bool = False,
            **flags: Any,
        ) -> Any:
            if last and session_id is not None:
                if prompt is not None:
                    raise click.UsageError("--last cannot be used together with a SESSION_ID")
                session_id, prompt = None, session_id  # `resume --last PROMPT`
            if name == "resume" and session_id is None and not last:
                raise click.UsageError("give a SESSION_ID or --last")
            ctx = click.get_current_context()
            ctx.meta[META_KEY] = SessionTarget(name, session_id, last=last, all_cwds=all_cwds)  # type: ignore[arg-type]
            return ctx.invoke(exec_callback, prompt=prompt, print_json_schema=False, **flags)

        return click.Command(
            name,
            params=params,
            callback=callback,
            help=help_text,
            context_settings=self.context_settings,
        )

    def review_subcommand(self, name: str, shared: list[click.Option]) -> click.Command:
        """`exec review` (and `pycodex review`): the exec options plus the review target."""
        exec_callback = self.callback
        assert exec_callback is not None
        # A review has no images to attach and its answer's shape is fixed.
        options = [p for p in shared if p.name not in ("images", "output_schema")]

        def callback(
            prompt: str | None, uncommitted: bool, base: str | None, commit: str | None,
            title: str | None, **flags: Any,
        ) -> Any:
            ctx = click.get_current_context()
            ctx.meta[REVIEW_KEY] = review_target_from(prompt, uncommitted, base, commit, title)
            return ctx.invoke(
                exec_callback, prompt=prompt, images=(), output_schema=None, print_json_schema=False, **flags
            )

        return click.Command(
            name,
            params=[*_review_params(), *options],
            callback=callback,
            help=REVIEW_HELP,
            context_settings=self.context_settings,
        )
