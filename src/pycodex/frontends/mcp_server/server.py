"""The mcp SDK's low-level server, serving `codex` and `codex-reply` over stdio.

While a tool runs, each line of the turn's progress goes to the caller twice: as
`notifications/progress` (when the call carried a progress token) and as a
`notifications/message` log entry `{threadId, message}` (logger `pycodex`, at or above
the level the client set with `logging/setLevel`; `info` by default). The engine's
approval requests become `elicitation/create` requests (a yes/no form) for clients that
declared elicitation, and so do the questions of the thread's MCP servers (their own form
or URL, or an empty form approving an MCP tool's call). A bad argument is answered as a tool error (`isError: true`)
naming it. Calls run concurrently (the SDK handles each request in its own task); a call
the client cancels interrupts its turn.
"""

from __future__ import annotations

import asyncio
import uuid
import warnings
from collections.abc import Mapping
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPDeprecationWarning

from pycodex import __version__
from pycodex.frontends.mcp_server.runner import Level, Threads, TurnResult
from pycodex.frontends.mcp_server.tools import (
    OUTPUT_SCHEMA,
    TOOLS,
    ToolArgumentError,
    parse_codex,
    parse_reply,
)
from pycodex.mcp.elicitation import (
    EMPTY_FORM,
    ElicitationRequest,
    ElicitationResponse,
    form_schema,
    tool_approval_question,
)

LOGGER = "pycodex"
_LEVELS: tuple[types.LoggingLevel, ...] = (
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency",
)

APPROVAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "approve": {"type": "boolean", "title": "Approve", "description": "Allow this action.",
                    "default": True},
    },
}


class _LogLevel:
    """The least severe level the client wants to hear (`logging/setLevel`)."""

    def __init__(self) -> None:
        self.minimum: types.LoggingLevel = "info"

    def wants(self, level: types.LoggingLevel) -> bool:
        return _LEVELS.index(level) >= _LEVELS.index(self.minimum)


class _CallReporter:
    """Progress and approvals of one `tools/call`, through its request context."""

    def __init__(self, ctx: Any, log_level: _LogLevel) -> None:
        self._ctx = ctx
        self._log_level = log_level
        self._step = 0

    async def progress(self, thread_id: str, message: str, level: Level = "info") -> None:
        self._step += 1
        session = self._ctx.session
        try:  # the caller went away: the turn goes on regardless (or is interrupted)
            await session.report_progress(self._step, None, message)
            if self._log_level.wants(level):
                await session.send_log_message(level, {"threadId": thread_id, "message": message},
                                               logger=LOGGER, related_request_id=self._ctx.request_id)
        except Exception:
            return

    def _can_elicit(self) -> bool:
        wanted = types.ClientCapabilities(elicitation=types.ElicitationCapability())
        return bool(self._ctx.session.check_client_capability(wanted))

    async def approve(self, question: str) -> bool | None:
        if not self._can_elicit():
            return None
        try:
            result = await self._ctx.session.elicit_form(question, APPROVAL_SCHEMA,
                                                         related_request_id=self._ctx.request_id)
        except Exception:  # an error answer, or the client went away: no approval
            return False
        if result.action != "accept":
            return False
        return (result.content or {}).get("approve", True) is not False

    async def elicit(self, request: ElicitationRequest) -> ElicitationResponse | None:
        if not self._can_elicit():
            return None
        session, related = self._ctx.session, self._ctx.request_id
        try:
            if request.kind == "tool_approval":
                result = await session.elicit_form(tool_approval_question(request), EMPTY_FORM,
                                                   related_request_id=related)
            elif request.url is not None:
                result = await session.elicit_url(request.message, request.url, str(uuid.uuid4()),
                                                  related_request_id=related)
            else:
                result = await session.elicit_form(request.message, form_schema(request.requested_schema),
                                                   related_request_id=related)
        except Exception:  # an error answer, or the client went away: declined
            return ElicitationResponse(action="decline")
        return ElicitationResponse(action=result.action, content=result.content)


def _result(outcome: TurnResult) -> types.CallToolResult:
    text = outcome.content if outcome.error is None else f"{outcome.error}\n{outcome.content}".strip()
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content={"threadId": outcome.thread_id, "content": outcome.content},
        is_error=outcome.error is not None,
    )


def _tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def build_server(threads: Threads) -> Server[Any]:
    log_level = _LogLevel()

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[
            types.Tool(name=name, title=title, description=description, input_schema=schema,
                       output_schema=OUTPUT_SCHEMA)
            for name, title, description, schema in TOOLS
        ])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        reporter = _CallReporter(ctx, log_level)
        try:
            if params.name == "codex":
                return _result(await threads.start(parse_codex(params.arguments), reporter))
            if params.name == "codex-reply":
                return _result(await threads.reply(parse_reply(params.arguments), reporter))
        except ToolArgumentError as exc:
            return _tool_error(f"{params.name}: {exc}")
        return _tool_error(f"unknown tool {params.name!r}: this server has codex and codex-reply")

    async def set_level(ctx: Any, params: types.SetLevelRequestParams) -> types.EmptyResult:
        log_level.minimum = params.level
        return types.EmptyResult()

    return Server(
        "pycodex-mcp-server",
        version=__version__,
        title="pycodex",
        instructions="Run coding tasks with pycodex: `codex` starts a thread, `codex-reply` continues it.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        # Deprecated by the 2026-07-28 protocol (logs become a per-request opt-in, which the
        # SDK applies), still what clients of 2025 versions use to choose a level.
        on_set_logging_level=set_level,
    )


async def serve(env: Mapping[str, str]) -> None:
    # The SDK warns (on stderr) each time the logging capability is used.
    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)
    threads = Threads(env)
    server = build_server(threads)
    try:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
    finally:
        await threads.close()


def run(env: Mapping[str, str]) -> int:
    try:
        asyncio.run(serve(env))
    except KeyboardInterrupt:
        return 130
    return 0
