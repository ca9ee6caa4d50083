"""Operations a front end submits to the engine (the submission half of the queue pair).

Every op is ``{"type": "<snake_case>", ...fields}`` (seed_checklist §1.5). Ops are built by
pycodex's own front ends, never read from disk, so unknown keys are rejected
(``extra="forbid"``): a misspelled optional field would otherwise be silently ignored.
Nested data that Codex also persists (user input items, policies) stays lenient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from pycodex.protocol._wire import OmitNone, StrictWireModel, tag_of, wire_union
from pycodex.protocol.policies import (
    AnySandboxPolicy,
    AskForApproval,
    ExecReviewAnswer,
    ReasoningEffort,
    ReasoningSummary,
    ReviewDecision,
)
from pycodex.protocol.review import ReviewRequest
from pycodex.protocol.user_input import UserInput


class InterruptOp(StrictWireModel, kw_only=True):
    """Abort the running task; answered by ``turn_aborted{reason: interrupted}``."""

    type: Literal["interrupt"] = "interrupt"


class UserInputOp(StrictWireModel, kw_only=True):
    """Input for the running turn, or a new turn with the current settings."""

    type: Literal["user_input"] = "user_input"
    items: list[UserInput]
    final_output_json_schema: OmitNone[dict[str, Any]] = None


class UserTurnOp(StrictWireModel, kw_only=True):
    """Like ``user_input`` but applies these settings first (persistently, except the schema)."""

    type: Literal["user_turn"] = "user_turn"
    items: list[UserInput]
    cwd: str
    approval_policy: AskForApproval
    sandbox_policy: AnySandboxPolicy
    model: str
    effort: OmitNone[ReasoningEffort] = None
    summary: ReasoningSummary
    final_output_json_schema: dict[str, Any] | None = None


class OverrideTurnContextOp(StrictWireModel, kw_only=True):
    """Persistently change settings for later turns; starts no turn.

    A field left out means "keep"; ``effort`` may also be given as ``null``, which means
    "clear the effort" (Codex's ``Option<Option<ReasoningEffort>>``). Use
    :meth:`sets` to tell "absent" from "explicitly null".
    """

    type: Literal["override_turn_context"] = "override_turn_context"
    cwd: str | UnsetType | None = UNSET
    approval_policy: AskForApproval | UnsetType | None = UNSET
    sandbox_policy: AnySandboxPolicy | UnsetType | None = UNSET
    model: str | UnsetType | None = UNSET
    effort: ReasoningEffort | UnsetType | None = UNSET
    summary: ReasoningSummary | UnsetType | None = UNSET

    def sets(self, field: str) -> bool:
        """Whether the op carries ``field`` at all (null included)."""
        return getattr(self, field) is not UNSET

    def to_wire(self) -> dict[str, Any]:
        # Absent and null differ here: absent fields are left out, nulls are written.
        return {key: value for key, value in super().to_wire().items() if value is not UNSET}


class ExecApprovalOp(StrictWireModel, kw_only=True):
    type: Literal["exec_approval"] = "exec_approval"
    # The id of the approval request being answered (the turn's sub_id / call id).
    id: str
    decision: ExecReviewAnswer


class PatchApprovalOp(StrictWireModel, kw_only=True):
    type: Literal["patch_approval"] = "patch_approval"
    id: str
    decision: ReviewDecision


class AddToHistoryOp(StrictWireModel, kw_only=True):
    """Append a line to the cross-session ``history.jsonl``."""

    type: Literal["add_to_history"] = "add_to_history"
    text: str


class GetHistoryEntryRequestOp(StrictWireModel, kw_only=True):
    type: Literal["get_history_entry_request"] = "get_history_entry_request"
    offset: int
    log_id: int


class ListMcpToolsOp(StrictWireModel, kw_only=True):
    type: Literal["list_mcp_tools"] = "list_mcp_tools"


class ListCustomPromptsOp(StrictWireModel, kw_only=True):
    type: Literal["list_custom_prompts"] = "list_custom_prompts"


class CompactOp(StrictWireModel, kw_only=True):
    type: Literal["compact"] = "compact"


class UndoOp(StrictWireModel, kw_only=True):
    type: Literal["undo"] = "undo"


class ReviewOp(StrictWireModel, kw_only=True):
    type: Literal["review"] = "review"
    review_request: ReviewRequest


class ShutdownOp(StrictWireModel, kw_only=True):
    type: Literal["shutdown"] = "shutdown"


class RunUserShellCommandOp(StrictWireModel, kw_only=True):
    """A user's ``!cmd``: run in the user's shell, streamed as exec events."""

    type: Literal["run_user_shell_command"] = "run_user_shell_command"
    command: str


class ThreadRollbackOp(StrictWireModel, kw_only=True):
    """Drop the last ``num_turns`` user turns from context (files on disk are untouched)."""

    type: Literal["thread_rollback"] = "thread_rollback"
    num_turns: Annotated[int, msgspec.Meta(ge=1)]


OP_VARIANTS: tuple[type[StrictWireModel], ...] = (
    InterruptOp,
    UserInputOp,
    UserTurnOp,
    OverrideTurnContextOp,
    ExecApprovalOp,
    PatchApprovalOp,
    AddToHistoryOp,
    GetHistoryEntryRequestOp,
    ListMcpToolsOp,
    ListCustomPromptsOp,
    CompactOp,
    UndoOp,
    ReviewOp,
    ShutdownOp,
    RunUserShellCommandOp,
    ThreadRollbackOp,
)
OP_TYPES: frozenset[str] = frozenset(tag_of(cls) for cls in OP_VARIANTS)

OP_UNION = wire_union("op", OP_VARIANTS)
if TYPE_CHECKING:
    Op = (
        InterruptOp
        | UserInputOp
        | UserTurnOp
        | OverrideTurnContextOp
        | ExecApprovalOp
        | PatchApprovalOp
        | AddToHistoryOp
        | GetHistoryEntryRequestOp
        | ListMcpToolsOp
        | ListCustomPromptsOp
        | CompactOp
        | UndoOp
        | ReviewOp
        | ShutdownOp
        | RunUserShellCommandOp
        | ThreadRollbackOp
    )
else:
    Op = OP_UNION


class Submission(StrictWireModel, kw_only=True):
    """One entry of the submission queue; events answering it carry the same ``id``."""

    id: str
    op: Op


def parse_op(data: Any) -> Op:
    """Validate one op. Unknown ``type`` → ``ValueError`` naming it; bad fields →
    :class:`~pycodex.protocol._wire.WireError` (itself a ``ValueError``)."""
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in OP_TYPES:
        raise ValueError(f"unknown op type {kind!r}")
    op: Op = OP_UNION.parse(data)
    return op


def op_to_wire(op: Op) -> dict[str, Any]:
    return op.to_wire()
