"""MCP client: the `[mcp_servers.<name>]` servers a session connects to.

Nothing here imports the `mcp` SDK at module level: it is loaded by
:mod:`pycodex.mcp.connection` only when a session actually starts a server, so a run
without MCP servers never pays for it (nor for pydantic, which it pulls in).
"""
