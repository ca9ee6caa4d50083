"""The definitions of the built-in tools as the model is offered them (pure data).

Kept apart from the handlers so that building a request never imports what running a
tool needs (the patch engine, process spawning, the safety checks): a turn that calls no
tool never loads them. See `pycodex.tools.registry`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

# Longer than Codex's 10 s: test suites and builds routinely need more, and a model that
# knows better passes `timeout_ms` anyway.
DEFAULT_TIMEOUT_MS = 60_000
MAX_TIMEOUT_MS = 60 * 60 * 1000

SHELL_TOOL_SPEC: dict[str, Any] = {
    "type": "function",
    "name": "shell",
    "description": (
        "Run a command and return its exit code and output. `command` is an argv list, "
        'e.g. ["bash", "-lc", "ls -la"]. Set `workdir` instead of using `cd`.'
    ),
    "strict": False,
    "parameters": {
        "type": "object",
        "properties": {
            "command": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The command to run, as an argv list.",
            },
            "workdir": {
                "type": "string",
                "description": "Directory to run the command in (default: the session's).",
            },
            "timeout_ms": {
                "type": "number",
                "description": f"Kill the command after this many ms (default {DEFAULT_TIMEOUT_MS}).",
            },
            "justification": {
                "type": "string",
                "description": "Why the command is needed, shown to the user if approval is asked.",
            },
        },
        "required": ["command"],
        "additionalProperties": False,
    },
}


# Offered only under `on-request`, the one policy where the user can grant them.
ESCALATION_PROPERTIES: dict[str, Any] = {
    "with_escalated_permissions": {
        "type": "boolean",
        "description": (
            "Run the command without the sandbox (e.g. it needs the network or to write "
            "outside the workspace). The user is asked first; give a `justification`."
        ),
    },
    "sandbox_permissions": {
        "type": "string",
        "enum": ["use_default", "require_escalated"],
        "description": "`require_escalated` is the same as `with_escalated_permissions: true`.",
    },
}


def shell_tool_spec(escalation: bool) -> dict[str, Any]:
    if not escalation:
        return SHELL_TOOL_SPEC
    spec = json.loads(json.dumps(SHELL_TOOL_SPEC))
    spec["parameters"]["properties"].update(ESCALATION_PROPERTIES)
    return spec  # type: ignore[no-any-return]


# --- exec_command / write_stdin ----------------------------------------------------------

DEFAULT_YIELD_MS = 10_000
MIN_YIELD_MS = 250
MAX_YIELD_MS = 30_000
DEFAULT_WRITE_YIELD_MS = 250
MIN_POLL_YIELD_MS = 5_000
MAX_POLL_YIELD_MS = 300_000
DEFAULT_MAX_OUTPUT_TOKENS = 10_000

SHELL_TYPES = ("shell", "unified_exec", "local_shell")

EXEC_COMMAND_SPEC: dict[str, Any] = {
    "type": "function",
    "name": "exec_command",
    "description": (
        "Start a shell command; returns its output once it exits, or a session_id to keep "
        "talking to it with write_stdin if it is still running."
    ),
    "strict": False,
    "parameters": {
        "type": "object",
        "properties": {
            "cmd": {"type": "string", "description": "The script to run in the shell."},
            "justification": {
                "type": "string",
                "description": "Why the command needs escalated permissions, shown to the user.",
            },
            "login": {
                "type": "boolean",
                "description": "Run as a login shell (profile environment). Default true.",
            },
            "max_output_tokens": {
                "type": "number",
                "description": "Cap on the output returned, in tokens (middle cut). Default 10000.",
            },
            "prefix_rule": {
                "type": "array",
                "items": {"type": "string"},
                "description": (
                    "A command prefix the user may approve for the rest of the session "
                    "when asked, e.g. [\"npm\", \"test\"]."
                ),
            },
            "sandbox_permissions": {
                "type": "string",
                "enum": ["use_default", "require_escalated"],
                "description": (
                    "`require_escalated` asks the user to run the command outside the sandbox; "
                    "give a justification."
                ),
            },
            "shell": {
                "type": "string",
                "description": "bash, zsh or sh (name or path). Default: the user's shell.",
            },
            "tty": {
                "type": "boolean",
                "description": (
                    "Give the command a terminal (needed to type into it later). Default false."
                ),
            },
            "workdir": {
                "type": "string",
                "description": "Directory to run in (default: the session's working directory).",
            },
            "yield_time_ms": {
                "type": "number",
                "description": "Return after this many ms if still running (250-30000, default 10000).",
            },
        },
        "required": ["cmd"],
        "additionalProperties": False,
    },
}

WRITE_STDIN_SPEC: dict[str, Any] = {
    "type": "function",
    "name": "write_stdin",
    "description": (
        "Type characters into a running exec_command session (or poll it with empty chars); "
        "returns what it printed since."
    ),
    "strict": False,
    "parameters": {
        "type": "object",
        "properties": {
            "chars": {
                "type": "string",
                "description": "Text to send, e.g. \"ls\\n\" or \"\\u0003\" for Ctrl-C; empty to poll.",
            },
            "max_output_tokens": {
                "type": "number",
                "description": "Cap on the output returned, in tokens (middle cut). Default 10000.",
            },
            "session_id": {
                "type": "number",
                "description": "The session_id exec_command returned.",
            },
            "yield_time_ms": {
                "type": "number",
                "description": (
                    "How long to collect output, in ms "
                    f"(writes: default {DEFAULT_WRITE_YIELD_MS}; empty polls wait "
                    f"{MIN_POLL_YIELD_MS}-{MAX_POLL_YIELD_MS})."
                ),
            },
        },
        "required": ["session_id"],
        "additionalProperties": False,
    },
}


def shell_tool_type(model: str, configured: str | None = None, unified_exec: bool = True) -> str:
    """Which shell tool a model is offered: `tools.shell_type` when set, else
    `exec_command`/`write_stdin` for the GPT-5 generation and Codex models (as Codex does)."""
    if configured in SHELL_TYPES:
        return configured
    name = model.rsplit("/", 1)[-1]
    if unified_exec and name.startswith(("gpt-5", "gpt-6", "codex-")):
        return "unified_exec"
    return "shell"


# --- apply_patch ---------------------------------------------------------------------------

ApplyPatchToolKind = Literal["freeform", "function"]

# Model families trained on the freeform (grammar-constrained) patch tool.
FREEFORM_FAMILIES = ("gpt-5", "gpt-6", "codex-")

# The patch envelope as `pycodex.apply_patch.parse_patch` reads it, in Lark syntax. The
# parser is more lenient (blank lines, a heredoc wrapper, missing final newline); the
# grammar describes the canonical form we want models to write.
APPLY_PATCH_LARK_GRAMMAR = r"""start: open_marker file_op+ close_marker

open_marker: "*** Begin Patch" NL
close_marker: "*** End Patch" NL?

file_op: create_file | remove_file | edit_file

create_file: "*** Add File: " FILE_PATH NL new_line*
new_line: PLUS_LINE NL

remove_file: "*** Delete File: " FILE_PATH NL

edit_file: "*** Update File: " FILE_PATH NL rename_to? lead_section section*
rename_to: "*** Move to: " FILE_PATH NL
lead_section: anchor? body_line+ at_eof?
section: anchor body_line+ at_eof?
anchor: "@@" NL | "@@ " ANCHOR_TEXT NL
body_line: (KEEP_LINE | MINUS_LINE | PLUS_LINE) NL
at_eof: "*** End of File" NL

FILE_PATH: /[^\r\n]+/
ANCHOR_TEXT: /[^\r\n]+/
KEEP_LINE: / [^\r\n]*/
MINUS_LINE: /-[^\r\n]*/
PLUS_LINE: /\+[^\r\n]*/
NL: "\n"
"""

FREEFORM_DESCRIPTION = (
    "Create, edit, rename or delete files by sending a patch. Paths are relative to the "
    "working directory. Give each update a few unchanged lines around the edit."
)

FUNCTION_DESCRIPTION = """Create, edit, rename or delete files by sending a patch as `input`.

Format (every line ends with a newline):
*** Begin Patch
*** Add File: path/new.txt
+each line of the new file, prefixed with +
*** Delete File: path/old.txt
*** Update File: path/file.py
*** Move to: path/renamed.py      (optional: rename the file too)
@@ def some_function():            (optional: a line just above the change, to locate it)
 an unchanged line, prefixed with a space
-a line to remove
+a line to add
*** End Patch

Paths are relative to the working directory. Show about three unchanged lines before and
after each change, and start another `@@` section for each separate place in a file."""

FUNCTION_INPUT_DESCRIPTION = "The whole patch, from `*** Begin Patch` to `*** End Patch`."


def apply_patch_tool_kind(model: str) -> ApplyPatchToolKind:
    """Which form of the tool `model` is offered (a `provider/` prefix is ignored)."""
    slug = model.rsplit("/", 1)[-1].lower()
    return "freeform" if slug.startswith(FREEFORM_FAMILIES) else "function"


def apply_patch_tool_spec(kind: ApplyPatchToolKind) -> dict[str, Any]:
    if kind == "freeform":
        return {
            "type": "custom",
            "name": "apply_patch",
            "description": FREEFORM_DESCRIPTION,
            "format": {"type": "grammar", "syntax": "lark", "definition": APPLY_PATCH_LARK_GRAMMAR},
        }
    return {
        "type": "function",
        "name": "apply_patch",
        "description": FUNCTION_DESCRIPTION,
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {"input": {"type": "string", "description": FUNCTION_INPUT_DESCRIPTION}},
            "required": ["input"],
            "additionalProperties": False,
        },
    }
