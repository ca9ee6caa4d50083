"""Running `pycodex exec` once its arguments are parsed.

Two parsers feed this one body: click (`exec_cmd`, every form and every error message)
and the click-free fast path (`exec_fast`, the common forms SDKs and scripts use). Both
hand over the same mapping of parameter values, so what a run does cannot depend on which
parser read its arguments. Standard library only at import time.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn


class UsageProblem(Exception):
    """Flags that contradict each other (click turns it into its usage error)."""


def check_flag_conflicts(flags: Mapping[str, Any]) -> None:
    if flags.get("bypass") and flags.get("full_auto"):
        raise UsageProblem(
            "--full-auto and --dangerously-bypass-approvals-and-sandbox cannot be used together"
        )


def overrides_from_flags(
    flags: Mapping[str, Any],
    *,
    default_approval: str | None = None,
    root_overrides: Sequence[str] = (),
) -> Any:
    """ConfigOverrides from the shared config flags (`cli.common.config_options`); the
    root `pycodex -c k=v` overrides come first, so a command's own `-c` wins."""
    from pycodex.config.config import ConfigOverrides

    check_flag_conflicts(flags)
    sandbox = flags.get("sandbox_mode")
    approval = default_approval
    if flags.get("full_auto"):
        sandbox, approval = "workspace-write", "on-request"
    if flags.get("bypass"):
        sandbox, approval = "danger-full-access", "never"
    return ConfigOverrides(
        model=flags.get("model"),
        profile=flags.get("profile"),
        cwd=flags.get("cwd"),
        approval_policy=approval,
        sandbox_mode=sandbox,
        oss=bool(flags.get("oss")),
        add_dirs=list(flags.get("add_dirs") or ()),
        enable=list(flags.get("enable") or ()),
        disable=list(flags.get("disable") or ()),
        strict=bool(flags.get("strict_config")),
        config_overrides=[*root_overrides, *(flags.get("config_overrides") or ())],
    )


def launch_exec(
    values: Mapping[str, Any],
    *,
    root_overrides: Sequence[str],
    session: Any = None,
    review: dict[str, Any] | None = None,
) -> NoReturn:
    """Run the task described by `values` (the `exec` command's parameters) and exit."""
    check_flag_conflicts(values)  # before anything starts
    # Most runs run a command: start the process zygote now, on the other core, while the
    # engine loads (it also sees to it that nothing the model starts outlives pycodex).
    from pycodex.core import prestart_processes

    prestart_processes()
    from pycodex.frontends.exec.run import ExecArgs, run_exec

    # The engine's modules and classes live until exit: move them out of the
    # cyclic GC's sight so its full collections during the run do not re-scan them
    # (and collect again: the fast path turned the GC off while they loaded).
    gc.freeze()
    gc.enable()
    overrides = overrides_from_flags(values, default_approval="never", root_overrides=root_overrides)
    overrides.ephemeral = bool(values.get("ephemeral"))
    overrides.ignore_user_config = bool(values.get("ignore_user_config"))
    overrides.ignore_rules = bool(values.get("ignore_rules"))
    code = run_exec(
        ExecArgs(
            prompt=values.get("prompt"),
            overrides=overrides,
            images=list(values.get("images") or ()),
            json=bool(values.get("json_mode")),
            output_last_message=values.get("output_last_message"),
            output_schema=values.get("output_schema"),
            color=values.get("color") or "auto",
            skip_git_repo_check=bool(values.get("skip_git_repo_check")),
            session=session,
            review_target=review,
        )
    )
    # The run is over (rollout closed, output flushed): spare interpreter teardown its final
    # collection over every object of the run (~60 ms of a ~400 ms `exec`). atexit handlers
    # and module cleanup still run; only unreachable cycles are left to the OS, like the rest.
    gc.freeze()
    raise SystemExit(code)
