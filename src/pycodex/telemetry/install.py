"""Telemetry for a new thread: nothing (and no import) unless `[otel]` enables an
exporter; one OTLP sink per process, shared by its threads and flushed at exit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from pycodex import __version__
from pycodex.telemetry.events import SessionTelemetry, ThreadFacts
from pycodex.telemetry.settings import OtelSettings, TelemetryConfigError, otel_settings

_PIPELINES: dict[bytes, Any] = {}
INSTALL_HINT = "pip install 'pycodex[otel]'"


class TelemetrySetup(msgspec.Struct, frozen=True):
    telemetry: SessionTelemetry | None = None
    #: For the user when `[otel]` asks for something that cannot be done.
    warning: str | None = None


def _pipeline(kind: str, settings: OtelSettings, service_name: str) -> Any:
    """The process's one exporter pipeline of `kind` ("logs" or "traces") for these
    settings, made on first use (OpenTelemetry is imported then)."""
    key = kind.encode() + msgspec.json.encode(settings) + service_name.encode()
    pipeline = _PIPELINES.get(key)
    if pipeline is None:
        if kind == "logs":
            from pycodex.telemetry.export import OtlpSink as Pipeline
        else:
            from pycodex.telemetry.traces import OtlpTracer as Pipeline  # type: ignore[assignment]
        pipeline = _PIPELINES[key] = Pipeline(settings, service_name, __version__)
    return pipeline


def _start_facts(config: Any) -> dict[str, Any]:
    fields = {
        "provider_name": config.model_provider.name,
        "reasoning_effort": config.model_reasoning_effort,
        "reasoning_summary": config.model_reasoning_summary,
        "context_window": config.model_context_window,
        "max_output_tokens": config.model_max_output_tokens,
        "auto_compact_token_limit": config.model_auto_compact_token_limit,
        "approval_policy": config.approval_policy,
        "sandbox_policy": config.sandbox_mode,
        "mcp_servers": sorted(config.mcp_servers),
        "active_profile": config.profile,
    }
    return {k: v for k, v in fields.items() if v is not None}


def telemetry_for(
    config: Any,
    env: Mapping[str, str],
    *,
    thread_id: str,
    service_name: str,
    auth_mode: str | None = None,
    account_id: str | None = None,
) -> TelemetrySetup:
    if not config.otel:
        return TelemetrySetup()
    try:
        logs = otel_settings(config.otel, env)
        traces = otel_settings(config.otel, env, "trace_exporter")
    except TelemetryConfigError as exc:
        return TelemetrySetup(warning=f"telemetry is off: {exc}")
    if logs is None and traces is None:
        return TelemetrySetup()
    try:
        sink = _pipeline("logs", logs, service_name) if logs is not None else None
        tracer = _pipeline("traces", traces, service_name) if traces is not None else None
    except ImportError as exc:
        return TelemetrySetup(
            warning=f"[otel] enables an exporter but OpenTelemetry is not installed "
            f"({exc.name}); telemetry is off. Install it with: {INSTALL_HINT}"
        )
    facts = ThreadFacts(
        conversation_id=thread_id,
        app_version=__version__,
        model=config.model,
        terminal_type=env.get("TERM_PROGRAM") or env.get("TERM") or "unknown",
        auth_mode=auth_mode,
        account_id=account_id,
        start=_start_facts(config),
    )
    spans = None
    if tracer is not None:
        from pycodex.telemetry.traces import SpanRecorder

        spans = SpanRecorder(tracer, {"conversation.id": thread_id, "model": config.model,
                                      "app.version": __version__})
    prompt_setting = logs if logs is not None else traces
    assert prompt_setting is not None
    return TelemetrySetup(SessionTelemetry(sink, facts, log_user_prompt=prompt_setting.log_user_prompt, spans=spans))
