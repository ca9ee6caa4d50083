"""OpenTelemetry events (Codex's `codex.*` catalogue) and their OTLP exporters.

Nothing here imports opentelemetry until `[otel]` in config.toml enables an exporter:
`settings` and `session` are plain Python; `export` loads the SDK.
"""
