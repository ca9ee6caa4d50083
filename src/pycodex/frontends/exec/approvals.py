"""`exec` cannot ask anyone: every approval request is answered `denied`, visibly.

Without this a policy that asks (`-a untrusted`, `--full-auto` with an escalation
request) would leave `exec` waiting forever for an answer no one can give.
"""

from __future__ import annotations

from pycodex.core import join_command
from pycodex.protocol.event_payloads import (
    ApplyPatchApprovalRequestEvent,
    ExecApprovalRequestEvent,
)
from pycodex.protocol.events import EventMsg
from pycodex.protocol.ops import Op
from pycodex.protocol.policies import ReviewDecision

HINT = (
    "exec cannot ask for approval; rerun with `--dangerously-bypass-approvals-and-sandbox` "
    "or choose a sandbox mode (e.g. `--sandbox workspace-write`) that allows it"
)


def auto_deny(msg: EventMsg) -> tuple[Op, str] | None:
    """The `denied` answer to an approval request and the warning to show, else None."""
    if isinstance(msg, ExecApprovalRequestEvent):
        return msg.answer(ReviewDecision.DENIED), f"denied `{join_command(msg.command)}`: {HINT}"
    if isinstance(msg, ApplyPatchApprovalRequestEvent):
        return msg.answer(ReviewDecision.DENIED), f"denied a patch to {msg.files()}: {HINT}"
    return None
