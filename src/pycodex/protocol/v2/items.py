"""v2 `ThreadItem`s: the app-server's rendering of the engine's turn items.

Field names are camelCase and every optional field is written, `null` when unset, as
Codex 0.163 writes them (`reference/app-server/*.transcript.jsonl`). `thread_item()`
turns a core :mod:`pycodex.protocol.items` item into its v2 form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlparse

import msgspec

from pycodex.protocol.command_text import join_command
from pycodex.protocol.items import (
    AddFileChange,
    AgentMessageTurnItem,
    CommandExecutionTurnItem,
    ContextCompactionTurnItem,
    DeleteFileChange,
    EnteredReviewModeTurnItem,
    ExitedReviewModeTurnItem,
    FileChange,
    FileChangeTurnItem,
    ImageViewTurnItem,
    McpToolCallTurnItem,
    ParsedCommand,
    ReasoningTurnItem,
    TurnItem,
    UserMessageTurnItem,
    WebSearchTurnItem,
)
from pycodex.protocol.user_input import (
    ImageInput,
    LocalImageInput,
    SkillInput,
    TextInput,
    UserInput,
)

JsonObj = dict[str, Any]


class _Item(msgspec.Struct, kw_only=True, rename="camel", tag_field="type", forbid_unknown_fields=True):
    id: str


class UserMessageItem(_Item, kw_only=True, tag="userMessage"):
    client_id: str | None = None
    content: list[JsonObj]


class AgentMessageItem(_Item, kw_only=True, tag="agentMessage"):
    text: str
    phase: str | None = None
    memory_citation: Any = None
    delivery: Any = None
    questions: Any = None


class ReasoningItem(_Item, kw_only=True, tag="reasoning"):
    summary: list[str] = msgspec.field(default_factory=list)
    content: list[str] = msgspec.field(default_factory=list)


class CommandExecutionItem(_Item, kw_only=True, tag="commandExecution"):
    plugin_id: str | None = None
    script_path: str | None = None
    command: str
    cwd: str
    process_id: str | None = None
    source: str = "agent"
    status: str
    command_actions: list[JsonObj] = msgspec.field(default_factory=list)
    aggregated_output: str | None = None
    exit_code: int | None = None
    duration_ms: int | None = None


class FileChangeItem(_Item, kw_only=True, tag="fileChange"):
    changes: list[JsonObj]
    status: str


class McpToolCallItem(_Item, kw_only=True, tag="mcpToolCall"):
    server: str
    tool: str
    status: str
    arguments: Any = None
    app_context: Any = None
    mcp_app_ui: Any = None
    plugin_id: str | None = None
    read_only_hint: bool | None = None
    result: JsonObj | None = None
    error: JsonObj | None = None
    duration_ms: int | None = None


class WebSearchItem(_Item, kw_only=True, tag="webSearch"):
    query: str
    action: JsonObj | None = None
    results: list[Any] | None = None


class ImageViewItem(_Item, kw_only=True, tag="imageView"):
    path: str


class ContextCompactionItem(_Item, kw_only=True, tag="contextCompaction"):
    pass


class EnteredReviewModeItem(_Item, kw_only=True, tag="enteredReviewMode"):
    review: str


class ExitedReviewModeItem(_Item, kw_only=True, tag="exitedReviewMode"):
    review: str


ThreadItem = (
    UserMessageItem
    | AgentMessageItem
    | ReasoningItem
    | CommandExecutionItem
    | FileChangeItem
    | McpToolCallItem
    | WebSearchItem
    | ImageViewItem
    | ContextCompactionItem
    | EnteredReviewModeItem
    | ExitedReviewModeItem
)

_STATUS = {"in_progress": "inProgress"}
_SOURCE = {
    "user_shell": "userShell",
    "unified_exec_startup": "unifiedExecStartup",
    "unified_exec_interaction": "unifiedExecInteraction",
}
_ACTION = {"list_files": "listFiles"}


def thread_item(item: TurnItem) -> ThreadItem | None:
    """The v2 rendering of a core turn item; None for item types v2 has no form for."""
    if isinstance(item, UserMessageTurnItem):
        return UserMessageItem(id=item.id, client_id=item.client_id, content=[user_input(i) for i in item.content])
    if isinstance(item, AgentMessageTurnItem):
        return AgentMessageItem(id=item.id, text=item.text(), phase=item.phase, memory_citation=item.memory_citation)
    if isinstance(item, ReasoningTurnItem):
        return ReasoningItem(id=item.id, summary=list(item.summary_text), content=list(item.raw_content))
    if isinstance(item, CommandExecutionTurnItem):
        return _command(item)
    if isinstance(item, FileChangeTurnItem):
        changes = [_file_change(path, change) for path, change in item.changes.items()]
        return FileChangeItem(id=item.id, changes=changes, status=_status(item.status or "completed"))
    if isinstance(item, McpToolCallTurnItem):
        return _mcp(item)
    if isinstance(item, WebSearchTurnItem):
        return WebSearchItem(id=item.id, query=item.query, action=_search_action(item.action))
    if isinstance(item, ImageViewTurnItem):
        return ImageViewItem(id=item.id, path=item.path)
    if isinstance(item, ContextCompactionTurnItem):
        return ContextCompactionItem(id=item.id)
    if isinstance(item, EnteredReviewModeTurnItem):
        return EnteredReviewModeItem(id=item.id, review=item.review)
    if isinstance(item, ExitedReviewModeTurnItem):
        return ExitedReviewModeItem(id=item.id, review=item.review)
    return None


def user_input(part: UserInput) -> JsonObj:
    """A core user input part in v2 form (`text_elements` stays snake_case, as Codex)."""
    if isinstance(part, TextInput):
        elements = [
            {"byteRange": {"start": e.byte_range.start, "end": e.byte_range.end}, "placeholder": e.placeholder}
            for e in part.text_elements
        ]
        return {"type": "text", "text": part.text, "text_elements": elements}
    if isinstance(part, ImageInput):
        return {"type": "image", "url": part.image_url}
    if isinstance(part, LocalImageInput):
        return {"type": "localImage", "path": part.path}
    if isinstance(part, SkillInput):
        return {"type": "skill", "name": part.name, "path": part.path}
    return msgspec.to_builtins(part)


def _status(status: str) -> str:
    return _STATUS.get(status, status)


def _command(item: CommandExecutionTurnItem) -> CommandExecutionItem:
    return CommandExecutionItem(
        id=item.id,
        command=join_command(item.command),
        cwd=_path_of(item.cwd),
        process_id=item.process_id,
        source=_SOURCE.get(item.source.value, item.source.value),
        status=_status(item.status),
        command_actions=[command_action(p) for p in item.parsed_cmd],
        aggregated_output=item.aggregated_output,
        exit_code=item.exit_code,
        duration_ms=item.duration.total_ms() if item.duration is not None else None,
    )


def command_action(parsed: ParsedCommand) -> JsonObj:
    kind = _ACTION.get(parsed.type, parsed.type)
    action: JsonObj = {"type": kind, "command": parsed.cmd}
    if kind == "read":
        action.update(name=parsed.name or "", path=parsed.path or "")
    elif kind == "listFiles":
        action["path"] = parsed.path
    elif kind == "search":
        action.update(query=parsed.query, path=parsed.path)
    return action


def _file_change(path: str, change: FileChange) -> JsonObj:
    if isinstance(change, AddFileChange):
        return {"path": path, "kind": {"type": "add"}, "diff": change.content}
    if isinstance(change, DeleteFileChange):
        return {"path": path, "kind": {"type": "delete"}, "diff": change.content}
    return {"path": path, "kind": {"type": "update", "move_path": change.move_path}, "diff": change.unified_diff}


def _mcp(item: McpToolCallTurnItem) -> McpToolCallItem:
    result = None
    if item.result is not None:
        raw = item.result
        result = {
            "content": raw.get("content", []),
            "structuredContent": raw.get("structuredContent", raw.get("structured_content")),
            "_meta": raw.get("_meta"),
        }
    return McpToolCallItem(
        id=item.id,
        server=item.server,
        tool=item.tool,
        status=_status(item.status),
        arguments=item.arguments,
        result=result,
        error={"message": item.error.message} if item.error is not None else None,
        duration_ms=item.duration.total_ms() if item.duration is not None else None,
    )


def _search_action(action: JsonObj | None) -> JsonObj | None:
    if not action:
        return None
    kind = action.get("type")
    if kind == "search":
        return {"type": "search", "query": action.get("query"), "queries": action.get("queries")}
    if kind == "open_page":
        return {"type": "openPage", "url": action.get("url")}
    if kind == "find_in_page":
        return {"type": "findInPage", "url": action.get("url"), "pattern": action.get("pattern")}
    return {"type": "other"}


def _path_of(cwd: str) -> str:
    """Core items carry the cwd as a file:// URI (as Codex 0.163); v2 wants the path."""
    if cwd.startswith("file://"):
        return unquote(urlparse(cwd).path)
    return cwd


def core_user_input(part: JsonObj) -> UserInput:
    """A v2 `UserInput` (from `turn/start`) as the engine's; ValueError naming what is wrong."""
    kind = part.get("type")
    if kind == "text" and isinstance(part.get("text"), str):
        return TextInput(text=part["text"])
    if kind == "image" and isinstance(part.get("url"), str):
        return ImageInput(image_url=part["url"])
    if kind == "localImage" and isinstance(part.get("path"), str):
        return LocalImageInput(path=part["path"])
    if kind == "skill" and isinstance(part.get("name"), str) and isinstance(part.get("path"), str):
        return SkillInput(name=part["name"], path=part["path"])
    raise ValueError(f"unsupported input item: {msgspec.json.encode(part).decode()[:200]}")
