"""What tools need from the engine to ask the user: the `ApprovalBroker` protocol.

The engine (`pycodex.core.approvals`) implements it per turn; tools only see this
interface, so they never import the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from pycodex.protocol.items import FileChange
from pycodex.protocol.policies import ReviewDecision
from pycodex.safety.approval import ApprovalStore
from pycodex.safety.exec_policy import Evaluation


class ApprovalBroker(Protocol):
    @property
    def store(self) -> ApprovalStore:
        """The session's `approved_for_session` memory."""
        ...

    def evaluate(self, argv: Sequence[str]) -> Evaluation:
        """The exec policy's (rules files') verdict on a command."""
        ...

    async def ask_exec(
        self,
        *,
        call_id: str,
        argv: Sequence[str],
        cwd: Path,
        reason: str | None,
        proposed_prefix: Sequence[str] | None = None,
    ) -> ReviewDecision:
        """Ask the user about a command; returns their decision (denied if dropped).

        `proposed_prefix`: what "approve and remember" would allow from now on (offered to
        the client in the request; an answer adding the rule arrives here as approved)."""
        ...

    async def ask_patch(
        self,
        *,
        call_id: str,
        changes: dict[str, FileChange],
        reason: str | None,
        grant_root: Path | None = None,
    ) -> ReviewDecision:
        """Ask the user about a patch; returns their decision (denied if dropped)."""
        ...
