"""The `codex` and `codex-reply` tools: their schemas and their arguments, checked.

Argument names are kebab-case as in Codex's last MCP server (`approval-policy`,
`base-instructions`, ...), so the input schemas are written out here rather than derived
from a class. A bad argument is a :class:`ToolArgumentError` with a one-line message; the
server answers it as a tool error (`isError`), never as a protocol failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pycodex.config.request import SANDBOX_MODES
from pycodex.config.schema import APPROVAL_POLICIES

Json = dict[str, Any]

OUTPUT_SCHEMA: Json = {
    "type": "object",
    "properties": {
        "threadId": {"type": "string", "description": "The thread to continue with codex-reply."},
        "content": {"type": "string", "description": "The agent's final message of the turn."},
    },
    "required": ["threadId", "content"],
}

_STRING = {"type": "string"}

CODEX_INPUT_SCHEMA: Json = {
    "type": "object",
    "properties": {
        "prompt": {**_STRING, "description": "The task: the first user message of a new thread."},
        "model": {**_STRING, "description": "Model to use (e.g. gpt-5.5)."},
        "profile": {**_STRING, "description": "Config profile from config.toml to apply."},
        "cwd": {**_STRING, "description": "Working directory of the thread (default: the server's)."},
        "approval-policy": {
            "type": "string", "enum": list(APPROVAL_POLICIES),
            "description": "When commands need the user's approval (asked through elicitation).",
        },
        "sandbox": {
            "type": "string", "enum": list(SANDBOX_MODES),
            "description": "Sandbox for the commands the model runs.",
        },
        "config": {
            "type": "object", "additionalProperties": True,
            "description": "Config overrides, as `-c key=value` would set them (dotted keys or nested objects).",
        },
        "base-instructions": {**_STRING, "description": "Replaces the built-in instructions."},
        "developer-instructions": {**_STRING, "description": "Added as a developer message."},
        "compact-prompt": {**_STRING, "description": "The prompt used when the thread is compacted."},
    },
    "required": ["prompt"],
    "additionalProperties": False,
}

REPLY_INPUT_SCHEMA: Json = {
    "type": "object",
    "properties": {
        "prompt": {**_STRING, "description": "The next user message."},
        "threadId": {**_STRING, "description": "The thread to continue (from a codex result)."},
        "conversationId": {**_STRING, "description": "Deprecated name of threadId."},
    },
    "required": ["prompt"],
    "additionalProperties": False,
}

TOOLS: tuple[tuple[str, str, str, Json], ...] = (
    ("codex", "Codex", "Start a pycodex thread on a task and run it to the end of its first "
     "turn; answers the thread id and the agent's final message.", CODEX_INPUT_SCHEMA),
    ("codex-reply", "Codex Reply", "Continue a pycodex thread with another message; answers "
     "the agent's final message.", REPLY_INPUT_SCHEMA),
)


class ToolArgumentError(ValueError):
    """A tool call's arguments are wrong (the message names the argument)."""


@dataclass(frozen=True)
class CodexArgs:
    prompt: str
    model: str | None = None
    profile: str | None = None
    cwd: str | None = None
    approval_policy: str | None = None
    sandbox: str | None = None
    config: Json = field(default_factory=dict)
    base_instructions: str | None = None
    developer_instructions: str | None = None
    compact_prompt: str | None = None


@dataclass(frozen=True)
class ReplyArgs:
    prompt: str
    thread_id: str


def _unknown(arguments: Json, schema: Json) -> None:
    extra = sorted(set(arguments) - set(schema["properties"]))
    if extra:
        raise ToolArgumentError(f"unknown argument(s): {', '.join(extra)}")


def _text(arguments: Json, name: str, *, required: bool = False) -> str | None:
    value = arguments.get(name)
    if value is None:
        if required:
            raise ToolArgumentError(f"missing required argument `{name}`")
        return None
    if not isinstance(value, str):
        raise ToolArgumentError(f"`{name}` must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise ToolArgumentError(f"`{name}` must not be empty")
    return value


def _choice(arguments: Json, name: str, allowed: tuple[str, ...]) -> str | None:
    value = _text(arguments, name)
    if value is not None and value not in allowed:
        raise ToolArgumentError(f"`{name}` must be one of {', '.join(allowed)}, not {value!r}")
    return value


def parse_codex(arguments: Json | None) -> CodexArgs:
    arguments = arguments or {}
    _unknown(arguments, CODEX_INPUT_SCHEMA)
    config = arguments.get("config") or {}
    if not isinstance(config, dict):
        raise ToolArgumentError("`config` must be an object of config overrides")
    prompt = _text(arguments, "prompt", required=True)
    assert prompt is not None
    return CodexArgs(
        prompt=prompt,
        model=_text(arguments, "model"),
        profile=_text(arguments, "profile"),
        cwd=_text(arguments, "cwd"),
        approval_policy=_choice(arguments, "approval-policy", APPROVAL_POLICIES),
        sandbox=_choice(arguments, "sandbox", SANDBOX_MODES),
        config=config,
        base_instructions=_text(arguments, "base-instructions"),
        developer_instructions=_text(arguments, "developer-instructions"),
        compact_prompt=_text(arguments, "compact-prompt"),
    )


def parse_reply(arguments: Json | None) -> ReplyArgs:
    arguments = arguments or {}
    _unknown(arguments, REPLY_INPUT_SCHEMA)
    prompt = _text(arguments, "prompt", required=True)
    thread_id = _text(arguments, "threadId") or _text(arguments, "conversationId")
    if not thread_id:
        raise ToolArgumentError("missing required argument `threadId`")
    assert prompt is not None
    return ReplyArgs(prompt=prompt, thread_id=thread_id)
