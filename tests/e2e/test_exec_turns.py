"""`pycodex exec --json`: successful turns — answers, commands, plans, reasoning, tools.

Expected shapes come from Codex's captures in `shared/reference/exec/` (event and item
types, order, usage accounting) and `spec/codex_reference.md` §2.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.exec_cli import (
    ExecHarness,
    Result,
    call_outputs,
    input_items,
    last_user_text,
    pairs_of_jsonl,
    parse_jsonl,
    shell_call,
)
from tests.support.mock_model import (
    MockModelServer,
    function_call,
    message,
    reasoning,
    response,
    web_search_call,
)

pytestmark = pytest.mark.e2e

REFERENCE = Path("/work/shared/reference/exec")
FULL_ACCESS = ("-s", "danger-full-access")
RunExec = Callable[..., Result]


def reference_pairs(case: str) -> list[tuple[str, str | None]]:
    path = REFERENCE / f"{case}.stdout"
    if not path.exists():
        pytest.skip(f"reference capture {path} not available")
    return pairs_of_jsonl(path.read_text(encoding="utf-8"))


def usage(n_requests: int) -> dict[str, int]:
    """Cumulative usage after n mock responses (each reports 100/20/10/3)."""
    return {
        "input_tokens": 100 * n_requests,
        "cached_input_tokens": 20 * n_requests,
        "cache_write_input_tokens": 0,
        "output_tokens": 10 * n_requests,
        "reasoning_output_tokens": 3 * n_requests,
    }


def test_plain_answer(run_exec: RunExec, mock_model: MockModelServer, workspace: Path) -> None:
    mock_model.enqueue(response(message("Just text, no tools.")))

    r = run_exec("--json", "[[text]] say something")

    assert r.rc == 0, r.stderr
    assert r.pairs() == [
        ("thread.started", None),
        ("turn.started", None),
        ("item.completed", "agent_message"),
        ("turn.completed", None),
    ]
    assert r.events is not None
    assert r.events[0]["schema_version"] == 1
    assert r.items("agent_message") == [{"id": "item_0", "type": "agent_message", "text": "Just text, no tools."}]
    assert r.last == {"type": "turn.completed", "usage": usage(1)}
    assert "Reading additional input from stdin..." in r.stderr
    [req] = mock_model.model_requests()
    assert req.path == "/v1/responses"
    assert req.headers["authorization"] == "Bearer x"
    assert req.headers["originator"] == "pycodex_exec"
    assert req.body["model"] == "gpt-5.5"
    assert req.body["stream"] is True
    assert req.body["prompt_cache_key"] == r.events[0]["thread_id"]
    assert last_user_text(req) == "[[text]] say something"
    assert str(workspace) in json.dumps(req.body["input"])  # environment context names the cwd
    assert {t.get("name", t["type"]) for t in req.body["tools"]} >= {"exec_command", "write_stdin", "update_plan"}


def test_shell_call_then_answer(run_exec: RunExec, mock_model: MockModelServer, workspace: Path) -> None:
    mock_model.enqueue(
        response(shell_call("echo hello-from-tool")),
        response(message("All done.")),
    )

    r = run_exec("--json", *FULL_ACCESS, "[[shell]] x")

    assert r.rc == 0, r.stderr
    # Same shape as Codex's capture of this scenario.
    assert r.pairs() == reference_pairs("shell")
    started, completed = r.items("command_execution", "item.started"), r.items("command_execution")
    assert started == [{
        "id": "item_0", "type": "command_execution", "command": "bash -c 'echo hello-from-tool'",
        "aggregated_output": "", "exit_code": None, "status": "in_progress",
    }]
    assert completed == [{**started[0], "aggregated_output": "hello-from-tool\n", "exit_code": 0, "status": "completed"}]
    assert r.items("agent_message") == [{"id": "item_1", "type": "agent_message", "text": "All done."}]
    assert r.last == {"type": "turn.completed", "usage": usage(2)}

    first, second = mock_model.model_requests()
    assert second.body["input"][: len(first.body["input"])] == first.body["input"]
    [call] = input_items(second, "function_call")
    assert call["call_id"] == "call_1" and call["name"] == "shell"
    [(call_id, output)] = call_outputs(second)
    assert call_id == "call_1"
    assert output.startswith("Exit code: 0\nWall time: ")
    assert output.endswith("Output:\nhello-from-tool\n")


def test_two_tool_calls_in_one_response(run_exec: RunExec, mock_model: MockModelServer) -> None:
    # The first call is the slower one: outputs must still come back in call order.
    mock_model.enqueue(
        response(
            shell_call("sleep 0.5; echo first", call_id="call_a"),
            shell_call("echo second", call_id="call_b"),
        ),
        response(message("Both ran.")),
    )

    r = run_exec("--json", "--dangerously-bypass-approvals-and-sandbox", "two commands")

    assert r.rc == 0, r.stderr
    started = r.items("command_execution", "item.started")
    completed = r.items("command_execution")
    assert len(started) == 2 and len(completed) == 2
    assert {i["command"] for i in started} == {"bash -c 'sleep 0.5; echo first'", "bash -c 'echo second'"}
    by_command = {i["command"]: i for i in completed}
    assert by_command["bash -c 'sleep 0.5; echo first'"]["aggregated_output"] == "first\n"
    assert by_command["bash -c 'echo second'"]["aggregated_output"] == "second\n"
    # Start and completion of one command share an id; the two commands do not.
    assert {i["id"] for i in started} == {i["id"] for i in completed}
    assert len({i["id"] for i in started}) == 2
    # They ran concurrently: the quick one finished first.
    assert [i["command"] for i in completed] == ["bash -c 'echo second'", "bash -c 'sleep 0.5; echo first'"]
    assert r.pairs()[-2:] == [("item.completed", "agent_message"), ("turn.completed", None)]

    _, second = mock_model.model_requests()
    assert [i["call_id"] for i in input_items(second, "function_call")] == ["call_a", "call_b"]
    outputs = call_outputs(second)
    assert [call_id for call_id, _ in outputs] == ["call_a", "call_b"]
    assert outputs[0][1].endswith("Output:\nfirst\n")
    assert outputs[1][1].endswith("Output:\nsecond\n")
    # Each output directly follows the calls of its response (calls first, then outputs).
    kinds = [i["type"] for i in second.body["input"]][-4:]
    assert kinds == ["function_call", "function_call", "function_call_output", "function_call_output"]


def test_failing_command_still_completes_the_turn(run_exec: RunExec, mock_model: MockModelServer) -> None:
    mock_model.enqueue(
        response(shell_call("echo to-stderr >&2; exit 3")),
        response(message("All done.")),
    )

    r = run_exec("--json", *FULL_ACCESS, "[[failcmd]]")

    assert r.rc == 0, r.stderr
    assert r.pairs() == reference_pairs("failcmd")
    [done] = r.items("command_execution")
    assert done["exit_code"] == 3
    assert done["status"] == "failed"
    assert done["aggregated_output"] == "to-stderr\n"
    assert r.last["type"] == "turn.completed"
    [(_, output)] = call_outputs(mock_model.model_requests()[1])
    assert output.startswith("Exit code: 3\n")
    assert output.endswith("Output:\nto-stderr\n")


def test_update_plan_todo_list_lifecycle(run_exec: RunExec, mock_model: MockModelServer) -> None:
    plan1 = {"plan": [{"step": "a", "status": "in_progress"}, {"step": "b", "status": "pending"}]}
    plan2 = {"plan": [{"step": "a", "status": "completed"}, {"step": "b", "status": "in_progress"}]}
    mock_model.enqueue(
        response(function_call("update_plan", plan1, "call_p1")),
        response(function_call("update_plan", plan2, "call_p2")),
        response(message("All done.")),
    )

    r = run_exec("--json", "[[plan2]]")

    assert r.rc == 0, r.stderr
    assert r.pairs() == reference_pairs("plan2")
    assert r.events is not None
    todo_events = [e for e in r.events if "item" in e and e["item"]["type"] == "todo_list"]
    assert [(e["type"], e["item"]["items"]) for e in todo_events] == [
        ("item.started", [{"text": "a", "completed": False}, {"text": "b", "completed": False}]),
        ("item.updated", [{"text": "a", "completed": True}, {"text": "b", "completed": False}]),
        ("item.completed", [{"text": "a", "completed": True}, {"text": "b", "completed": False}]),
    ]
    assert {e["item"]["id"] for e in todo_events} == {"item_0"}
    # The list completes only at turn end, after the final message (as Codex does).
    assert r.pairs()[-3:] == [
        ("item.completed", "agent_message"),
        ("item.completed", "todo_list"),
        ("turn.completed", None),
    ]
    assert r.last["usage"] == usage(3)
    reqs = mock_model.model_requests()
    assert call_outputs(reqs[1]) == [("call_p1", "Plan updated")]
    assert call_outputs(reqs[2])[-1] == ("call_p2", "Plan updated")


def test_reasoning_summary_item(run_exec: RunExec, mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(reasoning("**Thinking** about the answer"), message("Reasoned answer.")))

    r = run_exec("--json", "-c", "model_reasoning_summary=auto", "[[reasoning]]")

    assert r.rc == 0, r.stderr
    assert r.pairs() == reference_pairs("reasoning")
    assert r.items() == [
        {"id": "item_0", "type": "reasoning", "text": "**Thinking** about the answer"},
        {"id": "item_1", "type": "agent_message", "text": "Reasoned answer."},
    ]
    [req] = mock_model.model_requests()
    assert req.body["reasoning"]["summary"] == "auto"
    assert req.body["include"] == ["reasoning.encrypted_content"]


def test_unknown_tool_is_answered_and_turn_continues(run_exec: RunExec, mock_model: MockModelServer) -> None:
    mock_model.enqueue(
        response(function_call("no_such_tool", {"x": 1}, "call_u")),
        response(message("Okay, without it.")),
    )

    r = run_exec("--json", "use a tool that does not exist")

    assert r.rc == 0, r.stderr
    assert r.pairs() == [
        ("thread.started", None),
        ("turn.started", None),
        ("item.completed", "agent_message"),
        ("turn.completed", None),
    ]
    reqs = mock_model.model_requests()
    assert len(reqs) == 2
    assert call_outputs(reqs[1]) == [("call_u", "unsupported call: no_such_tool")]


def test_read_only_policy_blocks_workspace_writes(
    run_exec: RunExec, mock_model: MockModelServer, workspace: Path
) -> None:
    # The default policy is read-only. Where the OS sandbox works the command runs inside
    # it and its write fails; where it cannot be set up, nothing runs and the user is warned
    # (never silently unsandboxed). Either way the file is not written, the model hears
    # why, and the turn completes.
    mock_model.enqueue(
        response(shell_call("touch created-by-command.txt", call_id="call_r")),
        response(message("I could not write it.")),
    )

    r = run_exec("--json", "[[plainapproval]]")

    assert r.rc == 0, r.stderr
    assert not (workspace / "created-by-command.txt").exists()
    assert r.pairs()[-2:] == [("item.completed", "agent_message"), ("turn.completed", None)]
    [(call_id, output)] = call_outputs(mock_model.model_requests()[1])
    assert call_id == "call_r"
    commands = r.items("command_execution")
    if commands:  # sandboxed run: the kernel refused the write
        [cmd] = commands
        assert cmd["status"] == "failed" and cmd["exit_code"] != 0
        assert "Read-only file system" in cmd["aggregated_output"]
        assert "Read-only file system" in output
        assert r.items("error") == []
    else:  # no sandbox on this machine: refused before starting anything
        assert r.items("command_execution", "item.started") == []
        [warning] = r.items("error")
        assert "sandbox" in warning["message"]
        assert "sandbox" in output and "danger-full-access" in output
        assert "Exit code" not in output


def test_print_json_schema_is_the_shipped_schema(harness: ExecHarness) -> None:
    r = harness.run("--print-json-schema")
    assert r.rc == 0, r.stderr
    schema = json.loads(r.stdout)
    assert schema["title"] == "pycodex exec --json event stream"
    assert {"ThreadStarted", "TurnCompleted", "TurnFailed", "ItemEvent"} <= set(schema["$defs"])
    assert harness.mock.model_requests() == []


@pytest.mark.parametrize(
    "line",
    [
        '{"type":"turn.completed"}',
        '{"type":"item.completed","item":{"id":"x","type":"agent_message","text":"hi"}}',
        '{"type":"turn.started","extra":1}',
        "not json",
    ],
)
def test_harness_rejects_lines_outside_the_schema(line: str) -> None:
    # Guards the guard: every --json run above is validated by this function.
    with pytest.raises(AssertionError):
        parse_jsonl('{"type":"turn.started"}\n' + line + "\n")


def test_web_search_item_carries_query_and_action(run_exec: RunExec, mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(web_search_call("codex cli"), message("Searched.")))

    r = run_exec("--json", "[[websearch]] look it up")

    assert r.rc == 0, r.stderr
    # As reference/exec/websearch.stdout, but with one `id` key (Codex writes two).
    item = {"id": "item_0", "type": "web_search", "query": "codex cli",
            "action": {"type": "search", "query": "codex cli"}}
    assert r.of_type("item.started")[0]["item"] == item
    assert r.items("web_search") == [item]
