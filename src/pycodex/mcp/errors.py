"""Typed failures of the MCP client."""

from __future__ import annotations


class McpError(Exception):
    """An MCP server could not answer a request (the message says which and why)."""


class McpStartupError(ConnectionError):
    """A `required = true` server did not start: the session cannot run without it.

    A `ConnectionError` (so an `OSError`): front ends already report a session that
    cannot be started for reasons outside pycodex that way, with the message as is."""
