"""`pycodex mcp-server`: pycodex as an MCP server (stdio) with the tools `codex` and
`codex-reply`.

Codex removed its MCP server in 0.154; pycodex keeps one, with the tool shapes Codex's
last server had. Layers: :mod:`.tools` (the tools' schemas and argument checking, no SDK),
:mod:`.runner` (threads and turns on the engine, no SDK), :mod:`.server` (the mcp SDK's
low-level server wired to the two).
"""
