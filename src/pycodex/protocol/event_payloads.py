"""Events about tool activity: commands, patches, approvals, MCP calls, web search.

Split from :mod:`pycodex.protocol.events` only to keep files small; the union and parser
live there. Field sets and null handling follow Codex's ``EventMsg`` payloads.
"""

from __future__ import annotations

import base64
from enum import StrEnum
from typing import Any, Literal

import msgspec

from pycodex.protocol._wire import OmitNone, RustDuration, WireModel
from pycodex.protocol.items import ExecCommandSource, FileChange, ParsedCommand
from pycodex.protocol.ops import ExecApprovalOp, PatchApprovalOp
from pycodex.protocol.policies import ExecReviewAnswer, ReviewDecision

# --- shell commands -------------------------------------------------------------------------


class ExecCommandBeginEvent(WireModel, kw_only=True):
    type: Literal["exec_command_begin"] = "exec_command_begin"
    call_id: str
    process_id: OmitNone[str] = None
    turn_id: str = ""
    command: list[str]
    cwd: str
    parsed_cmd: list[ParsedCommand] = msgspec.field(default_factory=list)
    source: ExecCommandSource = ExecCommandSource.AGENT
    interaction_input: OmitNone[str] = None


class ExecOutputStream(StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"


class ExecCommandOutputDeltaEvent(WireModel, kw_only=True):
    """A raw chunk of command output; ``chunk`` is base64 because output may not be UTF-8."""

    type: Literal["exec_command_output_delta"] = "exec_command_output_delta"
    call_id: str
    stream: ExecOutputStream
    chunk: str
    # The thread and turn the command's item belongs to (filled in by the engine; Codex's
    # core event has only the call id, which is the item id).
    thread_id: OmitNone[str] = None
    turn_id: OmitNone[str] = None

    @classmethod
    def from_bytes(
        cls, call_id: str, stream: ExecOutputStream, data: bytes
    ) -> ExecCommandOutputDeltaEvent:
        return cls(call_id=call_id, stream=stream, chunk=base64.b64encode(data).decode("ascii"))

    def data(self) -> bytes:
        return base64.b64decode(self.chunk)


class ExecCommandEndEvent(WireModel, kw_only=True):
    type: Literal["exec_command_end"] = "exec_command_end"
    call_id: str
    process_id: OmitNone[str] = None
    turn_id: str = ""
    command: list[str]
    cwd: str
    parsed_cmd: list[ParsedCommand] = msgspec.field(default_factory=list)
    source: ExecCommandSource = ExecCommandSource.AGENT
    interaction_input: OmitNone[str] = None
    stdout: str
    stderr: str
    aggregated_output: str = ""
    exit_code: int
    duration: RustDuration
    # The output exactly as the model was shown it (after truncation/formatting).
    formatted_output: str


class ExecApprovalRequestEvent(WireModel, kw_only=True):
    type: Literal["exec_approval_request"] = "exec_approval_request"
    call_id: str
    # Set for sub-command approvals; otherwise the approval is for `call_id` itself.
    approval_id: OmitNone[str] = None
    turn_id: str = ""
    command: list[str]
    cwd: str
    reason: OmitNone[str] = None
    # Command prefix that "approve and remember" would add to the exec policy.
    proposed_execpolicy_amendment: OmitNone[list[str]] = None
    available_decisions: OmitNone[list[ReviewDecision]] = None
    parsed_cmd: list[ParsedCommand] = msgspec.field(default_factory=list)

    def effective_approval_id(self) -> str:
        return self.approval_id or self.call_id

    def answer(self, decision: ExecReviewAnswer) -> ExecApprovalOp:
        """The op that answers this request with `decision`."""
        return ExecApprovalOp(id=self.effective_approval_id(), decision=decision)


# --- patches -------------------------------------------------------------------------------


class ApplyPatchApprovalRequestEvent(WireModel, kw_only=True):
    type: Literal["apply_patch_approval_request"] = "apply_patch_approval_request"
    call_id: str
    turn_id: str = ""
    changes: dict[str, FileChange]
    reason: OmitNone[str] = None
    # Asks to make this root writable for the rest of the session.
    grant_root: OmitNone[str] = None

    def answer(self, decision: ReviewDecision) -> PatchApprovalOp:
        """The op that answers this request with `decision`."""
        return PatchApprovalOp(id=self.call_id, decision=decision)

    def files(self) -> str:
        """The files the patch would change, for a question or a warning."""
        return ", ".join(sorted(self.changes)) or "no files"


class PatchApplyBeginEvent(WireModel, kw_only=True):
    type: Literal["patch_apply_begin"] = "patch_apply_begin"
    call_id: str
    turn_id: str = ""
    # True when no apply_patch_approval_request preceded this patch.
    auto_approved: bool
    changes: dict[str, FileChange]


class PatchApplyEndEvent(WireModel, kw_only=True):
    type: Literal["patch_apply_end"] = "patch_apply_end"
    call_id: str
    turn_id: str = ""
    stdout: str
    stderr: str
    success: bool
    changes: dict[str, FileChange] = msgspec.field(default_factory=dict)


class TurnDiffEvent(WireModel, kw_only=True):
    type: Literal["turn_diff"] = "turn_diff"
    unified_diff: str


# --- MCP -------------------------------------------------------------------------------------


class McpInvocation(WireModel, kw_only=True):
    server: str
    tool: str
    arguments: Any = None


class McpToolCallBeginEvent(WireModel, kw_only=True):
    type: Literal["mcp_tool_call_begin"] = "mcp_tool_call_begin"
    call_id: str
    invocation: McpInvocation


class McpToolCallEndEvent(WireModel, kw_only=True):
    type: Literal["mcp_tool_call_end"] = "mcp_tool_call_end"
    call_id: str
    invocation: McpInvocation
    duration: RustDuration
    # serde's Result: {"Ok": CallToolResult} or {"Err": "message"}.
    result: dict[str, Any]

    def is_success(self) -> bool:
        ok = self.result.get("Ok")
        return isinstance(ok, dict) and not ok.get("isError", ok.get("is_error", False))


class McpStartupUpdateEvent(WireModel, kw_only=True):
    type: Literal["mcp_startup_update"] = "mcp_startup_update"
    server: str
    # {"state": "starting" | "ready" | "cancelled"} or {"state": "failed", "error": ...}
    status: dict[str, Any]


class McpStartupFailure(WireModel, kw_only=True):
    server: str
    error: str


class McpStartupCompleteEvent(WireModel, kw_only=True):
    type: Literal["mcp_startup_complete"] = "mcp_startup_complete"
    ready: list[str] = msgspec.field(default_factory=list)
    failed: list[McpStartupFailure] = msgspec.field(default_factory=list)
    cancelled: list[str] = msgspec.field(default_factory=list)


class McpListToolsResponseEvent(WireModel, kw_only=True):
    type: Literal["mcp_list_tools_response"] = "mcp_list_tools_response"
    # Fully qualified tool name -> MCP Tool definition (kept as the server sent it).
    tools: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    resources: dict[str, list[dict[str, Any]]] = msgspec.field(default_factory=dict)
    resource_templates: dict[str, list[dict[str, Any]]] = msgspec.field(default_factory=dict)
    # Server name -> unsupported | not_logged_in | bearer_token | o_auth
    auth_statuses: dict[str, str] = msgspec.field(default_factory=dict)


# --- web search / images -------------------------------------------------------------------


class WebSearchBeginEvent(WireModel, kw_only=True):
    type: Literal["web_search_begin"] = "web_search_begin"
    call_id: str


class WebSearchEndEvent(WireModel, kw_only=True):
    type: Literal["web_search_end"] = "web_search_end"
    call_id: str
    query: str
    action: OmitNone[dict[str, Any]] = None


class ViewImageToolCallEvent(WireModel, kw_only=True):
    type: Literal["view_image_tool_call"] = "view_image_tool_call"
    call_id: str
    path: str
