"""The OTLP side: an SDK `LoggerProvider` with a batch processor (export runs on its
worker thread, never on a turn), flushed at exit; `traces.py` uses the same sender and
guard for spans.

The exporters are small ones of pycodex's own over the official encoders
(`opentelemetry-exporter-otlp-proto-common`) and service stubs (`opentelemetry-proto`):
one attempt per batch with a short timeout, no retry loop with backoff sleeps. The first
failure prints one warning and turns the exporter off for the rest of the run, so an
unreachable collector costs one failed connection, not a slower turn or exit.
"""

from __future__ import annotations

import atexit
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.resources import Resource

from pycodex.telemetry.settings import OtelSettings

EXPORT_TIMEOUT_S = 5.0
SCOPE = "codex_otel"


class Sender:
    """One OTLP export request (an encoded logs or traces request); raises on any failure."""

    def __init__(self, settings: OtelSettings, signal: Literal["logs", "traces"] = "logs") -> None:
        self.settings = settings
        self.signal = signal
        self._grpc: Any = None

    def send(self, request: Any) -> None:
        if self.settings.exporter == "otlp-grpc":
            self._send_grpc(request)
        elif self.settings.protocol == "json":
            from google.protobuf import json_format

            body = json_format.MessageToJson(request).encode()
            self._post(body, "application/json")
        else:
            self._post(request.SerializeToString(), "application/x-protobuf")

    def _post(self, body: bytes, content_type: str) -> None:
        import urllib.request

        headers = {**self.settings.headers, "content-type": content_type}
        req = urllib.request.Request(self.settings.endpoint, data=body, headers=headers)
        with urllib.request.urlopen(req, timeout=EXPORT_TIMEOUT_S) as response:
            response.read()

    def _send_grpc(self, request: Any) -> None:
        if self._grpc is None:
            import grpc
            from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc

            target = self.settings.endpoint.split("://", 1)[-1].rstrip("/")
            secure = self.settings.endpoint.startswith("https://")
            channel = (grpc.secure_channel(target, grpc.ssl_channel_credentials()) if secure
                       else grpc.insecure_channel(target))
            if self.signal == "traces":
                from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

                self._grpc = trace_service_pb2_grpc.TraceServiceStub(channel)  # type: ignore[no-untyped-call]
            else:
                self._grpc = logs_service_pb2_grpc.LogsServiceStub(channel)  # type: ignore[no-untyped-call]
        metadata = tuple(self.settings.headers.items())
        self._grpc.Export(request, timeout=EXPORT_TIMEOUT_S, metadata=metadata)


class ExportGuard:
    """Lets exports run until the first failure, then warns once and refuses the rest."""

    def __init__(self, endpoint: str) -> None:
        self._endpoint = endpoint
        self._dead = threading.Event()

    def run(self, export: Callable[[], None]) -> bool:
        if self._dead.is_set():
            return False
        try:
            export()
        except Exception as exc:
            self._dead.set()
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            sys.stderr.write(
                f"warning: OpenTelemetry export to {self._endpoint} failed ({reason}); "
                "telemetry is off for the rest of this run\n"
            )
            return False
        return True

    def stop(self) -> None:
        self._dead.set()


class GuardedExporter(LogRecordExporter):
    """Exports until the first failure, then warns once and drops everything."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender
        self._guard = ExportGuard(sender.settings.endpoint)

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        ok = self._guard.run(lambda: self._sender.send(encode_logs(batch)))
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        self._guard.stop()

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        return True  # nothing is buffered here


class OtlpSink:
    """A `Sink` (see events.py) that emits OTel log records."""

    def __init__(self, settings: OtelSettings, service_name: str, version: str) -> None:
        resource = Resource.create({
            "service.name": service_name,
            "service.version": version,
            "env": settings.environment,
        })
        # Our own exit hook (below) flushes: one place that decides how exit ends export.
        self._provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
        self._processor = BatchLogRecordProcessor(
            GuardedExporter(Sender(settings)), schedule_delay_millis=1000
        )
        self._provider.add_log_record_processor(self._processor)
        self._logger = self._provider.get_logger(SCOPE, version)
        atexit.register(self.close)

    def emit(self, name: str, attributes: Mapping[str, Any]) -> None:
        self._logger.emit(body=name, attributes=dict(attributes), event_name=name)

    def close(self) -> None:
        """Export what is queued (bounded by the exporter's timeout), then stop."""
        self._provider.shutdown()
