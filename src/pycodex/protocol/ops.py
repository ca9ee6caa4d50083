"""Operations a front end submits to the engine (the submission half of the queue pair).

Every op is ``{"type": "<snake_case>", ...fields}`` (seed_checklist §1.5). Ops are built by
pycodex's own front ends, never read from disk, so unknown keys are rejected
(``extra="forbid"``): a misspelled optional field would otherwise be silently ignored.
Nested data that Codex also persists (user input items, policies) stays lenient.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, SerializerFunctionWrapHandler, TypeAdapter, model_serializer

from pycodex.protocol._wire import OmitNone, StrictWireModel
from pycodex.protocol.policies import (
    AskForApproval,
    ExecReviewAnswer,
    ReasoningEffort,
    ReasoningSummary,
    ReviewDecision,
    SandboxPolicy,
)
from pycodex.protocol.review import ReviewRequest
from pycodex.protocol.user_input import UserInput


class InterruptOp(StrictWireModel):
    """Abort the running task; answered by ``turn_aborted{reason: interrupted}``."""

    type: Literal["interrupt"] = "interrupt"


class UserInputOp(StrictWireModel):
    """Input for the running turn, or a new turn with the current settings."""

    type: Literal["user_input"] = "user_input"
    items: list[UserInput]
    final_output_json_schema: OmitNone[dict[str, Any]] = None


class UserTurnOp(StrictWireModel):
    """Like ``user_input`` but applies these settings first (persistently, except the schema)."""

    type: Literal["user_turn"] = "user_turn"
    items: list[UserInput]
    cwd: str
    approval_policy: AskForApproval
    sandbox_policy: SandboxPolicy
    model: str
    effort: OmitNone[ReasoningEffort] = None
    summary: ReasoningSummary
    final_output_json_schema: dict[str, Any] | None = None


class OverrideTurnContextOp(StrictWireModel):
    """Persistently change settings for later turns; starts no turn.

    A field left out means "keep"; ``effort`` may also be given as ``null``, which means
    "clear the effort" (Codex's ``Option<Option<ReasoningEffort>>``). Use
    :meth:`sets` to tell "absent" from "explicitly null".
    """

    type: Literal["override_turn_context"] = "override_turn_context"
    cwd: str | None = None
    approval_policy: AskForApproval | None = None
    sandbox_policy: SandboxPolicy | None = None
    model: str | None = None
    effort: ReasoningEffort | None = None
    summary: ReasoningSummary | None = None

    def sets(self, field: str) -> bool:
        """Whether the op carries ``field`` at all (null included)."""
        return field in self.model_fields_set

    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Absent and null differ here, so serialize by presence rather than by value.
        data: dict[str, Any] = handler(self)
        for name in type(self).model_fields:
            if name != "type" and name not in self.model_fields_set:
                data.pop(name, None)
        return data


class ExecApprovalOp(StrictWireModel):
    type: Literal["exec_approval"] = "exec_approval"
    # The id of the approval request being answered (the turn's sub_id / call id).
    id: str
    decision: ExecReviewAnswer


class PatchApprovalOp(StrictWireModel):
    type: Literal["patch_approval"] = "patch_approval"
    id: str
    decision: ReviewDecision


class AddToHistoryOp(StrictWireModel):
    """Append a line to the cross-session ``history.jsonl``."""

    type: Literal["add_to_history"] = "add_to_history"
    text: str


class GetHistoryEntryRequestOp(StrictWireModel):
    type: Literal["get_history_entry_request"] = "get_history_entry_request"
    offset: int
    log_id: int


class ListMcpToolsOp(StrictWireModel):
    type: Literal["list_mcp_tools"] = "list_mcp_tools"


class ListCustomPromptsOp(StrictWireModel):
    type: Literal["list_custom_prompts"] = "list_custom_prompts"


class CompactOp(StrictWireModel):
    type: Literal["compact"] = "compact"


class UndoOp(StrictWireModel):
    type: Literal["undo"] = "undo"


class ReviewOp(StrictWireModel):
    type: Literal["review"] = "review"
    review_request: ReviewRequest


class ShutdownOp(StrictWireModel):
    type: Literal["shutdown"] = "shutdown"


class RunUserShellCommandOp(StrictWireModel):
    """A user's ``!cmd``: run in the user's shell, streamed as exec events."""

    type: Literal["run_user_shell_command"] = "run_user_shell_command"
    command: str


class ThreadRollbackOp(StrictWireModel):
    """Drop the last ``num_turns`` user turns from context (files on disk are untouched)."""

    type: Literal["thread_rollback"] = "thread_rollback"
    num_turns: int = Field(ge=1)


Op = Annotated[
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
    | ThreadRollbackOp,
    Field(discriminator="type"),
]

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
OP_TYPES: frozenset[str] = frozenset(cls.model_fields["type"].default for cls in OP_VARIANTS)


class Submission(StrictWireModel):
    """One entry of the submission queue; events answering it carry the same ``id``."""

    id: str
    op: Op


_op_adapter: TypeAdapter[Op] = TypeAdapter(Op, config=ConfigDict(defer_build=True))


def parse_op(data: Any) -> Op:
    """Validate one op. Unknown ``type`` → ``ValueError`` naming it; bad fields →
    ``pydantic.ValidationError`` (itself a ``ValueError``)."""
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in OP_TYPES:
        raise ValueError(f"unknown op type {kind!r}")
    op: Op = _op_adapter.validate_python(data)
    return op


def op_to_wire(op: Op) -> dict[str, Any]:
    return op.model_dump(mode="json")
