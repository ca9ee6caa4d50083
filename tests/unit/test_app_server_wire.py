"""The wire layer: message shapes and key order as Codex writes them, classification of
what a client sends, params errors in serde's words, and the listen URL grammar."""

from __future__ import annotations

import json

import pytest

from pycodex.frontends.app_server import jsonrpc
from pycodex.frontends.app_server.errors import RpcError, overloaded
from pycodex.frontends.app_server.listen import (
    ListenUrlError,
    Stdio,
    UnixSocket,
    WebSocket,
    parse_listen_url,
)
from pycodex.frontends.app_server.params import InitializeParams, ThreadStartParams
from pycodex.frontends.app_server.validation import decode_params


def test_outgoing_messages_have_codex_key_order_and_no_jsonrpc_field() -> None:
    assert jsonrpc.encode_response(1, {}) == b'{"id":1,"result":{}}'
    assert jsonrpc.encode_error("a", overloaded()) == (
        b'{"error":{"code":-32001,"message":"Server overloaded; retry later."},"id":"a"}'
    )
    assert jsonrpc.encode_notification("x/y", {"k": 1}, 5) == (
        b'{"method":"x/y","params":{"k":1},"emittedAtMs":5}'
    )
    assert jsonrpc.encode_request(0, "a/b", None) == b'{"method":"a/b","id":0}'


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"jsonrpc":"2.0","id":"u","method":"m","params":{}}',
         jsonrpc.Request(id="u", method="m", params={})),
        ('{"method":"initialized"}', jsonrpc.Notification(method="initialized")),
        ('{"id":3,"result":null}', jsonrpc.Response(id=3, result=None)),
        ('{"id":3,"error":{"code":1,"message":"m"}}',
         jsonrpc.ErrorResponse(id=3, error=jsonrpc.ErrorObject(code=1, message="m"))),
    ],
)
def test_incoming_messages_are_classified(raw: str, expected: jsonrpc.Message) -> None:
    assert jsonrpc.decode_message(raw.encode()) == expected


@pytest.mark.parametrize(
    "raw",
    [b"[1]", b'{"id":true,"method":"m"}', b'{"method":5}', b'{"id":1}', b"\xff{}", b"{"],
)
def test_what_is_not_a_message_is_malformed(raw: bytes) -> None:
    with pytest.raises(jsonrpc.MalformedMessage):
        jsonrpc.decode_message(raw)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cwd": 123}, "Invalid request: invalid type: integer `123`, expected a string"),
        ({"cwd": True}, "Invalid request: invalid type: boolean `true`, expected a string"),
        ({"ephemeral": "yes"}, 'Invalid request: invalid type: string "yes", expected a boolean'),
        ([1], "Invalid request: invalid type: sequence, expected a map"),
    ],
)
def test_params_errors_use_serde_wording(params: object, message: str) -> None:
    with pytest.raises(RpcError) as error:
        decode_params(params, ThreadStartParams)
    assert (error.value.code, error.value.message) == (-32600, message)


def test_missing_nested_field_is_named() -> None:
    with pytest.raises(RpcError) as error:
        decode_params({"clientInfo": {"name": "n"}}, InitializeParams)
    assert error.value.message == "Invalid request: missing field `version`"


def test_unknown_params_keys_are_ignored_and_camel_case_is_read() -> None:
    params = decode_params(
        {"clientInfo": {"name": "n", "version": "1"}, "capabilities": {"experimentalApi": True},
         "futureField": 1},
        InitializeParams,
    )
    assert params.capabilities is not None and params.capabilities.experimental_api
    assert json.dumps(params.client_info.name) == '"n"'


def test_listen_urls() -> None:
    assert parse_listen_url("stdio://") == Stdio()
    assert parse_listen_url("ws://127.0.0.1:0") == WebSocket("127.0.0.1", 0)
    assert parse_listen_url("ws://[::1]:80") == WebSocket("::1", 80)
    assert parse_listen_url("unix://") == UnixSocket(None)
    for bad in ("ws://localhost:1", "ws://127.0.0.1", "http://x", "off"):
        with pytest.raises(ListenUrlError):
            parse_listen_url(bad)
