"""Running a model's command under the approval policy and the sandbox (TOOL-18).

decision (`pycodex.safety.approval.decide_exec`) → ask the user if needed → wrap the
command for the sandbox (`pycodex.sandbox.launcher.prepare_command`) → run → if it failed
in a way that looks like a sandbox denial and the policy allows it, ask to run it again
without the sandbox.

Fail closed: when the sandbox cannot be set up, the command does not run; the model is
told `sandbox unavailable: ...` and the user sees a warning with the fix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import msgspec

from pycodex.process.spawn import ExecResult
from pycodex.protocol.items import FileChange
from pycodex.protocol.policies import (
    AskForApproval,
    ExternalSandboxPolicy,
    ReviewDecision,
    SandboxMode,
    SandboxPolicy,
)
from pycodex.safety.approval import (
    EXEC_DECLINED_MESSAGE,
    PATCH_DECLINED_MESSAGE,
    RETRY_REASON,
    ApplyPatch,
    Ask,
    ExecRequestInfo,
    Reject,
    RunSandboxed,
    decide_exec,
    decide_patch,
    propose_allow_prefix,
)
from pycodex.safety.exec_policy import Decision, Evaluation
from pycodex.tools.base import RespondToModel, ToolContext, ToolOutput

# `pycodex.sandbox` (backends, capability probes, ctypes) is imported only when a command
# really runs sandboxed: a text-only turn, or a turn whose commands run unsandboxed
# (danger-full-access, approved escalation), never needs it (startup is a feature).

ABORTED_MESSAGE = "aborted by user"
NO_ONE_TO_ASK = "it needs the user's approval, and no one can be asked here"

# Runs `spawn_argv` (with `env`), reporting events under the model's `argv`.
Runner = Callable[[list[str], Mapping[str, str]], Awaitable[tuple[ToolOutput, ExecResult]]]


class ExecPlan(msgspec.Struct, frozen=True):
    call_id: str
    argv: list[str]
    cwd: Path
    escalation_requested: bool = False
    justification: str | None = None
    # The model's suggestion for "approve and remember" (`prefix_rule` argument).
    prefix_rule: tuple[str, ...] | None = None


def prefix_rule_of(args: Mapping[str, object]) -> tuple[str, ...] | None:
    """The model's `prefix_rule` argument when it is a non-empty list of strings."""
    raw = args.get("prefix_rule")
    if isinstance(raw, list) and raw and all(isinstance(t, str) and t for t in raw):
        return tuple(raw)
    return None


SETUP_RETRY_REASON = "sandbox failed to start; retry without sandbox?"


def sandbox_policy_of(ctx: ToolContext) -> SandboxPolicy:
    if ctx.sandbox_policy is not None:
        return ctx.sandbox_policy
    try:
        return SandboxPolicy.from_mode(SandboxMode(ctx.sandbox_mode))
    except ValueError:
        return ExternalSandboxPolicy()


async def run_with_approvals(plan: ExecPlan, ctx: ToolContext, runner: Runner) -> ToolOutput:
    """Decide, ask, sandbox, run, maybe retry; the output the model gets."""
    broker = ctx.approvals
    approval_policy = AskForApproval(ctx.approval_policy)
    sandbox_policy = sandbox_policy_of(ctx)
    evaluation = broker.evaluate(plan.argv) if broker is not None else Evaluation(None)
    outcome = decide_exec(
        ExecRequestInfo(
            argv=tuple(plan.argv),
            approval_policy=approval_policy,
            sandbox_policy=sandbox_policy,
            escalation_requested=plan.escalation_requested,
            justification=plan.justification,
            evaluation=evaluation,
            approved_for_session=broker is not None and broker.store.is_command_approved(plan.argv),
        )
    )
    if isinstance(outcome, Reject):
        raise RespondToModel(outcome.message)
    sandboxed = isinstance(outcome, RunSandboxed)
    retry = isinstance(outcome, RunSandboxed) and outcome.retry_unsandboxed_on_denial
    if isinstance(outcome, Ask):
        await _ask_or_raise(plan, ctx, outcome.reason, evaluation)
        sandboxed = not outcome.unsandboxed
        retry = False

    if not sandboxed:
        output, _ = await runner(plan.argv, ctx.command_env)
        return output
    from pycodex.sandbox.denial import is_likely_sandbox_denied, is_sandbox_setup_failure
    from pycodex.sandbox.launcher import SandboxUnavailable, prepare_command

    try:
        # In a worker thread: the first command of a process probes what sandboxing the
        # machine offers (helper processes, up to seconds), which must not stall the loop.
        prepared = await asyncio.to_thread(
            prepare_command, plan.argv, policy=sandbox_policy, cwd=plan.cwd, env=ctx.command_env
        )
    except SandboxUnavailable as exc:
        # Fail closed: the command does not run; the user gets the fix, the model the reason.
        ctx.emit_warning(f"command not run: {exc}")
        raise RespondToModel(f"sandbox unavailable: {exc.reason}") from None
    for warning in prepared.warnings:
        ctx.emit_warning(warning)
    output, result = await runner(prepared.argv, prepared.env)
    if result.exit_code == 0 or result.timed_out or result.still_running:
        return output
    setup_failed = is_sandbox_setup_failure(result.exit_code, result.aggregated)
    if not retry or broker is None:
        if setup_failed:
            reason = _setup_failure_line(result.aggregated)
            ctx.emit_warning(f"command not run: sandbox unavailable: {reason}")
            raise RespondToModel(f"sandbox unavailable: {reason}")
        return output
    if not is_likely_sandbox_denied(result.exit_code, result.aggregated, True):
        return output
    # A rule the user added ("approve and remember") means: do not ask again.
    if not broker.store.is_command_approved(plan.argv) and evaluation.decision is not Decision.ALLOW:
        reason = SETUP_RETRY_REASON if setup_failed else RETRY_REASON
        decision = await _ask(plan, ctx, reason, evaluation)
        if decision is ReviewDecision.DENIED:
            return output  # the model sees the sandboxed failure
        if decision is ReviewDecision.ABORT:
            raise RespondToModel(ABORTED_MESSAGE)
        _remember(plan, ctx, decision)
    output, _ = await runner(plan.argv, ctx.command_env)
    return output


async def _ask(
    plan: ExecPlan, ctx: ToolContext, reason: str | None, evaluation: Evaluation
) -> ReviewDecision:
    broker = ctx.approvals
    if broker is None:
        # A context without an engine: nobody can be asked, so the answer is no.
        raise RespondToModel(f"command not run: {NO_ONE_TO_ASK}")
    return await broker.ask_exec(
        call_id=plan.call_id,
        argv=plan.argv,
        cwd=plan.cwd,
        reason=reason,
        proposed_prefix=propose_allow_prefix(plan.argv, plan.prefix_rule, evaluation),
    )


async def _ask_or_raise(
    plan: ExecPlan, ctx: ToolContext, reason: str | None, evaluation: Evaluation
) -> None:
    decision = await _ask(plan, ctx, reason, evaluation)
    if decision is ReviewDecision.DENIED:
        raise RespondToModel(EXEC_DECLINED_MESSAGE)
    if decision is ReviewDecision.ABORT:
        # The engine cancels the turn on abort; this is only reached without an engine.
        raise RespondToModel(ABORTED_MESSAGE)
    _remember(plan, ctx, decision)


def _remember(plan: ExecPlan, ctx: ToolContext, decision: ReviewDecision) -> None:
    if decision is ReviewDecision.APPROVED_FOR_SESSION and ctx.approvals is not None:
        ctx.approvals.store.approve_command(plan.argv)


def _setup_failure_line(output: str) -> str:
    from pycodex.sandbox.denial import SETUP_FAILURE_PREFIX

    for line in output.splitlines():
        if SETUP_FAILURE_PREFIX in line:
            return line.split(SETUP_FAILURE_PREFIX, 1)[1].strip() or "the sandbox failed to start"
    return "the sandbox failed to start"


async def approve_patch(
    call_id: str, paths: Sequence[Path], changes: dict[str, FileChange], ctx: ToolContext
) -> bool:
    """Whether a patch writing `paths` may be applied; True when no one had to be asked.

    Raises RespondToModel with what the model is told when it may not (rejected by the
    policy, declined by the user).
    """
    broker = ctx.approvals
    outcome = decide_patch(
        paths,
        approval_policy=AskForApproval(ctx.approval_policy),
        sandbox_policy=sandbox_policy_of(ctx),
        roots=[ctx.cwd, *ctx.writable_roots],
        approved_for_session=broker is not None and broker.store.are_paths_approved(paths),
    )
    if isinstance(outcome, ApplyPatch):
        return outcome.auto_approved
    if isinstance(outcome, Reject):
        raise RespondToModel(outcome.message)
    if broker is None:
        why = f"{outcome.reason}; " if outcome.reason else ""
        raise RespondToModel(f"patch rejected: {why}{NO_ONE_TO_ASK}")
    decision = await broker.ask_patch(call_id=call_id, changes=changes, reason=outcome.reason)
    if decision is ReviewDecision.DENIED:
        raise RespondToModel(PATCH_DECLINED_MESSAGE)
    if decision is ReviewDecision.ABORT:
        raise RespondToModel(ABORTED_MESSAGE)
    if decision is ReviewDecision.APPROVED_FOR_SESSION:
        broker.store.approve_paths(paths)
    return False
