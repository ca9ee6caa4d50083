"""The approval decision table (pure), the session cache, and the waiter race."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pycodex.core.approvals import SessionApprovals
from pycodex.protocol.event_payloads import ExecApprovalRequestEvent
from pycodex.protocol.events import EventMsg, WarningEvent
from pycodex.protocol.policies import (
    ApprovedExecPolicyAmendment,
    AskForApproval,
    DangerFullAccessPolicy,
    ExecPolicyAmendment,
    ReadOnlyPolicy,
    ReviewDecision,
    SandboxPolicy,
    WorkspaceWritePolicy,
)
from pycodex.safety.approval import (
    ApplyPatch,
    ApprovalStore,
    Ask,
    ExecOutcome,
    ExecRequestInfo,
    Reject,
    RunSandboxed,
    RunUnsandboxed,
    decide_exec,
    decide_patch,
    propose_allow_prefix,
)
from pycodex.safety.exec_policy import Decision, Evaluation, PrefixRule

A = AskForApproval
WS = WorkspaceWritePolicy()
RO = ReadOnlyPolicy()
FULL = DangerFullAccessPolicy()
SAFE = ("ls", "-la")
UNSAFE = ("touch", "x")


def rule(decision: Decision, justification: str | None = None) -> Evaluation:
    return Evaluation(decision, (PrefixRule((("touch",),), decision, justification),))


def decide(
    argv: tuple[str, ...],
    policy: AskForApproval,
    sandbox: SandboxPolicy = WS,
    *,
    escalate: bool = False,
    evaluation: Evaluation | None = None,
    cached: bool = False,
) -> ExecOutcome:
    return decide_exec(
        ExecRequestInfo(
            argv=argv, approval_policy=policy, sandbox_policy=sandbox,
            escalation_requested=escalate, justification="why",
            evaluation=evaluation or Evaluation(None), approved_for_session=cached,
        )
    )


@pytest.mark.parametrize(
    ("argv", "policy", "sandbox", "expected"),
    [
        # never: run in the sandbox, never ask.
        (SAFE, A.NEVER, WS, RunSandboxed()),
        (UNSAFE, A.NEVER, WS, RunSandboxed()),
        (UNSAFE, A.NEVER, FULL, RunUnsandboxed()),
        # on-request: sandboxed, no retry.
        (UNSAFE, A.ON_REQUEST, WS, RunSandboxed()),
        (UNSAFE, A.ON_REQUEST, FULL, RunUnsandboxed()),
        # on-failure: sandboxed with a retry on denial.
        (UNSAFE, A.ON_FAILURE, RO, RunSandboxed(retry_unsandboxed_on_denial=True)),
        # untrusted: known-safe runs sandboxed, anything else asks.
        (SAFE, A.UNTRUSTED, WS, RunSandboxed(retry_unsandboxed_on_denial=True)),
        (UNSAFE, A.UNTRUSTED, WS, Ask(reason="why")),
        (SAFE, A.UNTRUSTED, FULL, RunUnsandboxed()),
        (UNSAFE, A.UNTRUSTED, FULL, Ask(reason="why")),
    ],
)
def test_policy_table(
    argv: tuple[str, ...], policy: AskForApproval, sandbox: SandboxPolicy, expected: ExecOutcome
) -> None:
    assert decide(argv, policy, sandbox) == expected


def test_escalation() -> None:
    assert decide(UNSAFE, A.ON_REQUEST, escalate=True) == Ask(reason="why")
    assert decide(UNSAFE, A.ON_REQUEST, escalate=True, cached=True) == RunUnsandboxed()
    # Nothing to escape from without a sandbox.
    assert decide(UNSAFE, A.ON_REQUEST, FULL, escalate=True) == RunUnsandboxed()
    for policy in (A.NEVER, A.ON_FAILURE, A.UNTRUSTED):
        outcome = decide(UNSAFE, policy, escalate=True)
        assert isinstance(outcome, Reject) and f"`{policy.value}`" in outcome.message


def test_exec_policy_rules() -> None:
    forbidden = decide(SAFE, A.NEVER, FULL, evaluation=rule(Decision.FORBIDDEN, "no"))
    assert isinstance(forbidden, Reject) and forbidden.message.endswith("blocked by policy rule: no")
    # Forbidden beats an escalation request and a session approval.
    assert isinstance(decide(UNSAFE, A.ON_REQUEST, escalate=True, cached=True,
                             evaluation=rule(Decision.FORBIDDEN)), Reject)
    assert isinstance(decide(UNSAFE, A.NEVER, evaluation=rule(Decision.PROMPT)), Reject)
    assert decide(UNSAFE, A.ON_REQUEST, evaluation=rule(Decision.PROMPT, "check")) == Ask(reason="check")
    prompt_no_reason = decide(UNSAFE, A.ON_REQUEST, evaluation=rule(Decision.PROMPT))
    assert isinstance(prompt_no_reason, Ask) and "touch" in (prompt_no_reason.reason or "")
    assert decide(UNSAFE, A.ON_REQUEST, evaluation=rule(Decision.PROMPT), cached=True) == RunUnsandboxed()
    # Allow: no question, but still the sandbox.
    assert decide(UNSAFE, A.UNTRUSTED, evaluation=rule(Decision.ALLOW)) == RunSandboxed(True)
    assert decide(UNSAFE, A.UNTRUSTED, FULL, evaluation=rule(Decision.ALLOW)) == RunUnsandboxed()
    # An allow rule the user added ("approve and remember") also covers escalation.
    assert decide(UNSAFE, A.ON_REQUEST, escalate=True, evaluation=rule(Decision.ALLOW)) == RunUnsandboxed()


@pytest.mark.parametrize(
    ("argv", "model_prefix", "evaluation", "expected"),
    [
        (["bash", "-lc", "git push origin main"], ("git", "push"), None, ["git", "push"]),
        # Not a prefix of the command: the command itself is proposed.
        (["bash", "-lc", "git push origin main"], ("npm",), None, ["git", "push", "origin", "main"]),
        (["touch", "x"], None, None, ["touch", "x"]),
        # A script of several commands: one rule cannot cover it.
        (["bash", "-lc", "touch a && rm b"], None, None, None),
        # A prompt/forbidden rule outranks any allow rule: remembering would not help.
        (["touch", "x"], ("touch",), rule(Decision.PROMPT), None),
        (["touch", "x"], None, rule(Decision.FORBIDDEN), None),
    ],
)
def test_proposed_allow_prefix(
    argv: list[str],
    model_prefix: tuple[str, ...] | None,
    evaluation: Evaluation | None,
    expected: list[str] | None,
) -> None:
    assert propose_allow_prefix(argv, model_prefix, evaluation or Evaluation(None)) == expected


def test_session_cache() -> None:
    assert decide(UNSAFE, A.UNTRUSTED, cached=True) == RunUnsandboxed()
    assert decide(UNSAFE, A.ON_FAILURE, cached=True) == RunUnsandboxed()
    store = ApprovalStore()
    store.approve_command(["touch", "x"])
    assert store.is_command_approved(("touch", "x"))
    assert not store.is_command_approved(["touch", "y"])


def test_patch_decisions(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    inside, outside, git = ws / "a.txt", tmp_path / "b.txt", ws / ".git" / "config"

    def patch(paths: list[Path], policy: AskForApproval, sandbox: SandboxPolicy = WS, cached: bool = False) -> object:
        return decide_patch(paths, approval_policy=policy, sandbox_policy=sandbox, roots=[ws],
                            approved_for_session=cached)

    assert patch([inside], A.ON_REQUEST) == ApplyPatch()
    assert patch([inside], A.NEVER) == ApplyPatch()
    assert patch([outside], A.ON_REQUEST) == Ask(reason="writing outside of the project", unsandboxed=False)
    assert patch([git], A.ON_FAILURE) == Ask(reason="writing outside of the project", unsandboxed=False)
    assert patch([outside], A.NEVER) == Reject(
        "patch rejected: writing outside of the project; rejected by user approval settings"
    )
    assert patch([inside], A.NEVER, RO) == Reject(
        "patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings"
    )
    assert patch([inside], A.ON_REQUEST, RO) == Ask(
        reason="writing is blocked by read-only sandbox", unsandboxed=False
    )
    assert patch([outside], A.NEVER, FULL) == ApplyPatch()
    assert patch([inside], A.UNTRUSTED) == Ask(reason=None, unsandboxed=False)
    assert patch([outside], A.UNTRUSTED, cached=True) == ApplyPatch(auto_approved=False)
    assert isinstance(patch([], A.NEVER), Reject)
    store = ApprovalStore()
    store.approve_paths([inside, outside])
    assert store.are_paths_approved([inside]) and not store.are_paths_approved([inside, git])


async def test_waiter_is_registered_before_the_request_is_emitted(tmp_path: Path) -> None:
    """An answer given the instant the request is seen (here: inside emit) is not lost."""
    approvals: SessionApprovals

    def emit(_sub_id: str, msg: EventMsg) -> None:
        if isinstance(msg, ExecApprovalRequestEvent):
            assert approvals.resolve(msg.call_id, ReviewDecision.APPROVED_FOR_SESSION)

    approvals = SessionApprovals(tmp_path, emit)
    broker = approvals.broker("0", "turn-1")
    decision = await asyncio.wait_for(
        broker.ask_exec(call_id="c1", argv=["touch", "x"], cwd=tmp_path, reason=None), 2
    )
    assert decision is ReviewDecision.APPROVED_FOR_SESSION
    assert approvals.pending_ids() == []
    assert not approvals.resolve("c1", ReviewDecision.APPROVED)  # nothing pending any more


async def test_cancelled_waiter_is_removed(tmp_path: Path) -> None:
    approvals = SessionApprovals(tmp_path, lambda _s, _m: None)
    broker = approvals.broker("0", "turn-1")
    task = asyncio.create_task(broker.ask_exec(call_id="c1", argv=["x"], cwd=tmp_path, reason=None))
    await asyncio.sleep(0)
    assert approvals.pending_ids() == ["c1"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert approvals.pending_ids() == []


async def test_remember_that_cannot_be_saved_still_approves_and_says_why(tmp_path: Path) -> None:
    """`rules` is a file here, so the rule cannot be written: the command is approved once
    and the user is told the rule was not kept; nothing else is touched."""
    (tmp_path / "rules").write_text("not a directory")
    seen: list[tuple[str, EventMsg]] = []
    approvals = SessionApprovals(tmp_path, lambda sub_id, msg: seen.append((sub_id, msg)))
    broker = approvals.broker("sub-7", "turn-1")
    asking = asyncio.ensure_future(
        broker.ask_exec(call_id="c1", argv=["touch", "x"], cwd=tmp_path, reason=None)
    )
    await asyncio.sleep(0)
    remember = ApprovedExecPolicyAmendment(
        approved_execpolicy_amendment=ExecPolicyAmendment(proposed_execpolicy_amendment=["touch"])
    )
    assert approvals.answer("c1", remember)
    assert await asyncio.wait_for(asking, 2) is ReviewDecision.APPROVED
    warnings = [(sub, m.message) for sub, m in seen if isinstance(m, WarningEvent)]
    # (The broken rules directory is also reported when the rules are first loaded.)
    assert any(text.startswith("failed to read rules directory") for _, text in warnings)
    not_saved = [(sub, text) for sub, text in warnings if text.startswith("approved once")]
    assert len(not_saved) == 1 and not_saved[0][0] == "sub-7"
    assert "could not save the rule:" in not_saved[0][1]
    assert (tmp_path / "rules").read_text() == "not a directory"
    assert approvals.exec_policy.evaluate(["touch", "y"]).decision is None  # not remembered
    # An answer for nothing pending is refused, and writes nothing.
    assert not approvals.answer("c9", remember)
