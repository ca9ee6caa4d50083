"""A small stdio MCP server for the tests, built with the official SDK's server API.

Run as `python -m tests.support.mcp_fixture_server`. The environment picks its
behaviour at start-up:

- `MCP_FIXTURE_MODE=never_start`: never answers (reads nothing), to test start-up timeouts;
  `fail_start`: prints a reason on stderr and exits 3 before the handshake.
- `MCP_FIXTURE_PID_FILE`: where to write its pid (to check it is reaped).

Tools cover the result shapes and failure modes: `echo` (plain, no annotations),
`peek` (read-only), `fail` (isError), `hang` (never returns), `crash` (exits mid-call),
`image`, `mixed` (text, resource link, embedded resource), `structured`, `ask`
(elicits from the client). One resource and one resource template.
"""

import asyncio
import os
import subprocess
import sys
from typing import Any

import mcp_types as types
from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel

# A 1x1 PNG.
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class Confirm(BaseModel):
    ok: bool


def build() -> Any:
    server = MCPServer("fixture", version="0.0.1")

    @server.tool(description="Echo the given text back.", structured_output=False)
    def echo(text: str) -> str:
        return f"echo: {text}"

    @server.tool(
        description="Look without touching.",
        annotations=types.ToolAnnotations(read_only_hint=True),
        structured_output=False,
    )
    def peek(text: str) -> str:
        return f"peeked: {text}"

    @server.tool(description="Always fails.")
    def fail(message: str) -> types.CallToolResult:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=f"failed: {message}")], is_error=True
        )

    @server.tool(description="Never returns.", structured_output=False)
    async def hang() -> str:
        await asyncio.Event().wait()
        return "unreachable"

    @server.tool(description="The server dies while answering.", structured_output=False)
    def crash() -> str:
        sys.stderr.write("fixture: crashing on purpose\n")
        sys.stderr.flush()
        os._exit(7)

    @server.tool(description="Starts a long-lived child process; writes its pid.", structured_output=False)
    def spawn_child(pid_file: str) -> str:
        child = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL)
        with open(pid_file, "w") as fh:
            fh.write(str(child.pid))
        return f"started {child.pid}"

    @server.tool(description="A tiny image.")
    def image() -> types.CallToolResult:
        return types.CallToolResult(
            content=[types.ImageContent(type="image", data=PNG_B64, mime_type="image/png")]
        )

    @server.tool(description="Text, a resource link and an embedded resource.")
    def mixed() -> types.CallToolResult:
        return types.CallToolResult(
            content=[
                types.TextContent(type="text", text="see below"),
                types.ResourceLink(type="resource_link", uri="fixture://greeting", name="greeting"),
                types.EmbeddedResource(
                    type="resource",
                    resource=types.TextResourceContents(uri="fixture://note", text="a note"),
                ),
            ]
        )

    @server.tool(description="Structured output.")
    def structured() -> types.CallToolResult:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text='{"answer": 42}')],
            structured_content={"answer": 42},
        )

    @server.tool(description="Asks the user to confirm.", structured_output=False)
    async def ask(ctx: Context) -> str:
        result = await ctx.elicit("Proceed?", Confirm)
        return f"elicitation: {result.action}"

    @server.resource("fixture://greeting", name="greeting", mime_type="text/plain")
    def greeting() -> str:
        return "hello from the fixture"

    @server.resource("fixture://item/{item_id}", name="item")
    def item(item_id: str) -> str:
        return f"item {item_id}"

    return server


def main() -> None:
    mode = os.environ.get("MCP_FIXTURE_MODE", "")
    if pid_file := os.environ.get("MCP_FIXTURE_PID_FILE"):
        with open(pid_file, "w") as fh:
            fh.write(str(os.getpid()))
    if mode == "fail_start":
        sys.stderr.write("fixture: cannot start: missing FIXTURE_TOKEN\n")
        sys.exit(3)
    if mode == "never_start":
        asyncio.run(asyncio.Event().wait())
    build().run("stdio")


if __name__ == "__main__":
    main()
