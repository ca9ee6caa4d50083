"""The `apply_patch` tool: the model edits files with a patch, applied in process.

Models that support freeform tools (gpt-5*, gpt-6*, codex-*) get a *custom* tool whose
input is constrained by a Lark grammar of the patch envelope; every other model gets a
function tool taking the patch as one string, `input`. Patches that models send through
the shell (`apply_patch <<'EOF' ... EOF`) are intercepted by the shell handler and end up
here too (`run_apply_patch`), so they obey the same policy and produce the same events.

A call goes: parse and verify in memory (a bad patch is answered with
`apply_patch verification failed: ...`, nothing written, no events) -> approval
(`tools.orchestrator.approve_patch`: a rejected or declined patch is answered with
`patch rejected...`, nothing written, no events) -> `PatchApplyBegin` -> atomic write ->
`PatchApplyEnd`. When no one is asked, nothing between verification and writing yields to
the event loop, so patches of concurrent calls never interleave; after asking the user,
the patch is verified again against the files as they are then.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pycodex.apply_patch import (
    FileChange,
    PatchApplyError,
    PatchParseError,
    PatchVerificationError,
    apply_changes,
    compute_changes,
    parse_patch,
)
from pycodex.process.spawn import ExecResult
from pycodex.protocol.event_payloads import PatchApplyBeginEvent, PatchApplyEndEvent
from pycodex.protocol.items import AddFileChange, DeleteFileChange, UpdateFileChange
from pycodex.protocol.items import FileChange as ProtocolFileChange
from pycodex.tools.base import RespondToModel, ToolCall, ToolContext, ToolOutput, json_arguments
from pycodex.tools.orchestrator import approve_patch
from pycodex.tools.output_format import format_exec_output
from pycodex.tools.specs import (
    ApplyPatchToolKind,
    apply_patch_tool_spec,
)


class ApplyPatchHandler:
    name = "apply_patch"

    def __init__(self, kind: ApplyPatchToolKind = "freeform") -> None:
        self.kind = kind

    def spec(self) -> dict[str, Any]:
        return apply_patch_tool_spec(self.kind)

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        # Answer whichever form the model used, whatever form it was offered.
        patch_text = call.payload if call.kind == "custom" else _function_input(call)
        return await run_apply_patch(call.call_id, patch_text, ctx.cwd, ctx)


def _function_input(call: ToolCall) -> str:
    value = json_arguments(call).get("input")
    if not isinstance(value, str):
        raise RespondToModel("failed to parse function arguments: `input` must be a string")
    return value


async def run_apply_patch(call_id: str, patch_text: str, cwd: Path, ctx: ToolContext) -> ToolOutput:
    """Verify, check against the policy, apply; the result as the model sees it.

    `cwd` is what relative paths in the patch resolve against. Raises RespondToModel for a
    patch that does not verify or that the policy rejects (nothing written, no events).
    """
    started = time.monotonic()
    try:
        patch = parse_patch(patch_text)
        if not patch.hunks:
            raise RespondToModel("patch rejected: empty patch")
        changes = compute_changes(patch, cwd)
    except (PatchParseError, PatchVerificationError) as err:
        raise RespondToModel(f"apply_patch verification failed: {err}") from err
    auto_approved = await approve_patch(call_id, written_paths(changes), protocol_changes(changes), ctx)
    if not auto_approved:
        # The files may have changed while the user was deciding: verify again.
        try:
            changes = compute_changes(patch, cwd)
        except PatchVerificationError as err:
            raise RespondToModel(f"apply_patch verification failed: {err}") from err

    event_changes = protocol_changes(changes)
    if ctx.turn_diff is not None:
        ctx.turn_diff.on_patch(changes)
    ctx.emit(
        PatchApplyBeginEvent(
            call_id=call_id, turn_id=ctx.turn_id, auto_approved=auto_approved, changes=event_changes
        )
    )
    try:
        stdout, stderr, exit_code = apply_changes(changes).summary, "", 0
    except PatchApplyError as err:
        stdout, stderr, exit_code = "", f"{err}\n", 1
    ctx.emit(
        PatchApplyEndEvent(
            call_id=call_id,
            turn_id=ctx.turn_id,
            stdout=stdout,
            stderr=stderr,
            success=exit_code == 0,
            changes=event_changes,
        )
    )
    aggregated = stdout + stderr
    result = ExecResult(
        exit_code=exit_code,
        stdout=stdout,
        stderr=stderr,
        aggregated=aggregated,
        duration_s=time.monotonic() - started,
        timed_out=False,
        output_bytes=len(aggregated.encode("utf-8")),
    )
    return ToolOutput(text=format_exec_output(result, None), success=exit_code == 0)


def written_paths(changes: Iterable[FileChange]) -> list[Path]:
    """Every path the patch writes or removes (both ends of a move), for the approval."""
    paths: list[Path] = []
    for change in changes:
        paths.append(change.path)
        if change.move_path is not None:
            paths.append(change.move_path)
    return paths


# --- events ------------------------------------------------------------------------------


def protocol_changes(changes: Sequence[FileChange]) -> dict[str, ProtocolFileChange]:
    """Per-file changes for PatchApply events, keyed by absolute path (source of a move).

    A path touched by several hunks of one patch shows its net effect: a file added and
    then updated is an add of the final content.
    """
    out: dict[str, ProtocolFileChange] = {}
    for change in changes:
        key = str(change.path)
        previous = out.get(key)
        if change.kind == "add":
            out[key] = AddFileChange(content=change.new_content or "")
        elif change.kind == "delete":
            out[key] = DeleteFileChange(content=change.old_content or "")
        elif isinstance(previous, AddFileChange) and change.move_path in (None, change.path):
            out[key] = AddFileChange(content=change.new_content or "")
        else:
            move = change.move_path if change.move_path != change.path else None
            out[key] = UpdateFileChange(
                unified_diff=change.unified_diff,
                move_path=str(move) if move is not None else None,
            )
    return out
