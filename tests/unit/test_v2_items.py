"""v2 ThreadItems rendered from core turn items: exactly what Codex 0.163's app-server
sent for the same items (reference transcripts), and valid against its JSON Schema."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import msgspec
import pytest

from pycodex.protocol._wire import RustDuration
from pycodex.protocol.items import (
    AddFileChange,
    AgentMessageText,
    AgentMessageTurnItem,
    CommandExecutionTurnItem,
    ContextCompactionTurnItem,
    EnteredReviewModeTurnItem,
    ExecCommandSource,
    ExitedReviewModeTurnItem,
    FileChangeTurnItem,
    ImageViewTurnItem,
    McpToolCallTurnItem,
    ParsedCommand,
    ReasoningTurnItem,
    TurnItem,
    UpdateFileChange,
    UserMessageTurnItem,
    WebSearchTurnItem,
)
from pycodex.protocol.user_input import TextInput
from pycodex.protocol.v2.items import thread_item
from tests.support.shared import APP_SERVER_REFERENCE, APP_SERVER_SCHEMAS

REFERENCE = APP_SERVER_REFERENCE
SCHEMA = APP_SERVER_SCHEMAS / "codex_app_server_protocol.v2.schemas.json"


def _completed_items() -> dict[str, dict[str, Any]]:
    """The first `item/completed` item of each type in the reference transcripts."""
    found: dict[str, dict[str, Any]] = {}
    for name in ("session.transcript.jsonl", "session2.transcript.jsonl"):
        for line in (REFERENCE / name).read_text().splitlines():
            msg = json.loads(line).get("msg")
            if isinstance(msg, dict) and msg.get("method") == "item/completed":
                item = msg["params"]["item"]
                found.setdefault(item["type"], item)
    return found


# Core items carrying what Codex's core had for the items of the reference transcripts.
CORE_ITEMS: dict[str, TurnItem] = {
    "userMessage": UserMessageTurnItem(
        id="01a1fee3-5433-71a0-992c-5d82173a55b0", content=[TextInput(text="[[shell]] run it")]
    ),
    "commandExecution": CommandExecutionTurnItem(
        id="call_0_fc_1", process_id="8415", command=["/bin/bash", "-lc", "echo hello-from-tool"],
        cwd="file:///workspace", parsed_cmd=[ParsedCommand(type="unknown", cmd="echo hello-from-tool")],
        source=ExecCommandSource.UNIFIED_EXEC_STARTUP, status="completed",
        aggregated_output="hello-from-tool\n", exit_code=0, duration=RustDuration(secs=0, nanos=125_000),
    ),
    "agentMessage": AgentMessageTurnItem(id="msg_1", content=[AgentMessageText(text="All done.")]),
    "fileChange": FileChangeTurnItem(
        id="call_2_ctc",
        changes={
            "/workspace/existing.txt": UpdateFileChange(unified_diff="@@ -1 +1 @@\n-old line\n+new line\n"),
            "/workspace/hello.txt": AddFileChange(content="hello world\nsecond line\n"),
        },
        status="completed",
    ),
    "reasoning": ReasoningTurnItem(id="rs_1", summary_text=["**Thinking** about the answer"]),
    "mcpToolCall": McpToolCallTurnItem(
        id="call_9_fc_1", server="echo", tool="echo", arguments={"text": "ping"}, status="completed",
        result={"content": [{"type": "text", "text": "echo: ping"}], "structuredContent": None},
        duration=RustDuration(secs=0, nanos=1_400_000),
    ),
    "webSearch": WebSearchTurnItem(
        id="ws_1", query="codex cli", action={"type": "search", "query": "codex cli"}
    ),
}


@pytest.mark.parametrize("kind", sorted(CORE_ITEMS))
def test_rendered_exactly_as_codex_sent_it(kind: str) -> None:
    expected = _completed_items()[kind]
    rendered = msgspec.to_builtins(thread_item(CORE_ITEMS[kind]))
    assert rendered == expected
    # Key order too: clients diff these streams as text.
    assert list(rendered) == list(expected)


EXTRA_ITEMS: list[TurnItem] = [
    ImageViewTurnItem(id="v1", path="/w/pic.png"),
    ContextCompactionTurnItem(id="c1"),
    EnteredReviewModeTurnItem(id="r1", review="current changes"),
    ExitedReviewModeTurnItem(id="r1", review="1 finding"),
    CommandExecutionTurnItem(
        id="c2", command=["cat", "a b"], cwd="/w", status="in_progress",
        parsed_cmd=[ParsedCommand(type="read", cmd="cat 'a b'", name="a b", path="a b"),
                    ParsedCommand(type="list_files", cmd="ls", path="."),
                    ParsedCommand(type="search", cmd="rg x", query="x")],
        source=ExecCommandSource.USER_SHELL,
    ),
    McpToolCallTurnItem(id="m2", server="s", tool="t", status="failed", error=None),
]


@pytest.mark.parametrize("item", [*CORE_ITEMS.values(), *EXTRA_ITEMS], ids=lambda i: i.type)
def test_every_rendering_satisfies_the_v2_schema(item: TurnItem) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator({"$ref": "#/definitions/ThreadItem", **schema})
    validator.validate(msgspec.to_builtins(thread_item(item)))


def test_a_thread_as_codex_describes_it() -> None:
    from pycodex.protocol.v2.threads import ThreadInfo, thread_json

    lines = (REFERENCE / "session.transcript.jsonl").read_text().splitlines()
    started = next(
        m["params"]["thread"] for m in (json.loads(line).get("msg") for line in lines)
        if isinstance(m, dict) and m.get("method") == "thread/started"
    )
    info = ThreadInfo(
        id=started["id"], cwd="/workspace", model_provider="mock", model="gpt-5.5",
        created_at=started["createdAt"], updated_at=started["updatedAt"], path=started["path"],
        source="vscode", originator="example_client", cli_version="0.163.0",
    )
    rendered = thread_json(info)
    assert rendered == started and list(rendered) == list(started)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator({"$ref": "#/definitions/Thread", **schema}).validate(rendered)
