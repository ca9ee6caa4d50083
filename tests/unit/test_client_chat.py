"""ModelClient over Chat Completions: same events as the Responses path, message building."""

from __future__ import annotations

import json

from pycodex.client import (
    Completed,
    Created,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    Prompt,
    ReasoningContentDelta,
    StreamRetry,
    TokenUsage,
)
from pycodex.client.chat import build_messages, convert_tools
from pycodex.protocol.models import (
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputImage,
    InputText,
    MessageItem,
    ReasoningItem,
    assistant_message,
    developer_message,
    user_message,
)
from tests.support.mock_model import (
    MockModelServer,
    chat_sse,
    chat_text,
    chat_text_cut_after_finish,
    chat_tool_calls,
)
from tests.support.model_client import RecordingSleep, collect, make_client

APPLY_PATCH = {"type": "custom", "name": "apply_patch", "description": "edit files",
               "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"}}
EXEC = {"type": "function", "name": "exec_command", "description": "run", "strict": False,
        "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}}


async def test_text_stream_and_usage(mock_model: MockModelServer) -> None:
    mock_model.enqueue(chat_text("Hello there", reasoning="thinking"))
    async with make_client(mock_model.url, wire_api="chat") as client:
        events = await collect(client)
    assert isinstance(events[0], Created)
    assert "".join(e.delta for e in events if isinstance(e, OutputTextDelta)) == "Hello there"
    assert "".join(e.delta for e in events if isinstance(e, ReasoningContentDelta)) == "thinking"
    added = [e.item for e in events if isinstance(e, OutputItemAdded)]
    assert [type(i) for i in added] == [ReasoningItem, MessageItem]
    done = [e.item for e in events if isinstance(e, OutputItemDone)]
    assert isinstance(done[0], ReasoningItem) and done[0].content and done[0].content[0].text == "thinking"
    assert isinstance(done[1], MessageItem) and done[1].role == "assistant" and done[1].text() == "Hello there"
    assert events[-1] == Completed(
        response_id="chatcmpl-mock",
        token_usage=TokenUsage(input_tokens=100, cached_input_tokens=20, output_tokens=10,
                               reasoning_output_tokens=3, total_tokens=110),
    )
    req = mock_model.requests[0]
    assert req.path == "/v1/chat/completions"
    assert req.body["stream"] is True and req.body["stream_options"] == {"include_usage": True}
    assert req.headers["authorization"] == "Bearer x"


async def test_parallel_tool_calls_split_over_chunks_and_custom_conversion(mock_model: MockModelServer) -> None:
    mock_model.enqueue(chat_tool_calls([
        ("call_1", "exec_command", json.dumps({"cmd": "echo hi"})),
        ("call_2", "apply_patch", json.dumps({"input": "*** Begin Patch\n*** End Patch"})),
    ]))
    p = Prompt(input=[user_message("go")], tools=[EXEC, APPLY_PATCH, {"type": "web_search"}])
    async with make_client(mock_model.url, wire_api="chat") as client:
        events = await collect(client, p)
    done = [e.item for e in events if isinstance(e, OutputItemDone)]
    assert done == [
        FunctionCallItem(call_id="call_1", name="exec_command", arguments='{"cmd": "echo hi"}'),
        CustomToolCallItem(call_id="call_2", name="apply_patch", input="*** Begin Patch\n*** End Patch"),
    ]
    assert isinstance(events[-1], Completed)
    body = mock_model.requests[0].body
    assert body["tools"] == [
        {"type": "function", "function": {"name": "exec_command", "description": "run",
                                          "parameters": EXEC["parameters"]}},
        {"type": "function", "function": {"name": "apply_patch", "description": "edit files", "parameters": {
            "type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]}}},
    ]


def test_build_messages_from_history() -> None:
    history = [
        developer_message("base"),
        user_message("look"),
        MessageItem(role="user", content=[InputText(text="img:"), InputImage(image_url="data:image/png;base64,AA")]),
        ReasoningItem(encrypted_content="E"),
        FunctionCallItem(name="exec_command", arguments='{"cmd":"a"}', call_id="c1"),
        FunctionCallItem(name="exec_command", arguments='{"cmd":"b"}', call_id="c2"),
        FunctionCallOutputItem(call_id="c1", output="out a"),
        FunctionCallOutputItem(call_id="c2", output="out b"),
        CustomToolCallItem(name="apply_patch", input="PATCH", call_id="c3"),
        CustomToolCallOutputItem(call_id="c3", output="ok"),
        assistant_message("done"),
    ]
    assert build_messages(history) == [
        {"role": "system", "content": "base"},
        {"role": "user", "content": "look"},
        {"role": "user", "content": [
            {"type": "text", "text": "img:"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
        ]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "exec_command", "arguments": '{"cmd":"a"}'}},
            {"id": "c2", "type": "function", "function": {"name": "exec_command", "arguments": '{"cmd":"b"}'}},
        ]},
        {"role": "tool", "tool_call_id": "c1", "content": "out a"},
        {"role": "tool", "tool_call_id": "c2", "content": "out b"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c3", "type": "function", "function": {"name": "apply_patch", "arguments": '{"input": "PATCH"}'}},
        ]},
        {"role": "tool", "tool_call_id": "c3", "content": "ok"},
        {"role": "assistant", "content": "done"},
    ]


def test_images_in_tool_results_follow_the_tool_messages_as_a_user_message() -> None:
    """Chat servers accept only text in `tool` messages, and nothing between an
    assistant's calls and their results: the images come after the last result."""
    image = InputImage(image_url="data:image/png;base64,AA", detail="high")
    history = [
        FunctionCallItem(name="view_image", arguments='{"path":"a.png"}', call_id="c1"),
        FunctionCallItem(name="exec_command", arguments='{"cmd":"ls"}', call_id="c2"),
        FunctionCallOutputItem(call_id="c1", output=[image]),
        FunctionCallOutputItem(call_id="c2", output="a.png"),
        assistant_message("it is red"),
    ]
    messages = build_messages(history)
    assert messages[1:] == [
        {"role": "tool", "tool_call_id": "c1", "content": "(the image is attached in the next message)"},
        {"role": "tool", "tool_call_id": "c2", "content": "a.png"},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]},
        {"role": "assistant", "content": "it is red"},
    ]
    # At the end of the history too (the request that shows the model its image).
    assert build_messages(history[:4])[-1]["role"] == "user"


def test_convert_tools_drops_responses_only_types() -> None:
    tools, custom = convert_tools([EXEC, APPLY_PATCH, {"type": "web_search"}, {"type": "tool_search"}])
    assert [t["function"]["name"] for t in tools] == ["exec_command", "apply_patch"]
    assert custom == {"apply_patch"}


async def test_stream_without_done_after_finish_is_complete(mock_model: MockModelServer) -> None:
    chunk = {"id": "c", "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}
    mock_model.enqueue(chat_sse([chunk], done=False))
    async with make_client(mock_model.url, wire_api="chat") as client:
        events = await collect(client)
    assert events[-1] == Completed(response_id="c", token_usage=None)
    assert any(isinstance(e, OutputItemDone) for e in events)


async def test_stream_cut_after_finish_reason_hands_out_no_finished_item(
    mock_model: MockModelServer,
) -> None:
    # finish_reason came, then the connection dropped before [DONE]: the message is not
    # complete, and handing it out as done would show it next to the retried answer.
    mock_model.enqueue(chat_text_cut_after_finish("half"), chat_text("whole"))
    async with make_client(mock_model.url, wire_api="chat", stream_max_retries=1,
                           sleep=RecordingSleep()) as client:
        events = await collect(client)
    [retry] = [i for i, e in enumerate(events) if isinstance(e, StreamRetry)]
    cut, retried = events[:retry], events[retry + 1:]
    assert "".join(e.delta for e in cut if isinstance(e, OutputTextDelta)) == "half"
    assert not any(isinstance(e, OutputItemDone | Completed) for e in cut)
    done = [e.item for e in retried if isinstance(e, OutputItemDone)]
    assert len(done) == 1 and isinstance(done[0], MessageItem) and done[0].text() == "whole"
    assert isinstance(retried[-1], Completed) and len(mock_model.requests) == 2
