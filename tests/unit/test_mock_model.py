"""The mock model server itself: recording, FIFO scripting, loud failure when unscripted."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from tests.support.mock_model import (
    MockModelServer,
    chat_text,
    drop,
    http_error,
    message,
    response,
)


def _post(server: MockModelServer, path: str, body: object) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(
            "POST", path, body=json.dumps(body),
            headers={"Content-Type": "application/json", "X-Test": "yes"},
        )
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_records_requests_and_streams_sse(mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("All done.")))
    status, body = _post(mock_model, "/v1/responses?api-version=1", {"model": "m", "input": []})
    assert status == 200
    text = body.decode()
    assert text.startswith('event: response.created\ndata: {"type": "response.created"')
    assert '"delta": "All "' in text and '"delta": "done."' in text
    assert text.endswith("}}}\n\n")  # response.completed with usage, like the captures
    [req] = mock_model.requests
    assert (req.method, req.path, req.query) == ("POST", "/v1/responses", {"api-version": "1"})
    assert req.headers["x-test"] == "yes"
    assert req.body == {"model": "m", "input": []}
    assert json.loads(req.raw) == req.body


def test_replies_are_fifo_and_empty_queue_is_500(mock_model: MockModelServer) -> None:
    mock_model.enqueue(http_error(400), chat_text("hi"))
    assert _post(mock_model, "/v1/responses", {})[0] == 400
    status, body = _post(mock_model, "/v1/chat/completions", {})
    assert status == 200 and body.endswith(b"data: [DONE]\n\n")
    status, body = _post(mock_model, "/v1/responses", {})
    assert (status, body) == (500, b"mock: no scripted reply left")
    assert _post(mock_model, "/v1/other", {})[0] == 404
    mock_model.wait_for_requests(4, timeout=1)
    with pytest.raises(TimeoutError):
        mock_model.wait_for_requests(5, timeout=0.05)


def test_drop_is_an_incomplete_body(mock_model: MockModelServer) -> None:
    mock_model.enqueue(drop())
    conn = http.client.HTTPConnection("127.0.0.1", mock_model.port, timeout=5)
    conn.request("POST", "/v1/responses", body=b"{}")
    resp = conn.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()


def test_close_joins_threads_even_with_idle_keepalive_connection() -> None:
    before = threading.active_count()
    server = MockModelServer().start()
    server.enqueue(response(message("x")))
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("POST", "/v1/responses", body=b"{}")
    conn.getresponse().read()  # connection stays open (keep-alive)
    server.close()
    conn.close()
    assert threading.active_count() == before
