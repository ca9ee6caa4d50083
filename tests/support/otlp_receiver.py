"""A local OTLP logs receiver: OTLP/HTTP (protobuf or JSON) and OTLP/gRPC, decoding every
payload with the official protobuf definitions (`opentelemetry-proto`).

    with OtlpReceiver("http") as rx:         # or "grpc"
        ...  # point [otel] at rx.endpoint
        rx.events()  -> [{"event.name": ..., <attributes>, "_resource": {...}}, ...]
"""

from __future__ import annotations

import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind) if kind else None


class OtlpReceiver:
    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.requests: list[logs_service_pb2.ExportLogsServiceRequest] = []
        self.headers: list[dict[str, str]] = []
        self.content_types: list[str] = []
        self._lock = threading.Lock()
        self.endpoint = ""
        self._http: ThreadingHTTPServer | None = None
        self._grpc: Any = None

    def record(self, request: Any, headers: dict[str, str], content_type: str) -> None:
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers)
            self.content_types.append(content_type)

    def __enter__(self) -> OtlpReceiver:
        if self.transport == "grpc":
            import grpc

            server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
            logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Servicer(self), server)
            port = server.add_insecure_port("127.0.0.1:0")
            server.start()
            self._grpc = server
            self.endpoint = f"http://127.0.0.1:{port}"
        else:
            http = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            http.daemon_threads = True
            http.owner = self  # type: ignore[attr-defined]
            threading.Thread(target=http.serve_forever, daemon=True).start()
            self._http = http
            self.endpoint = f"http://127.0.0.1:{http.server_address[1]}/v1/logs"
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
        request = logs_service_pb2.ExportLogsServiceRequest()
        if "json" in content_type:
            json_format.Parse(body, request)
        else:
            request.ParseFromString(body)
        owner.record(request, {k.lower(): v for k, v in self.headers.items()}, content_type)
        self.send_response(200)
        self.send_header("Content-Type", content_type or "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
