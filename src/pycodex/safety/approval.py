"""Approval decisions: may this command/patch run, how, and must the user be asked first?

Pure functions over the request and the session's state; no I/O, no waiting. The tool
orchestrator (`pycodex.tools.orchestrator`) acts on the outcome.

Commands (:func:`decide_exec`), first rule that applies wins:

| # | condition                                          | outcome                           |
|---|----------------------------------------------------|-----------------------------------|
| 1 | exec-policy rule `forbidden`                       | Reject (rule's justification)     |
| 2 | escalation requested, approval policy ≠ on-request | Reject (names the policy, TOOL-15)|
| 3 | exec-policy rule `prompt`                          | never → Reject; approved for the  |
|   |                                                    | session → run; else Ask           |
| 4 | no sandbox (danger-full-access / external)         | untrusted & not known-safe & not  |
|   |                                                    | allowed → Ask; else RunUnsandboxed|
| 5 | escalation requested (on-request)                  | approved for session or rule      |
|   |                                                    | `allow` → unsandboxed;            |
|   |                                                    | else Ask, then unsandboxed        |
| 6 | untrusted                                          | known-safe or rule `allow` →      |
|   |                                                    | RunSandboxed; approved for session|
|   |                                                    | → unsandboxed; else Ask, then     |
|   |                                                    | unsandboxed                       |
| 7 | on-failure                                         | approved for session → unsandboxed|
|   |                                                    | else RunSandboxed, retry ask on a |
|   |                                                    | likely sandbox denial             |
| 8 | on-request, never                                  | RunSandboxed (failures go back to |
|   |                                                    | the model)                        |

An approved Ask runs unsandboxed (what the user approved is the command as written;
Codex does the same). Exec-policy `allow` skips asking but keeps the sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from pycodex.protocol.command_text import join_command
from pycodex.protocol.policies import (
    AskForApproval,
    DangerFullAccessPolicy,
    ExternalSandboxPolicy,
    ReadOnlyPolicy,
    SandboxPolicy,
    WorkspaceWritePolicy,
)

from .command_safety import is_known_safe_command
from .exec_policy import Decision, Evaluation

# What the model is told when the user declines (Codex's texts, which models know).
EXEC_DECLINED_MESSAGE = 'exec_command failed: CreateProcess { message: "Rejected(\\"rejected by user\\")" }'
PATCH_DECLINED_MESSAGE = "patch rejected by user"
RETRY_REASON = "command failed; retry without sandbox?"
NO_ASK_SUFFIX = "rejected by user approval settings"
PATCH_READ_ONLY_REASON = "writing is blocked by read-only sandbox"
PATCH_OUTSIDE_REASON = "writing outside of the project"

# Inside a writable root these stay read-only (the sandbox keeps them so, SAFE-11).
PROTECTED_DIR_NAMES = frozenset({".git", ".agents", ".codex", ".pycodex"})


# --- outcomes --------------------------------------------------------------------------


class RunSandboxed(msgspec.Struct, frozen=True):
    # Under on-failure (and untrusted), a failure that looks like a sandbox denial may be
    # retried without the sandbox after asking.
    retry_unsandboxed_on_denial: bool = False


class RunUnsandboxed(msgspec.Struct, frozen=True):
    pass


class Ask(msgspec.Struct, frozen=True):
    reason: str | None
    # After approval: run without the sandbox (else inside it).
    unsandboxed: bool = True


class Reject(msgspec.Struct, frozen=True):
    message: str


ExecOutcome = RunSandboxed | RunUnsandboxed | Ask | Reject


class ExecRequestInfo(msgspec.Struct, frozen=True):
    argv: tuple[str, ...]
    approval_policy: AskForApproval
    sandbox_policy: SandboxPolicy
    escalation_requested: bool = False
    justification: str | None = None
    evaluation: Evaluation = msgspec.field(default_factory=lambda: Evaluation(None))
    approved_for_session: bool = False


def has_sandbox(policy: SandboxPolicy) -> bool:
    return not isinstance(policy, DangerFullAccessPolicy | ExternalSandboxPolicy)


def escalation_rejected_message(policy: AskForApproval) -> str:
    return (
        f"command not run: escalated permissions were requested, but the approval policy is "
        f"`{policy.value}`, under which they cannot be granted; do not request escalated "
        "permissions under this policy, run the command without them"
    )


def decide_exec(req: ExecRequestInfo) -> ExecOutcome:
    policy = req.approval_policy
    evaluation = req.evaluation
    rule = evaluation.strictest_rule
    command = join_command(req.argv)

    if evaluation.decision is Decision.FORBIDDEN:
        why = f": {rule.justification}" if rule is not None and rule.justification else ""
        return Reject(f"`{command}` rejected: blocked by policy rule{why}")

    if req.escalation_requested and policy is not AskForApproval.ON_REQUEST:
        return Reject(escalation_rejected_message(policy))

    sandboxed = has_sandbox(req.sandbox_policy)
    if evaluation.decision is Decision.PROMPT:
        if policy is AskForApproval.NEVER:
            return Reject(
                f"`{command}` rejected: a policy rule requires approval, but the approval "
                "policy is `never`"
            )
        if req.approved_for_session:
            return RunUnsandboxed()
        reason = (rule.justification if rule is not None else None) or (
            f"a rule requires approval for `{rule.describe()}`" if rule is not None else None
        )
        return Ask(reason=reason)

    allowed = evaluation.decision is Decision.ALLOW
    if not sandboxed:
        if (
            policy is AskForApproval.UNTRUSTED
            and not allowed
            and not req.approved_for_session
            and not is_known_safe_command(req.argv)
        ):
            return Ask(reason=req.justification)
        return RunUnsandboxed()

    if req.escalation_requested:  # on-request
        if req.approved_for_session or allowed:
            return RunUnsandboxed()
        return Ask(reason=req.justification)

    if policy is AskForApproval.UNTRUSTED:
        if allowed or is_known_safe_command(req.argv):
            return RunSandboxed(retry_unsandboxed_on_denial=True)
        if req.approved_for_session:
            return RunUnsandboxed()
        return Ask(reason=req.justification)

    if policy is AskForApproval.ON_FAILURE:
        if req.approved_for_session:
            return RunUnsandboxed()
        return RunSandboxed(retry_unsandboxed_on_denial=True)

    return RunSandboxed()


def propose_allow_prefix(
    argv: Sequence[str], model_prefix: Sequence[str] | None, evaluation: Evaluation
) -> list[str] | None:
    """The command prefix "approve and remember" would allow, or None when remembering
    cannot help: a `prompt`/`forbidden` rule matched (it outranks any allow rule), or the
    script is not a single plain command (a rule matches one command, not a script).

    The model's `prefix_rule` wins when it is a prefix of the command; else the command."""
    if evaluation.decision in (Decision.PROMPT, Decision.FORBIDDEN):
        return None
    command = list(argv)
    from .shell_parse import plain_commands, shell_script  # tree-sitter: only when asking

    script = shell_script(command)
    if script is not None:
        parsed = plain_commands(script)
        if parsed is None or len(parsed) != 1:
            return None
        command = [word.text for word in parsed[0]]
    if model_prefix and command[: len(model_prefix)] == list(model_prefix):
        return list(model_prefix)
    return command or None


# --- patches ---------------------------------------------------------------------------


class ApplyPatch(msgspec.Struct, frozen=True):
    # True when no one was asked (PatchApplyBegin.auto_approved).
    auto_approved: bool = True


PatchOutcome = ApplyPatch | Ask | Reject


def is_path_writable(path: Path, roots: Sequence[Path]) -> bool:
    """Inside one of `roots` (symlinks resolved on both sides) and not in a protected dir."""
    real = Path(os.path.realpath(path))
    for root in roots:
        real_root = Path(os.path.realpath(root))
        if not real.is_relative_to(real_root):
            continue
        parts = real.relative_to(real_root).parts
        if parts and parts[0] not in PROTECTED_DIR_NAMES:
            return True
    return False


def decide_patch(
    paths: Sequence[Path],
    *,
    approval_policy: AskForApproval,
    sandbox_policy: SandboxPolicy,
    roots: Sequence[Path],
    approved_for_session: bool = False,
) -> PatchOutcome:
    """May a patch writing `paths` be applied, and must the user be asked?

    Patches are applied in process (not inside the OS sandbox), so a write the sandbox
    would not allow is asked about under every policy except `never` (rejected), and
    `untrusted` asks about every patch.
    """
    if not paths:
        return Reject("patch rejected: empty patch")
    if approved_for_session:
        return ApplyPatch(auto_approved=False)
    if approval_policy is AskForApproval.UNTRUSTED:
        return Ask(reason=None, unsandboxed=False)
    if not has_sandbox(sandbox_policy):
        return ApplyPatch()
    if isinstance(sandbox_policy, WorkspaceWritePolicy):
        if all(is_path_writable(p, roots) for p in paths):
            return ApplyPatch()
        reason = PATCH_OUTSIDE_REASON
    else:
        assert isinstance(sandbox_policy, ReadOnlyPolicy)
        reason = PATCH_READ_ONLY_REASON
    if approval_policy is AskForApproval.NEVER:
        return Reject(f"patch rejected: {reason}; {NO_ASK_SUFFIX}")
    return Ask(reason=reason, unsandboxed=False)


# --- the session's "approved for this session" memory --------------------------------------


class ApprovalStore:
    """What the user approved with `approved_for_session` (SAFE-05).

    Commands are remembered by exact argv; patches by the set of paths they write (a
    later patch writing only approved paths is not asked about again).
    """

    def __init__(self) -> None:
        self._commands: set[tuple[str, ...]] = set()
        self._paths: set[Path] = set()

    def approve_command(self, argv: Sequence[str]) -> None:
        self._commands.add(tuple(argv))

    def is_command_approved(self, argv: Sequence[str]) -> bool:
        return tuple(argv) in self._commands

    def approve_paths(self, paths: Iterable[Path]) -> None:
        self._paths.update(_key(p) for p in paths)

    def are_paths_approved(self, paths: Iterable[Path]) -> bool:
        keys = [_key(p) for p in paths]
        return bool(keys) and all(k in self._paths for k in keys)


def _key(path: Path) -> Path:
    return Path(os.path.realpath(path))
