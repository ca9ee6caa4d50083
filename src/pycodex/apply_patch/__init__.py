"""The apply_patch engine: parse, verify, then write (all-or-nothing).

    patch = parse_patch(text)                 # PatchParseError
    changes = compute_changes(patch, cwd)     # PatchVerificationError; nothing written
    result = apply_changes(changes)           # PatchApplyError; result.summary

`apply_patch_text` runs all three with Codex's messages and exit codes (the CLI), and
`maybe_parse_apply_patch_invocation` spots shell commands that are patch calls.
"""

from __future__ import annotations

import os

from pycodex.apply_patch.applier import ApplyResult, PatchApplyError, apply_changes
from pycodex.apply_patch.changes import (
    FileChange,
    PatchVerificationError,
    compute_changes,
    derive_new_content,
)
from pycodex.apply_patch.invocation import (
    ApplyPatchInvocation,
    maybe_parse_apply_patch_invocation,
)
from pycodex.apply_patch.parser import (
    AddFile,
    DeleteFile,
    Hunk,
    InvalidHunkError,
    InvalidPatchError,
    Patch,
    PatchParseError,
    UpdateChunk,
    UpdateFile,
    parse_patch,
)

__all__ = [
    "AddFile",
    "ApplyPatchInvocation",
    "ApplyResult",
    "DeleteFile",
    "FileChange",
    "Hunk",
    "InvalidHunkError",
    "InvalidPatchError",
    "Patch",
    "PatchApplyError",
    "PatchParseError",
    "PatchVerificationError",
    "UpdateChunk",
    "UpdateFile",
    "apply_changes",
    "apply_patch_text",
    "compute_changes",
    "derive_new_content",
    "maybe_parse_apply_patch_invocation",
    "parse_patch",
]


def apply_patch_text(text: str, cwd: str | os.PathLike[str]) -> tuple[int, str, str]:
    """Apply a patch like Codex's `apply_patch`: returns (exit_code, stdout, stderr)."""
    try:
        patch = parse_patch(text)
        changes = compute_changes(patch, cwd)
        result = apply_changes(changes)
    except (PatchParseError, PatchVerificationError, PatchApplyError) as err:
        return 1, "", f"{err}\n"
    return 0, result.summary, ""
