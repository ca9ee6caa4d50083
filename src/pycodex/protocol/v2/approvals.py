"""Approval requests as the app-server asks them (server→client JSON-RPC requests) and
the client's answers as the engine's decisions.

`item/commandExecution/requestApproval` and `item/fileChange/requestApproval` carry the
item id (the call id) the engine has already started an item for; the answer's
`decision` is `accept`, `acceptForSession`, `{"acceptWithExecpolicyAmendment": …}`,
`decline` or `cancel` (decline goes on with the turn, cancel interrupts it).
"""

from __future__ import annotations

from typing import Any

from pycodex.protocol.command_text import join_command
from pycodex.protocol.event_payloads import (
    ApplyPatchApprovalRequestEvent,
    ExecApprovalRequestEvent,
)
from pycodex.protocol.policies import (
    ApprovedExecPolicyAmendment,
    ExecPolicyAmendment,
    ExecReviewAnswer,
    ReviewDecision,
)

from .items import command_action

JsonObj = dict[str, Any]

COMMAND_APPROVAL = "item/commandExecution/requestApproval"
FILE_CHANGE_APPROVAL = "item/fileChange/requestApproval"

_DECISIONS = {
    "accept": ReviewDecision.APPROVED,
    "acceptForSession": ReviewDecision.APPROVED_FOR_SESSION,
    "decline": ReviewDecision.DENIED,
    "cancel": ReviewDecision.ABORT,
}
_V2_NAMES = {decision: name for name, decision in _DECISIONS.items()}


class BadDecision(ValueError):
    """A client's approval answer that is not one of the decisions offered."""


def command_approval_params(
    request: ExecApprovalRequestEvent, *, thread_id: str, turn_id: str, started_at_ms: int
) -> JsonObj:
    params: JsonObj = {
        "kind": "command",
        "threadId": thread_id,
        "turnId": request.turn_id or turn_id,
        "itemId": request.call_id,
        "startedAtMs": started_at_ms,
        "environmentId": "local",
    }
    if request.approval_id is not None:
        params["approvalId"] = request.approval_id
    if request.reason is not None:
        params["reason"] = request.reason
    params.update(
        command=join_command(request.command),
        cwd=request.cwd,
        commandActions=[command_action(p) for p in request.parsed_cmd],
    )
    amendment = request.proposed_execpolicy_amendment
    if amendment:
        params["proposedExecpolicyAmendment"] = list(amendment)
    params["availableDecisions"] = _available(request)
    return params


def _available(request: ExecApprovalRequestEvent) -> list[Any]:
    """What the client may answer: the request's own list when it has one, else what
    Codex offers (accept, the remembered rule when one is proposed, cancel)."""
    decisions = request.available_decisions or [ReviewDecision.APPROVED, ReviewDecision.ABORT]
    offered: list[Any] = [_V2_NAMES[d] for d in decisions if d in _V2_NAMES]
    if request.proposed_execpolicy_amendment:
        at = offered.index("accept") + 1 if "accept" in offered else 0
        offered.insert(at, _amendment(request.proposed_execpolicy_amendment))
    return offered


def _amendment(prefix: list[str]) -> JsonObj:
    return {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": list(prefix)}}


def file_change_approval_params(
    request: ApplyPatchApprovalRequestEvent, *, thread_id: str, turn_id: str, started_at_ms: int
) -> JsonObj:
    return {
        "threadId": thread_id,
        "turnId": request.turn_id or turn_id,
        "itemId": request.call_id,
        "startedAtMs": started_at_ms,
        "reason": request.reason,
        "grantRoot": request.grant_root,
    }


def decision_from(result: Any) -> ExecReviewAnswer:
    """The engine's answer for a client's approval response (`{"decision": …}`)."""
    decision = result.get("decision") if isinstance(result, dict) else None
    if isinstance(decision, str) and decision in _DECISIONS:
        return _DECISIONS[decision]
    if isinstance(decision, dict) and set(decision) == {"acceptWithExecpolicyAmendment"}:
        body = decision["acceptWithExecpolicyAmendment"]
        prefix = body.get("execpolicy_amendment") if isinstance(body, dict) else None
        if isinstance(prefix, list) and prefix and all(isinstance(p, str) for p in prefix):
            return ApprovedExecPolicyAmendment(
                approved_execpolicy_amendment=ExecPolicyAmendment(proposed_execpolicy_amendment=prefix)
            )
    raise BadDecision(f"unknown approval decision: {decision!r}")
