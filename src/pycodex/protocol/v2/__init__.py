"""The app-server's v2 protocol (camelCase JSON-RPC payloads) — the shapes IDEs, SDKs and
the TUI read. Renderings of the engine's core types live here so every front end that
speaks v2 renders an item the same way."""
