"""OpenTelemetry traces: a span per turn, with a child span per model request and per tool
call (`[otel] trace_exporter`, shaped like `exporter`).

Spans are built from what the session already reports (the engine's events and the model
client's request observer), with their real start and end times, so tracing adds no hook
to the turn itself: a turn that is traced runs the same code as one that is not. Export is
the logs' machinery (a batch processor on its own thread, one attempt per batch, the first
failure warns once and turns export off), flushed at exit.

    codex.turn            conversation.id, turn.id, model; status ERROR when aborted
    ├─ codex.api_request  attempt, http.response.status_code, error.message
    └─ codex.tool_call    tool_name, call_id, success
"""

from __future__ import annotations

import atexit
import time
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Span, Status, StatusCode

from pycodex.telemetry.export import SCOPE, ExportGuard, Sender
from pycodex.telemetry.settings import OtelSettings


class GuardedSpanExporter(SpanExporter):
    def __init__(self, sender: Sender) -> None:
        self._sender = sender
        self._guard = ExportGuard(sender.settings.endpoint)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        ok = self._guard.run(lambda: self._sender.send(encode_spans(spans)))
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self._guard.stop()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True  # nothing is buffered here


class OtlpTracer:
    """One OTLP trace pipeline per process, shared by its threads."""

    def __init__(self, settings: OtelSettings, service_name: str, version: str) -> None:
        resource = Resource.create({
            "service.name": service_name, "service.version": version, "env": settings.environment,
        })
        self._provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        self._provider.add_span_processor(
            BatchSpanProcessor(GuardedSpanExporter(Sender(settings, "traces")), schedule_delay_millis=1000)
        )
        self.tracer = self._provider.get_tracer(SCOPE, version)
        atexit.register(self.close)

    def close(self) -> None:
        self._provider.shutdown()


class SpanRecorder:
    """The spans of one thread, from its events (see the module docstring)."""

    def __init__(self, tracer: OtlpTracer, common: Mapping[str, Any]) -> None:
        self._tracer = tracer.tracer
        self._common = dict(common)
        self._turn: Span | None = None
        self._tools: dict[str, Span] = {}

    def _start(self, name: str, attributes: Mapping[str, Any], start_ns: int | None = None) -> Span:
        context = trace.set_span_in_context(self._turn) if self._turn is not None else None
        attrs = {**self._common, **{k: v for k, v in attributes.items() if v is not None}}
        return self._tracer.start_span(name, context=context, attributes=attrs, start_time=start_ns)

    def on_event(self, msg: Any) -> None:
        kind = getattr(msg, "type", "")
        if kind == "task_started":
            self._end_turn(error=None)
            self._turn = None  # a new root, not a child of the last turn
            self._turn = self._start("codex.turn", {"turn.id": getattr(msg, "turn_id", None)})
        elif kind in ("task_complete", "turn_aborted"):
            reason = getattr(msg, "reason", None)
            self._end_turn(error=f"turn aborted: {getattr(reason, 'value', reason)}" if kind == "turn_aborted" else None)
        elif kind in ("exec_command_begin", "patch_apply_begin", "mcp_tool_call_begin"):
            tool = _tool_name(msg)
            self._tools[msg.call_id] = self._start("codex.tool_call", {"tool_name": tool, "call_id": msg.call_id})
        elif kind in ("exec_command_end", "patch_apply_end", "mcp_tool_call_end"):
            span = self._tools.pop(msg.call_id, None)
            if span is not None:
                success = _succeeded(kind, msg)
                span.set_attribute("success", "true" if success else "false")
                if not success:
                    span.set_status(Status(StatusCode.ERROR))
                span.end()

    def api_request(self, *, attempt: int, duration_ms: int, status: int | None, error: str | None) -> None:
        end_ns = time.time_ns()
        span = self._start("codex.api_request", {
            "attempt": attempt, "http.response.status_code": status, "error.message": error,
        }, start_ns=end_ns - duration_ms * 1_000_000)
        if error is not None or (status is not None and status >= 400):
            span.set_status(Status(StatusCode.ERROR, error))
        span.end(end_time=end_ns)

    def _end_turn(self, error: str | None) -> None:
        for span in self._tools.values():  # calls the turn never finished
            span.end()
        self._tools.clear()
        if self._turn is None:
            return
        if error is not None:
            self._turn.set_status(Status(StatusCode.ERROR, error))
        self._turn.end()
        self._turn = None


def _tool_name(msg: Any) -> str:
    kind = msg.type
    if kind == "exec_command_begin":
        return "exec_command" if getattr(msg, "process_id", None) else "shell"
    if kind == "patch_apply_begin":
        return "apply_patch"
    inv = msg.invocation
    return f"mcp__{getattr(inv, 'server', '')}__{getattr(inv, 'tool', '')}"


def _succeeded(kind: str, msg: Any) -> bool:
    if kind == "exec_command_end":
        return bool(msg.exit_code == 0)
    if kind == "patch_apply_end":
        return bool(msg.success)
    return bool(msg.is_success())
