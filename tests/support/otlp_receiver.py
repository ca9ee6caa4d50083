"""A local OTLP receiver for logs and traces: OTLP/HTTP (protobuf or JSON; `/v1/logs`,
`/v1/traces`) and OTLP/gRPC (both services), decoding every payload with the official
protobuf definitions (`opentelemetry-proto`).

    with OtlpReceiver("http") as rx:         # or "grpc"
        ...  # point [otel] at rx.endpoint (logs) and rx.traces_endpoint
        rx.events()  -> [{"event.name": ..., <attributes>, "_resource": {...}}, ...]
        rx.spans()   -> [{"_name", "_trace_id", "_span_id", "_parent", "_status", <attributes>}, ...]
"""

from __future__ import annotations

import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1 import trace_pb2


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind) if kind else None



#: The exporter kinds of `[otel]`, each as (the receiver's transport, its config table with
#: {e} = endpoint and {h} = headers), and the headers every test exporter sends.
EXPORTERS = {
    "http-binary": ("http", 'otlp-http = {{ endpoint = "{e}", protocol = "binary", {h} }}'),
    "http-json": ("http", 'otlp-http = {{ endpoint = "{e}", protocol = "json", {h} }}'),
    "grpc": ("grpc", 'otlp-grpc = {{ endpoint = "{e}", {h} }}'),
}
HEADERS = 'headers = { "x-otlp-api-key" = "${OTLP_TOKEN}" }'

class OtlpReceiver:
    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.requests: list[logs_service_pb2.ExportLogsServiceRequest] = []
        self.trace_requests: list[trace_service_pb2.ExportTraceServiceRequest] = []
        self.headers: list[dict[str, str]] = []
        self.content_types: list[str] = []
        self._lock = threading.Lock()
        self.endpoint = ""
        self._http: ThreadingHTTPServer | None = None
        self._grpc: Any = None

    def record(self, request: Any, headers: dict[str, str], content_type: str) -> None:
        if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
            with self._lock:
                self.trace_requests.append(request)
            return
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers)
            self.content_types.append(content_type)

    def __enter__(self) -> OtlpReceiver:
        if self.transport == "grpc":
            import grpc

            server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
            logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Servicer(self), server)
            trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceServicer(self), server)
            port = server.add_insecure_port("127.0.0.1:0")
            server.start()
            self._grpc = server
            self.endpoint = self.traces_endpoint = f"http://127.0.0.1:{port}"
        else:
            http = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            http.daemon_threads = True
            http.owner = self  # type: ignore[attr-defined]
            threading.Thread(target=http.serve_forever, daemon=True).start()
            self._http = http
            self.endpoint = f"http://127.0.0.1:{http.server_address[1]}/v1/logs"
            self.traces_endpoint = f"http://127.0.0.1:{http.server_address[1]}/v1/traces"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._grpc is not None:
            self._grpc.stop(grace=None)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    def events(self) -> list[dict[str, Any]]:
        """Every log record received, as its attributes plus `_resource` and `_body`."""
        out: list[dict[str, Any]] = []
        with self._lock:
            requests = list(self.requests)
        for request in requests:
            for rl in request.resource_logs:
                resource = {kv.key: _value(kv.value) for kv in rl.resource.attributes}
                for sl in rl.scope_logs:
                    for rec in sl.log_records:
                        attrs = {kv.key: _value(kv.value) for kv in rec.attributes}
                        out.append({**attrs, "_resource": resource, "_body": _value(rec.body),
                                    "_scope": sl.scope.name})
        return out


    def spans(self) -> list[dict[str, Any]]:
        """Every span received: its attributes plus `_name`, `_trace_id`, `_span_id`,
        `_parent` (span id or ""), `_status` (the status code's name) and `_resource`."""
        out: list[dict[str, Any]] = []
        with self._lock:
            requests = list(self.trace_requests)
        for request in requests:
            for rs in request.resource_spans:
                resource = {kv.key: _value(kv.value) for kv in rs.resource.attributes}
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        attrs = {kv.key: _value(kv.value) for kv in span.attributes}
                        out.append({**attrs, "_name": span.name, "_trace_id": span.trace_id.hex(),
                                    "_span_id": span.span_id.hex(), "_parent": span.parent_span_id.hex(),
                                    "_status": trace_pb2.Status.StatusCode.Name(span.status.code),
                                    "_start": span.start_time_unix_nano, "_end": span.end_time_unix_nano,
                                    "_resource": resource})
        return out


class _TraceServicer(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, owner: OtlpReceiver) -> None:
        self.owner = owner

    def Export(self, request: Any, context: Any) -> Any:
        metadata = {k: v for k, v in context.invocation_metadata()}
        self.owner.record(request, metadata, "application/grpc")
        return trace_service_pb2.ExportTraceServiceResponse()


class _Servicer(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, owner: OtlpReceiver) -> None:
        self.owner = owner

    def Export(self, request: Any, context: Any) -> Any:
        metadata = {k: v for k, v in context.invocation_metadata()}
        self.owner.record(request, metadata, "application/grpc")
        return logs_service_pb2.ExportLogsServiceResponse()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        owner: OtlpReceiver = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        content_type = self.headers.get("content-type", "")
        request: Any = (trace_service_pb2.ExportTraceServiceRequest() if self.path.endswith("/v1/traces")
                        else logs_service_pb2.ExportLogsServiceRequest())
        if "json" in content_type:
            json_format.Parse(body, request)
        else:
            request.ParseFromString(body)
        owner.record(request, {k.lower(): v for k, v in self.headers.items()}, content_type)
        self.send_response(200)
        self.send_header("Content-Type", content_type or "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
