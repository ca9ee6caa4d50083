"""Approval requests in the engine: waiters, the session cache, the exec policy.

Flow of one request (SAFE-03): the tool asks its turn's broker; the broker registers a
waiter under the call id *before* emitting `ExecApprovalRequest` /
`ApplyPatchApprovalRequest`, so an answer that arrives at once always finds it; the
submission loop resolves it from `ExecApproval` / `PatchApproval` ops. A waiter dropped
by an interrupt never resolves: the waiting tool is cancelled with its turn.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from pycodex.protocol.command_text import join_command
from pycodex.protocol.event_payloads import (
    ApplyPatchApprovalRequestEvent,
    ExecApprovalRequestEvent,
)
from pycodex.protocol.events import EventMsg, WarningEvent
from pycodex.protocol.items import FileChange, ParsedCommand
from pycodex.protocol.policies import (
    ApprovedExecPolicyAmendment,
    ExecReviewAnswer,
    ReviewDecision,
)
from pycodex.safety import RULES_DIR, RULES_SUFFIX

if TYPE_CHECKING:
    from pycodex.safety.approval import ApprovalStore
    from pycodex.safety.exec_policy import Evaluation, ExecPolicyManager

    from .items import TurnItems

log = logging.getLogger(__name__)

Emit = Callable[[str, EventMsg], None]


class _Waiter(msgspec.Struct):
    turn_id: str
    sub_id: str
    future: asyncio.Future[ReviewDecision]


class SessionApprovals:
    """Per-session approval state: pending waiters, the session cache, the rules."""

    def __init__(self, home: Path, emit: Emit, *, load_rules: bool = True) -> None:
        self._home = home
        self._load_rules = load_rules
        # Built on first use: the safety modules are not loaded by a turn that runs nothing.
        self._store: ApprovalStore | None = None
        self._exec_policy: ExecPolicyManager | None = None
        # Told every answered approval as (call id, tool, decision): telemetry's
        # `codex.tool_decision`. Set by the thread manager when telemetry is on.
        self.decision_observer: Callable[[str, str, str], None] | None = None
        self._emit = emit
        self._pending: dict[str, _Waiter] = {}
        self._policy_warned = False

    @property
    def store(self) -> ApprovalStore:
        if self._store is None:
            from pycodex.safety.approval import ApprovalStore

            self._store = ApprovalStore()
        return self._store

    @property
    def exec_policy(self) -> ExecPolicyManager:
        if self._exec_policy is None:
            from pycodex.safety.exec_policy import ExecPolicy, ExecPolicyManager

            # Without the rules files, "approve and remember" still saves rules for later runs.
            self._exec_policy = (
                ExecPolicyManager(self._home)
                if self._load_rules
                else ExecPolicyManager(self._home, ExecPolicy())
            )
        return self._exec_policy

    def _has_rules_files(self) -> bool:
        try:
            with os.scandir(self._home / RULES_DIR) as entries:
                return any(entry.name.endswith(RULES_SUFFIX) for entry in entries)
        except FileNotFoundError:
            return False
        except OSError:
            return True  # let the loader report what is wrong with the directory

    def broker(self, sub_id: str, turn_id: str, items: TurnItems | None = None) -> TurnApprovals:
        if not self._policy_warned:
            self._policy_warned = True
            if self._load_rules and self._has_rules_files():
                _ = self.exec_policy.policy  # load now, so problems are reported once, up front
                for warning in self.exec_policy.warnings:
                    self._emit(sub_id, WarningEvent(message=warning))
        return TurnApprovals(self, sub_id, turn_id, items)

    def emit(self, sub_id: str, msg: EventMsg) -> None:
        self._emit(sub_id, msg)

    # --- waiters ---------------------------------------------------------------------------

    def register(self, approval_id: str, turn_id: str, sub_id: str) -> asyncio.Future[ReviewDecision]:
        if approval_id in self._pending:
            log.warning("Overwriting existing pending approval for %s", approval_id)
        future: asyncio.Future[ReviewDecision] = asyncio.get_running_loop().create_future()
        self._pending[approval_id] = _Waiter(turn_id, sub_id, future)
        return future

    def unregister(self, approval_id: str, future: asyncio.Future[ReviewDecision]) -> None:
        waiter = self._pending.get(approval_id)
        if waiter is not None and waiter.future is future:
            del self._pending[approval_id]

    def answer(self, approval_id: str, answer: ExecReviewAnswer) -> bool:
        """Resolve a pending request with a client's answer. "Approve and remember" first
        adds the allow rule (to `rules/default.rules` and the live policy), then approves."""
        if isinstance(answer, ApprovedExecPolicyAmendment):
            waiter = self._pending.get(approval_id)
            if waiter is None or waiter.future.done():
                log.warning("No pending approval found for %s", approval_id)
                return False
            try:
                path = self.exec_policy.remember_allow(answer.prefix)
            except (OSError, ValueError) as exc:
                self._emit(
                    waiter.sub_id,
                    WarningEvent(message=f"approved once; could not save the rule: {exc}"),
                )
            else:
                log.info("added allow rule %s to %s", answer.prefix, path)
            answer = ReviewDecision.APPROVED
        return self.resolve(approval_id, answer)

    def resolve(self, approval_id: str, decision: ReviewDecision) -> bool:
        """Answer a pending request; False (and a log line) when none is pending."""
        waiter = self._pending.pop(approval_id, None)
        if waiter is None or waiter.future.done():
            log.warning("No pending approval found for %s", approval_id)
            return False
        waiter.future.set_result(decision)
        return True

    def observe_decision(self, call_id: str, tool: str, decision: ReviewDecision) -> None:
        if self.decision_observer is not None:
            self.decision_observer(call_id, tool, decision.value)

    def pending_ids(self) -> list[str]:
        return list(self._pending)


class TurnApprovals:
    """The `ApprovalBroker` one turn's tools use.

    With the turn's items: the command or patch item starts when its approval is asked
    (a client shows what it is asked about), and completes as `declined` when refused."""

    def __init__(
        self, session: SessionApprovals, sub_id: str, turn_id: str, items: TurnItems | None = None
    ) -> None:
        self._session = session
        self._sub_id = sub_id
        self._turn_id = turn_id
        self._items = items

    @property
    def store(self) -> ApprovalStore:
        return self._session.store

    def evaluate(self, argv: Sequence[str]) -> Evaluation:
        return self._session.exec_policy.evaluate(argv)

    async def _wait(
        self, approval_id: str, event: EventMsg, then: Callable[[], None] | None = None
    ) -> ReviewDecision:
        future = self._session.register(approval_id, self._turn_id, self._sub_id)
        try:
            # Registered first: an answer submitted the moment this event is seen finds it.
            self._session.emit(self._sub_id, event)
            if then is not None:
                then()
            return await future
        finally:
            self._session.unregister(approval_id, future)

    async def ask_exec(
        self,
        *,
        call_id: str,
        argv: Sequence[str],
        cwd: Path,
        reason: str | None,
        proposed_prefix: Sequence[str] | None = None,
    ) -> ReviewDecision:
        command = list(argv)
        event = ExecApprovalRequestEvent(
            call_id=call_id,
            turn_id=self._turn_id,
            command=command,
            cwd=str(cwd),
            reason=reason,
            proposed_execpolicy_amendment=list(proposed_prefix) if proposed_prefix else None,
            parsed_cmd=[ParsedCommand(type="unknown", cmd=join_command(command))],
        )
        # The command's item starts right after the request (Codex's order: a front end
        # shows the waiting status, then the item, then the question).
        items = self._items
        start_item = None if items is None else (lambda: items.command_awaiting_approval(event))
        decision = await self._wait(call_id, event, start_item)
        self._session.observe_decision(call_id, "shell", decision)
        if self._items is not None and decision in (ReviewDecision.DENIED, ReviewDecision.ABORT):
            self._items.command_declined(event)
        return decision

    async def ask_patch(
        self,
        *,
        call_id: str,
        changes: dict[str, FileChange],
        reason: str | None,
        grant_root: Path | None = None,
    ) -> ReviewDecision:
        event = ApplyPatchApprovalRequestEvent(
            call_id=call_id,
            turn_id=self._turn_id,
            changes=changes,
            reason=reason,
            grant_root=str(grant_root) if grant_root is not None else None,
        )
        if self._items is not None:
            self._items.patch_awaiting_approval(event)
        decision = await self._wait(call_id, event)
        self._session.observe_decision(call_id, "apply_patch", decision)
        if self._items is not None and decision in (ReviewDecision.DENIED, ReviewDecision.ABORT):
            self._items.patch_declined(event)
        return decision
