"""The names MCP tools are offered under: Codex's rule (qualify_tools in
codex-rs/core/src/mcp_connection_manager.rs)."""

from __future__ import annotations

import hashlib

from pycodex.mcp.naming import MAX_TOOL_NAME_BYTES, qualified_name, qualify_tools, valid_server_name


def test_plain_names_are_prefixed_and_joined() -> None:
    assert qualified_name("echo", "echo") == "mcp__echo__echo"


def test_disallowed_characters_become_underscores() -> None:
    assert qualified_name("my.server", "get file/é") == "mcp__my_server__get_file__"


def test_long_names_keep_64_bytes_ending_in_the_sha1_of_the_raw_name() -> None:
    tool = "t." * 40  # sanitised differs from raw: the hash is of the raw name
    name = qualified_name("srv", tool)
    digest = hashlib.sha1(f"mcp__srv__{tool}".encode()).hexdigest()
    assert len(name) == MAX_TOOL_NAME_BYTES
    assert name == ("mcp__srv__" + "t_" * 40)[: MAX_TOOL_NAME_BYTES - 40] + digest


def test_a_collision_after_sanitising_drops_the_second_tool() -> None:
    tools, dropped = qualify_tools([("s", "a.b"), ("s", "a_b"), ("s", "c"), ("s", "c")])
    assert [(t.qualified, t.tool) for t in tools] == [("mcp__s__a_b", "a.b"), ("mcp__s__c", "c")]
    assert len(dropped) == 2 and "`s/a_b`" in dropped[0]


def test_server_names_are_checked() -> None:
    assert valid_server_name("my-server_1")
    assert not valid_server_name("my server")
