"""The mcp SDK's low-level server, serving `codex` and `codex-reply` over stdio.

While a tool runs, the turn's progress goes to the caller as `notifications/progress`
(when the call carried a progress token), and the engine's approval requests become
`elicitation/create` requests (a yes/no form) for clients that declared elicitation.
A bad argument is answered as a tool error (`isError: true`) naming it. Calls run
concurrently (the SDK handles each request in its own task).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from pycodex import __version__
from pycodex.frontends.mcp_server.runner import Threads, TurnResult
from pycodex.frontends.mcp_server.tools import (
    OUTPUT_SCHEMA,
    TOOLS,
    ToolArgumentError,
    parse_codex,
    parse_reply,
)

_APPROVAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "approve": {"type": "boolean", "title": "Approve", "description": "Allow this action.",
                    "default": True},
    },
}


class _CallReporter:
    """Progress and approvals of one `tools/call`, through its request context."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self._step = 0

    async def progress(self, message: str) -> None:
        self._step += 1
        try:
            await self._ctx.session.report_progress(self._step, None, message)
        except Exception:  # the caller went away: the turn goes on to its end regardless
            return

    async def approve(self, question: str) -> bool | None:
        session = self._ctx.session
        wanted = types.ClientCapabilities(elicitation=types.ElicitationCapability())
        if not session.check_client_capability(wanted):
            return None
        try:
            result = await session.elicit_form(question, _APPROVAL_SCHEMA, related_request_id=self._ctx.request_id)
        except Exception:  # an error answer, or the client went away: no approval
            return False
        if result.action != "accept":
            return False
        return (result.content or {}).get("approve", True) is not False


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
    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[
            types.Tool(name=name, title=title, description=description, input_schema=schema,
                       output_schema=OUTPUT_SCHEMA)
            for name, title, description, schema in TOOLS
        ])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        reporter = _CallReporter(ctx)
        try:
            if params.name == "codex":
                return _result(await threads.start(parse_codex(params.arguments), reporter))
            if params.name == "codex-reply":
                return _result(await threads.reply(parse_reply(params.arguments), reporter))
        except ToolArgumentError as exc:
            return _tool_error(f"{params.name}: {exc}")
        return _tool_error(f"unknown tool {params.name!r}: this server has codex and codex-reply")

    return Server(
        "pycodex-mcp-server",
        version=__version__,
        title="pycodex",
        instructions="Run coding tasks with pycodex: `codex` starts a thread, `codex-reply` continues it.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve(env: Mapping[str, str]) -> None:
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
