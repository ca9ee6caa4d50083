"""A scripted mock of the model provider (Responses API and Chat Completions) on loopback.

It is a *real* HTTP server (``ThreadingHTTPServer`` in a background thread) so the code under
test goes through real sockets, real chunked streaming and real connection failures — the
same path the installed CLI takes when a subprocess is pointed at :attr:`MockModelServer.url`.

Usage::

    with MockModelServer() as server:
        server.enqueue(response(message("hi")), http_error(500))
        ...  # point a client at server.url
        assert server.requests[0].body["model"] == "gpt-5.5"

Each POST to ``/v1/responses`` or ``/v1/chat/completions`` consumes the next scripted
:class:`Reply` (FIFO). An empty queue answers HTTP 500 ``mock: no scripted reply left`` so a
test that makes one request too many fails loudly. Other paths answer 404.

``/v1/responses/compact`` (OpenAI's remote compaction) has a queue of its own,
:meth:`MockModelServer.enqueue_compact` (see :func:`compacted`); while it is empty the
endpoint answers 404, like a provider or gateway that does not have it.

SSE bodies mirror ``shared/reference/responses-sse/*.sse`` byte for byte in layout:
``event: <type>\\ndata: <json with ", " / ": " separators>\\n\\n``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "DEFAULT_CHAT_USAGE",
    "DEFAULT_USAGE",
    "MockModelServer",
    "RecordedRequest",
    "Reply",
    "chat_sse",
    "chat_text",
    "chat_text_cut_after_finish",
    "chat_tool_calls",
    "compacted",
    "compaction_item",
    "custom_tool_call",
    "drop",
    "failed",
    "function_call",
    "hang",
    "http_error",
    "local_shell_call",
    "message",
    "reasoning",
    "response",
    "sse",
    "web_search_call",
]

# The usage every reference capture reports (see shared/reference/README.md).
DEFAULT_USAGE: dict[str, Any] = {
    "input_tokens": 100,
    "input_tokens_details": {"cached_tokens": 20},
    "output_tokens": 10,
    "output_tokens_details": {"reasoning_tokens": 3},
    "total_tokens": 110,
}
DEFAULT_CHAT_USAGE: dict[str, Any] = {
    "prompt_tokens": 100,
    "completion_tokens": 10,
    "total_tokens": 110,
    "prompt_tokens_details": {"cached_tokens": 20},
    "completion_tokens_details": {"reasoning_tokens": 3},
}

# ChatGPT's backend too (`<chatgpt_base_url>/codex/responses`, with chatgpt_base_url =
# `<root>/backend-api`): where the built-in provider goes when signed in with ChatGPT.
MODEL_PATHS = ("/v1/responses", "/v1/chat/completions", "/backend-api/codex/responses")
COMPACT_PATH = "/v1/responses/compact"
NO_REPLY_LEFT = b"mock: no scripted reply left"


# --- replies -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Write:
    data: bytes


@dataclass(frozen=True)
class _Pause:
    seconds: float
    keepalive_s: float | None = None  # send ": keepalive" comments this often while paused


_Step = _Write | _Pause


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer.

    ``streaming`` replies use chunked transfer encoding and write ``steps`` as they come;
    ``abort`` closes the socket after the steps without the terminating chunk, which the
    client sees as a connection dropped mid-body. Non-streaming replies send the joined
    bytes with a Content-Length.
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    steps: tuple[_Step, ...] = ()
    streaming: bool = True
    abort: bool = False
    content_type: str = "text/event-stream"


ReplySource = Reply | Callable[["RecordedRequest"], Reply]


def _sse_event(event: dict[str, Any]) -> bytes:
    # json.dumps' default separators match the reference captures exactly.
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def _header_tuple(headers: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple((headers or {}).items())


def sse(
    events: list[dict[str, Any]],
    *,
    delay_s: float = 0,
    drop_after: int | None = None,
    keepalive_s: float | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Raw Responses-API SSE: each event dict (with a ``type``) becomes one SSE event.

    ``delay_s`` pauses before every event after the first (sending ``: keepalive``
    comments every ``keepalive_s`` meanwhile); ``drop_after=n`` sends only the first ``n``
    events and then drops the connection.
    """
    steps: list[_Step] = []
    chosen = events if drop_after is None else events[:drop_after]
    for index, event in enumerate(chosen):
        if index and delay_s > 0:
            steps.append(_Pause(delay_s, keepalive_s))
        steps.append(_Write(_sse_event(event)))
    return Reply(
        headers=_header_tuple(headers), steps=tuple(steps), abort=drop_after is not None
    )


# --- output items ---------------------------------------------------------------------------

def message(text: str, *, id: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    return _with_id(item, id)


def reasoning(
    summary: str | Sequence[str] = "", *, encrypted: str | None = "ENC", id: str | None = None
) -> dict[str, Any]:
    parts = [summary] if isinstance(summary, str) else list(summary)
    item: dict[str, Any] = {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": p} for p in parts if p],
    }
    if encrypted is not None:
        item["encrypted_content"] = encrypted
    return _with_id(item, id)


def function_call(
    name: str,
    arguments: dict[str, Any] | str,
    call_id: str = "call_1",
    *,
    namespace: str | None = None,
    id: str | None = None,
) -> dict[str, Any]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    item: dict[str, Any] = {"type": "function_call", "call_id": call_id, "name": name}
    if namespace is not None:
        item["namespace"] = namespace
    item["arguments"] = args
    return _with_id(item, id)


def custom_tool_call(
    name: str, input: str, call_id: str = "call_1", *, id: str | None = None
) -> dict[str, Any]:
    item = {"type": "custom_tool_call", "call_id": call_id, "name": name, "input": input}
    return _with_id(item, id)


def web_search_call(query: str, *, id: str | None = None) -> dict[str, Any]:
    item = {
        "type": "web_search_call",
        "status": "completed",
        "action": {"type": "search", "query": query},
    }
    return _with_id(item, id)


def local_shell_call(argv: list[str], call_id: str = "call_1", *, id: str | None = None) -> dict[str, Any]:
    item = {
        "type": "local_shell_call",
        "call_id": call_id,
        "status": "completed",
        "action": {"type": "exec", "command": list(argv)},
    }
    return _with_id(item, id)


def _with_id(item: dict[str, Any], id: str | None) -> dict[str, Any]:
    return {"id": id, **item} if id is not None else item


_ID_PREFIX = {
    "message": "msg",
    "reasoning": "rs",
    "function_call": "fc",
    "custom_tool_call": "ctc",
    "web_search_call": "ws",
    "local_shell_call": "lsh",
}


def _halves(text: str) -> list[str]:
    # Two deltas, like the reference captures, so clients must concatenate.
    if len(text) < 2:
        return [text] if text else []
    mid = len(text) // 2
    return [text[:mid], text[mid:]]


def _item_events(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    kind = item.get("type", "")
    item = {"type": kind, "id": f"{_ID_PREFIX.get(kind, 'item')}_{index + 1}", **item}
    item_id = item["id"]
    out: list[dict[str, Any]] = []
    if kind == "message":
        added = {**item, "content": []}
    elif kind == "reasoning":
        added = {**item, "summary": []}
    else:
        added = item
    out.append({"type": "response.output_item.added", "output_index": index, "item": added})
    if kind == "message":
        text = "".join(p.get("text", "") for p in item.get("content", []))
        for piece in _halves(text):
            out.append({
                "type": "response.output_text.delta", "output_index": index,
                "content_index": 0, "item_id": item_id, "delta": piece,
            })
    elif kind == "reasoning":
        for s_index, part in enumerate(item.get("summary", [])):
            common = {"output_index": index, "item_id": item_id, "summary_index": s_index}
            out.append({
                "type": "response.reasoning_summary_part.added", **common,
                "part": {"type": "summary_text", "text": ""},
            })
            for piece in _halves(part["text"]):
                out.append({"type": "response.reasoning_summary_text.delta", **common, "delta": piece})
            out.append({"type": "response.reasoning_summary_text.done", **common, "text": part["text"]})
    elif kind == "custom_tool_call":
        for piece in _halves(item.get("input", "")):
            out.append({
                "type": "response.custom_tool_call_input.delta", "output_index": index,
                "item_id": item_id, "delta": piece,
            })
    out.append({"type": "response.output_item.done", "output_index": index, "item": item})
    return out


def response_events(
    *items: dict[str, Any], usage: dict[str, Any] | None = DEFAULT_USAGE, response_id: str = "resp_1"
) -> list[dict[str, Any]]:
    """The event list :func:`response` streams (useful to build variations with :func:`sse`)."""
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {"id": response_id}},
        {"type": "response.in_progress", "response": {"id": response_id}},
    ]
    for index, item in enumerate(items):
        events.extend(_item_events(index, item))
    completed: dict[str, Any] = {"id": response_id}
    if usage is not None:
        completed["usage"] = usage
    events.append({"type": "response.completed", "response": completed})
    return events


def response(
    *items: dict[str, Any],
    usage: dict[str, Any] | None = DEFAULT_USAGE,
    response_id: str = "resp_1",
    headers: dict[str, str] | None = None,
) -> Reply:
    """A complete, successful Responses-API stream carrying ``items`` in order."""
    return sse(response_events(*items, usage=usage, response_id=response_id), headers=headers)


def failed(
    message: str,
    code: str | None = "server_error",
    *,
    response_id: str = "resp_1",
    headers: dict[str, str] | None = None,
) -> Reply:
    error: dict[str, Any] = {"code": code, "message": message} if code else {"message": message}
    return sse(
        [
            {"type": "response.created", "response": {"id": response_id}},
            {
                "type": "response.failed",
                "response": {"id": response_id, "status": "failed", "error": error},
            },
        ],
        headers=headers,
    )


def http_error(
    status: int,
    body: dict[str, Any] | str | bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """A non-streaming error answer; the default body mirrors ``http_error_body.json``."""
    if body is None:
        body = {"error": {"message": f"mock HTTP {status}", "type": "server_error", "code": "mock_error"}}
    content_type = "application/json"
    if isinstance(body, dict):
        raw = json.dumps(body).encode()
    elif isinstance(body, str):
        raw = body.encode()
        content_type = "text/plain; charset=utf-8"
    else:
        raw = body
    return Reply(
        status=status,
        headers=_header_tuple(headers),
        steps=(_Write(raw),),
        streaming=False,
        content_type=content_type,
    )


def drop(*, headers: dict[str, str] | None = None) -> Reply:
    """Status and headers, then the connection closes: no event, no ``response.completed``."""
    return Reply(headers=_header_tuple(headers), abort=True)


def hang(
    *, keepalive_s: float | None = None, total_s: float = 30.0, response_id: str = "resp_1"
) -> Reply:
    """``response.created``, then silence (or ``: keepalive`` comments) for ``total_s``, then
    a dropped connection. Closing the server ends the hang early."""
    created = _sse_event({"type": "response.created", "response": {"id": response_id}})
    return Reply(steps=(_Write(created), _Pause(total_s, keepalive_s)), abort=True)


# --- remote compaction ----------------------------------------------------------------------

def compaction_item(encrypted_content: str = "ENCRYPTED_COMPACTION") -> dict[str, Any]:
    """The opaque item a `/responses/compact` answer carries."""
    return {"type": "compaction", "encrypted_content": encrypted_content}


def compacted(*output: dict[str, Any], usage: dict[str, Any] | None = DEFAULT_USAGE) -> Reply:
    """A `/responses/compact` answer: a JSON `response.compaction` object with `output`."""
    body: dict[str, Any] = {
        "id": "resp_compact_1", "object": "response.compaction", "created_at": 1700000000,
        "output": list(output),
    }
    if usage is not None:
        body["usage"] = usage
    return Reply(steps=(_Write(json.dumps(body).encode()),), streaming=False,
                 content_type="application/json")


# --- chat completions ---------------------------------------------------------------------

def _chat_chunk(delta: dict[str, Any] | None, finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "mock-model",
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish_reason}],
    }


def _chat_usage_chunk(usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "mock-model",
        "choices": [],
        "usage": usage,
    }


def chat_sse(chunks: list[dict[str, Any]], *, done: bool = True, headers: dict[str, str] | None = None) -> Reply:
    """Raw Chat Completions stream: ``data: <chunk>`` per chunk, then ``data: [DONE]``."""
    steps: list[_Step] = [_Write(f"data: {json.dumps(c)}\n\n".encode()) for c in chunks]
    if done:
        steps.append(_Write(b"data: [DONE]\n\n"))
    return Reply(headers=_header_tuple(headers), steps=tuple(steps))


def chat_text(
    text: str, *, usage: dict[str, Any] | None = DEFAULT_CHAT_USAGE, reasoning: str | None = None
) -> Reply:
    chunks = [_chat_chunk({"role": "assistant", "content": ""})]
    if reasoning:
        chunks += [_chat_chunk({"reasoning_content": piece}) for piece in _halves(reasoning)]
    chunks += [_chat_chunk({"content": piece}) for piece in _halves(text)]
    chunks.append(_chat_chunk({}, "stop"))
    if usage is not None:
        chunks.append(_chat_usage_chunk(usage))
    return chat_sse(chunks)


def chat_text_cut_after_finish(text: str) -> Reply:
    """:func:`chat_text` cut short: the chunks up to the one with ``finish_reason``, then
    the connection drops (no usage chunk, no ``[DONE]``, no terminating HTTP chunk)."""
    chunks = [_chat_chunk({"role": "assistant", "content": ""})]
    chunks += [_chat_chunk({"content": piece}) for piece in _halves(text)]
    chunks.append(_chat_chunk({}, "stop"))
    steps = tuple(_Write(f"data: {json.dumps(c)}\n\n".encode()) for c in chunks)
    return Reply(steps=steps, abort=True)


def chat_tool_calls(
    calls: Iterable[tuple[str, str, str]], *, usage: dict[str, Any] | None = DEFAULT_CHAT_USAGE
) -> Reply:
    """Streams ``(call_id, name, arguments_json)`` calls the way OpenAI does: the first
    fragment carries index/id/name, later fragments only index + argument pieces."""
    chunks = [_chat_chunk({"role": "assistant", "content": None})]
    for index, (call_id, name, args) in enumerate(calls):
        chunks.append(_chat_chunk({"tool_calls": [{
            "index": index, "id": call_id, "type": "function",
            "function": {"name": name, "arguments": ""},
        }]}))
        for piece in _halves(args):
            chunks.append(_chat_chunk({"tool_calls": [{
                "index": index, "function": {"arguments": piece},
            }]}))
    chunks.append(_chat_chunk({}, "tool_calls"))
    if usage is not None:
        chunks.append(_chat_usage_chunk(usage))
    return chat_sse(chunks)


# --- the server ---------------------------------------------------------------------------

@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw: bytes = field(repr=False)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle + delayed ACK every reply
    # would cost ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        split = urlsplit(self.path)
        raw = self._read_body()
        limit = self.server.owner.max_parsed_body_bytes
        try:
            body: Any = json.loads(raw) if raw and (limit is None or len(raw) <= limit) else None
        except ValueError:
            body = None
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw=raw,
        )
        owner = self.server.owner
        if self.command == "POST" and split.path in MODEL_PATHS:
            reply = owner._take_reply(request)
        elif self.command == "POST" and split.path == COMPACT_PATH and owner._compact_queue:
            reply = owner._take_reply(request, owner._compact_queue)
        else:
            reply = Reply(status=404, steps=(_Write(b"mock: not found"),), streaming=False,
                          content_type="text/plain")
        owner._record(request)
        try:
            self._send(reply)
        except OSError:
            # The client went away (idle timeout, cancelled test): nothing left to do.
            self.close_connection = True

    def _send(self, reply: Reply) -> None:
        stop = self.server.owner._closing
        self.send_response(reply.status)
        self.send_header("content-type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        if not reply.streaming:
            payload = b"".join(s.data for s in reply.steps if isinstance(s, _Write))
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
            if reply.abort:
                self._abort()
            return
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        for step in reply.steps:
            if stop.is_set():
                break
            if isinstance(step, _Write):
                self._chunk(step.data)
            else:
                self._pause(step)
        if reply.abort or stop.is_set():
            self._abort()
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def _pause(self, step: _Pause) -> None:
        stop = self.server.owner._closing
        deadline = time.monotonic() + step.seconds
        while (left := deadline - time.monotonic()) > 0:
            wait = min(left, step.keepalive_s) if step.keepalive_s else left
            if stop.wait(wait):
                return
            if step.keepalive_s and deadline - time.monotonic() > 0:
                self._chunk(b": keepalive\n\n")

    def _abort(self) -> None:
        self.close_connection = True
        self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    # Non-daemon handler threads are joined by server_close(): close() leaks no thread.
    daemon_threads = False
    block_on_close = True
    # socketserver's default backlog is 5: twenty engine threads connecting at once would
    # see refused or reset connections, which is not what the tests are about.
    request_queue_size = 128
    owner: MockModelServer

    def process_request(self, request: Any, client_address: Any) -> None:
        self.owner._track(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.owner._untrack(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients resetting connections (timeouts, retries) is routine here, not an error.
        import sys

        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class MockModelServer:
    """See the module docstring. Thread-safe; usable from sync and async tests."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: deque[ReplySource] = deque()
        self._compact_queue: deque[ReplySource] = deque()
        self._cond = threading.Condition()
        self._closing = threading.Event()
        self._conns: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        # Bodies larger than this are kept raw only (`body` None): a benchmark sending a
        # 100 MB history must not time the mock's own JSON parsing. None: parse all.
        self.max_parsed_body_bytes: int | None = None

    # lifecycle
    def start(self) -> MockModelServer:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        self._server = server
        port = server.server_address[1]
        self.url = f"http://127.0.0.1:{port}/v1"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"mock-model-{port}", daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is None:
            return
        self._closing.set()
        self._server.shutdown()
        # Idle keep-alive connections would otherwise keep handler threads blocked in recv.
        with self._cond:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> MockModelServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/")[0])

    # scripting
    def enqueue(self, *replies: ReplySource) -> None:
        """Queue replies (FIFO). A callable receives the request and returns the reply."""
        with self._cond:
            self._queue.extend(replies)

    def enqueue_compact(self, *replies: ReplySource) -> None:
        """Queue answers of `/v1/responses/compact` (which answers 404 while none is queued)."""
        with self._cond:
            self._compact_queue.extend(replies)

    def compact_requests(self) -> list[RecordedRequest]:
        """The requests that hit `/v1/responses/compact` (answered or 404)."""
        return [r for r in self.requests if r.path == COMPACT_PATH]

    @property
    def pending(self) -> int:
        """Scripted replies not consumed yet."""
        with self._cond:
            return len(self._queue)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= n, timeout):
                raise TimeoutError(f"mock: expected {n} requests, got {len(self.requests)}")

    def model_requests(self) -> list[RecordedRequest]:
        """Only the requests that hit a model endpoint."""
        return [r for r in self.requests if r.path in MODEL_PATHS]

    # handler callbacks
    def _take_reply(self, request: RecordedRequest, queue: deque[ReplySource] | None = None) -> Reply:
        queue = self._queue if queue is None else queue
        with self._cond:
            source = queue.popleft() if queue else None
        if source is None:
            return Reply(status=500, steps=(_Write(NO_REPLY_LEFT),), streaming=False,
                         content_type="text/plain")
        return source(request) if callable(source) else source

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()

    def _track(self, conn: socket.socket) -> None:
        with self._cond:
            self._conns.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._cond:
            self._conns.discard(conn)
