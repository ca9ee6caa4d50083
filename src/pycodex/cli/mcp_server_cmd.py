"""`pycodex mcp-server`: pycodex as an MCP server on stdio (tools `codex`, `codex-reply`)."""

from __future__ import annotations

import os
import sys

import click


@click.command("mcp-server", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def mcp_server_command() -> None:
    """Run pycodex as an MCP server over stdio.

    Tools: `codex` (start a thread on a task: prompt, and optionally model, profile, cwd,
    approval-policy, sandbox, config, base-instructions, developer-instructions,
    compact-prompt) and `codex-reply` (prompt and threadId). Both answer
    {threadId, content}; the turn's steps are sent as progress and log notifications
    meanwhile. Approvals are asked through MCP elicitation when the client supports it,
    and denied otherwise. Codex removed its MCP server in 0.154; pycodex keeps one.
    """
    if sys.stdin.isatty():
        click.echo("pycodex mcp-server speaks MCP on stdin/stdout: start it from an MCP client.", err=True)
    from pycodex.frontends.mcp_server.server import run

    sys.exit(run(os.environ))
