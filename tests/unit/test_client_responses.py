"""ModelClient over the Responses API against the real mock server: events and request shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pycodex import __version__
from pycodex.client import (
    Completed,
    Created,
    CustomToolCallInputDelta,
    ModelSettings,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    Prompt,
    RateLimits,
    ReasoningSummaryDelta,
    ReasoningSummaryPartAdded,
    TokenUsage,
    WebSearchCallBegin,
)
from pycodex.client.headers import user_agent
from pycodex.protocol.models import (
    CustomToolCallItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    MessageItem,
    ReasoningItem,
    WebSearchCallItem,
    developer_message,
    user_message,
)
from tests.support.mock_model import (
    MockModelServer,
    custom_tool_call,
    function_call,
    message,
    reasoning,
    response,
    sse,
    web_search_call,
)
from tests.support.model_client import THREAD_ID, collect, make_client, prompt

REFERENCE = Path("/work/shared/reference")


def _done_items(events: list[object]) -> list[object]:
    return [e.item for e in events if isinstance(e, OutputItemDone)]


async def test_text_message_events_and_usage(mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("All done.")))
    async with make_client(mock_model.url) as client:
        events = await collect(client)
    assert isinstance(events[0], Created)
    assert isinstance(events[1], OutputItemAdded)
    deltas = [e for e in events if isinstance(e, OutputTextDelta)]
    assert "".join(d.delta for d in deltas) == "All done."
    assert all(d.item_id == "msg_1" for d in deltas)
    [item] = _done_items(events)
    assert isinstance(item, MessageItem) and item.text() == "All done."
    assert events[-1] == Completed(
        response_id="resp_1",
        token_usage=TokenUsage(
            input_tokens=100, cached_input_tokens=20, output_tokens=10,
            reasoning_output_tokens=3, total_tokens=110,
        ),
    )


async def test_reference_capture_reasoning_stream(mock_model: MockModelServer) -> None:
    # The exact bytes Codex 0.163.0 accepted (shared/reference/responses-sse/).
    from tests.support.mock_model import Reply, _Write

    raw = (REFERENCE / "responses-sse/reasoning.step0.sse").read_bytes()
    mock_model.enqueue(Reply(steps=(_Write(raw),)))
    async with make_client(mock_model.url) as client:
        events = await collect(client)
    assert ReasoningSummaryPartAdded(summary_index=0) in events
    assert ReasoningSummaryDelta(delta="**Thinking** about the answer", summary_index=0) in events
    rs, msg = _done_items(events)
    assert isinstance(rs, ReasoningItem) and rs.encrypted_content == "ENCRYPTED"
    assert rs.summary[0].text == "**Thinking** about the answer"
    assert isinstance(msg, MessageItem) and msg.text() == "Reasoned answer."
    assert isinstance(events[-1], Completed) and events[-1].response_id == "resp_0"


async def test_reasoning_function_and_custom_calls(mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(
        reasoning("**Plan** it", encrypted="ENC"),
        function_call("exec_command", {"cmd": "ls"}, call_id="call_a"),
        custom_tool_call("apply_patch", "*** Begin Patch\n*** End Patch", call_id="call_b"),
        web_search_call("codex cli"),
    ))
    async with make_client(mock_model.url) as client:
        events = await collect(client)
    rs, fc, ctc, ws = _done_items(events)
    assert isinstance(rs, ReasoningItem) and rs.encrypted_content == "ENC"
    assert "".join(e.delta for e in events if isinstance(e, ReasoningSummaryDelta)) == "**Plan** it"
    assert isinstance(fc, FunctionCallItem)
    assert (fc.name, fc.call_id, json.loads(fc.arguments)) == ("exec_command", "call_a", {"cmd": "ls"})
    assert isinstance(ctc, CustomToolCallItem) and ctc.input == "*** Begin Patch\n*** End Patch"
    custom_deltas = [e for e in events if isinstance(e, CustomToolCallInputDelta)]
    assert "".join(d.delta for d in custom_deltas) == ctc.input
    assert isinstance(ws, WebSearchCallItem) and ws.action == {"type": "search", "query": "codex cli"}
    assert WebSearchCallBegin(call_id="ws_4") in events


async def test_two_messages_in_one_response(mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("First message."), message("Second message.")))
    async with make_client(mock_model.url) as client:
        events = await collect(client)
    texts = [i.text() for i in _done_items(events) if isinstance(i, MessageItem)]
    assert texts == ["First message.", "Second message."]
    first = [e.delta for e in events if isinstance(e, OutputTextDelta) and e.item_id == "msg_1"]
    assert "".join(first) == "First message."


async def test_request_body_and_headers(mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("ok")))
    history = [
        developer_message("base instructions"),
        user_message("do it"),
        FunctionCallItem(id="fc_1", name="exec_command", arguments='{"cmd":"ls"}', call_id="c1"),
        FunctionCallOutputItem(call_id="c1", output="done"),
    ]
    tools = [{"type": "function", "name": "exec_command", "strict": False, "parameters": {"type": "object"}}]
    env = {"MOCK_KEY": "secret", "TERM": "xterm", "ORG_ENV": "org-1", "EMPTY_ENV": ""}
    client = make_client(
        mock_model.url, env=env,
        http_headers={"X-Fixed": "fixed"},
        env_http_headers={"OpenAI-Organization": "ORG_ENV", "X-Empty": "EMPTY_ENV", "X-Unset": "NOPE"},
        query_params={"api-version": "2025-04-01-preview"},
    )
    client.reasoning_effort, client.verbosity = "medium", "low"
    async with client:
        await collect(client, Prompt(input=history, tools=tools))
    [req] = mock_model.requests
    assert req.path == "/v1/responses"
    assert req.query == {"api-version": "2025-04-01-preview"}
    shape = json.loads((REFERENCE / "requests/exec_shell.request2.shape.json").read_text())
    expected_keys = [k for k in shape["body"] if k != "client_metadata"]
    assert list(req.body) == expected_keys
    assert req.body["model"] == "gpt-5.5" and req.body["stream"] is True
    assert req.body["input"] == [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "base instructions"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "do it"}]},
        {"type": "function_call", "id": "fc_1", "name": "exec_command", "arguments": '{"cmd":"ls"}', "call_id": "c1"},
        {"type": "function_call_output", "call_id": "c1", "output": "done"},
    ]
    assert req.body["tools"] == tools
    assert req.body["tool_choice"] == "auto" and req.body["parallel_tool_calls"] is True
    assert req.body["reasoning"] == {"effort": "medium"}
    assert req.body["store"] is False
    assert req.body["include"] == ["reasoning.encrypted_content"]
    assert req.body["prompt_cache_key"] == THREAD_ID
    assert req.body["text"] == {"verbosity": "low"}
    assert "instructions" not in req.body and "previous_response_id" not in req.body

    h = req.headers
    assert h["authorization"] == "Bearer secret"
    assert h["originator"] == "codex_exec"
    assert h["session-id"] == h["thread-id"] == h["x-client-request-id"] == THREAD_ID
    assert h["accept"] == "text/event-stream" and h["content-type"] == "application/json"
    assert h["x-fixed"] == "fixed" and h["openai-organization"] == "org-1"
    assert "x-empty" not in h and "x-unset" not in h
    pattern = rf"codex_exec/{re.escape(__version__)} \([^;()]+ [\d.]+; [^)]+\) xterm \(codex_exec; {re.escape(__version__)}\)"
    assert re.fullmatch(pattern, h["user-agent"]), h["user-agent"]


def test_user_agent_shape_matches_reference() -> None:
    shape = json.loads((REFERENCE / "requests/exec_shell.request1.shape.json").read_text())
    ref = shape["headers"]["user-agent"]  # codex_exec/0.163.0 (Debian 12.0.0; x86_64) xterm (...)
    ours = user_agent("codex_exec", "0.163.0", {"TERM": "xterm"})
    strip = re.compile(r"\([^;]+;")  # the OS part differs per machine
    assert strip.sub("(OS;", ours).split(";")[0] == strip.sub("(OS;", ref).split(";")[0]
    assert ours.endswith(ref.split(")", 1)[1])
    assert user_agent("o", "1", {"TERM_PROGRAM": "vscode", "TERM_PROGRAM_VERSION": "1.9"}).count("vscode/1.9") == 1


async def test_reasoning_summary_output_schema_and_settings_override(mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("{}")), response(message("{}")))
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    client = make_client(mock_model.url)
    client.reasoning_effort, client.reasoning_summary = "high", "auto"
    async with client:
        await collect(client, prompt(output_schema=schema))
        await collect(client, prompt(settings=ModelSettings(model="other", reasoning_summary="none")))
    first, second = (r.body for r in mock_model.requests)
    assert first["reasoning"] == {"effort": "high", "summary": "auto"}
    assert first["text"] == {
        "format": {"type": "json_schema", "strict": True, "schema": schema, "name": "codex_output_schema"}
    }
    assert second["model"] == "other"
    assert second["reasoning"] == {"effort": "high"}
    assert "text" not in second


async def test_no_reasoning_no_include(mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("x")))
    async with make_client(mock_model.url) as client:
        await collect(client)
    body = mock_model.requests[0].body
    assert "reasoning" not in body and body["include"] == []


async def test_rate_limit_headers_yield_snapshot_first(mock_model: MockModelServer) -> None:
    headers = {
        "x-codex-primary-used-percent": "12.5",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-at": "1704069000",
        "x-codex-secondary-used-percent": "40",
        "x-codex-secondary-window-minutes": "10080",
        "x-codex-secondary-reset-after-seconds": "60",
    }
    mock_model.enqueue(response(message("x"), headers=headers))
    async with make_client(mock_model.url) as client:
        events = await collect(client)
    assert isinstance(events[0], RateLimits)
    snap = events[0].snapshot
    assert snap.primary is not None and snap.secondary is not None
    assert (snap.primary.used_percent, snap.primary.window_minutes, snap.primary.resets_at) == (12.5, 300, 1704069000)
    assert snap.secondary.window_minutes == 10080 and snap.secondary.resets_at is not None
    assert isinstance(events[1], Created)


async def test_no_rate_limit_event_without_headers(mock_model: MockModelServer) -> None:
    mock_model.enqueue(sse([{"type": "response.created", "response": {"id": "r"}},
                            {"type": "response.completed", "response": {"id": "r"}}]))
    async with make_client(mock_model.url) as client:
        events = await collect(client)
    assert events == [Created(), Completed(response_id="r", token_usage=None)]


@pytest.mark.parametrize("base_url, expected", [(None, "https://api.openai.com/v1"), ("http://x/v1/", "http://x/v1")])
def test_base_url_resolution(base_url: str | None, expected: str) -> None:
    from pycodex.client.headers import resolve_base_url
    from pycodex.config.providers import ModelProviderInfo

    provider = ModelProviderInfo(name="p", base_url=base_url)
    assert resolve_base_url(provider, {}) == expected
    if base_url is None:
        assert resolve_base_url(provider, {"OPENAI_BASE_URL": "http://proxy/v1"}) == "http://proxy/v1"


async def test_a_big_request_arrives_whole_with_its_length(mock_model: MockModelServer) -> None:
    """A resumed thread can send tens of MB: it goes out in slices (not one write asyncio
    would buffer and shift), still as one body with a Content-Length, not chunked."""
    mock_model.enqueue(response(message("ok")))
    big = "x" * (3 * 1024 * 1024 + 17)
    events = await collect(make_client(mock_model.url), prompt(big))
    assert events
    [request] = mock_model.model_requests()
    assert request.headers["content-length"] == str(len(request.raw))
    assert "transfer-encoding" not in request.headers
    assert request.body["input"][0]["content"][0]["text"] == big


def test_a_plain_http_provider_loads_no_certificates() -> None:
    """Loading the CA bundle costs tens of ms before the first request; a local model on
    http:// does not need it: its wire gets no context (httpcore2 would build the default
    one only for a TLS connection, should a request ever be routed to https)."""
    import ssl

    assert make_client("http://127.0.0.1:9/v1")._tls_context() is None
    secure = make_client("https://api.example.test/v1")._tls_context()
    assert isinstance(secure, ssl.SSLContext) and secure.verify_mode == ssl.CERT_REQUIRED


def test_an_https_wire_gets_one_context_even_without_the_prewarmed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a context httpcore2 would load the CA bundle again for every connection."""
    import ssl

    from pycodex import tls
    from pycodex.client import client as client_module

    monkeypatch.setattr(client_module, "take_default_ssl_context", lambda: None)
    try:
        context = make_client("https://api.example.test/v1")._tls_context()
    finally:
        tls.take_default_ssl_context()  # the client's own prewarm: not left to later tests
    assert isinstance(context, ssl.SSLContext) and context.check_hostname
