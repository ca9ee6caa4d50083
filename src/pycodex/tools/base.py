"""The contract between the turn loop and tool handlers.

A handler is anything with a `name`, a `spec()` and an async `handle()`; there is no base
class to inherit. Handlers report problems the model should see (bad arguments, a
refused command) by raising `RespondToModel`, and problems that must end the turn by
raising `FatalToolError`; anything else they return as a normal `ToolOutput`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import msgspec

if TYPE_CHECKING:
    from pycodex.core.turn_diff import TurnDiffTracker
    from pycodex.protocol.models import ContentItem
    from pycodex.protocol.policies import SandboxPolicy
    from pycodex.tools.approvals import ApprovalBroker

PayloadKind = Literal["function", "custom", "local_shell"]


class ToolCall(msgspec.Struct, frozen=True):
    name: str
    call_id: str
    kind: PayloadKind
    # function: the JSON arguments string; custom: the raw input; local_shell: JSON of
    # the action (normalised by the router into the same shape as shell's arguments).
    payload: str


class ToolOutput(msgspec.Struct, frozen=True):
    text: str
    success: bool = True
    # Content parts instead of text (an image the model asked to see); `text` then only
    # describes them for logs.
    content: tuple[ContentItem, ...] | None = None


class RespondToModel(Exception):
    """The call failed in a way the model should hear about and can recover from."""


def json_arguments(call: ToolCall) -> dict[str, Any]:
    """The JSON object of a function call's arguments (an empty payload is `{}`)."""
    try:
        raw = json.loads(call.payload or "{}")
    except json.JSONDecodeError as exc:
        raise RespondToModel(f"failed to parse function arguments: {exc}") from exc
    if not isinstance(raw, dict):
        raise RespondToModel("failed to parse function arguments: expected a JSON object")
    return raw


class FatalToolError(Exception):
    """The call cannot be answered at all; the turn ends with this error."""


class ToolContext(msgspec.Struct):
    """What a handler may use: the turn's settings and a way to emit events."""

    turn_id: str
    cwd: Path
    approval_policy: str
    sandbox_mode: str
    command_env: Mapping[str, str]
    emit: Callable[[Any], None]
    # A user-visible warning that is not an error of the turn (shown, not sent to the model).
    emit_warning: Callable[[str], None]
    extra: dict[str, Any] = msgspec.field(default_factory=dict)
    # Where `workspace-write` lets tools write besides `cwd` (extra roots, temp dirs).
    writable_roots: tuple[Path, ...] = ()
    # The task's record of patched files (None outside a task, e.g. in unit tests).
    turn_diff: TurnDiffTracker | None = None
    # The turn's full sandbox policy (None: derive it from `sandbox_mode`).
    sandbox_policy: SandboxPolicy | None = None
    # How tools ask the user (None outside an engine: asking then means "denied").
    approvals: ApprovalBroker | None = None

    def resolve_path(self, path: str | None) -> Path:
        """`path` against the turn cwd (absolute paths are kept)."""
        if not path:
            return self.cwd
        return (self.cwd / path).resolve() if not Path(path).is_absolute() else Path(path)


class ToolHandler(Protocol):
    @property
    def name(self) -> str: ...

    def spec(self) -> dict[str, Any]:
        """The tool definition sent to the model (Responses API shape)."""
        ...

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput: ...
