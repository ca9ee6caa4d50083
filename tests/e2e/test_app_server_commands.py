"""`command/exec` (+ write / terminate / resize), `thread/shellCommand`,
`thread/compact/start` and `skills/list` against the installed `pycodex app-server`: real
processes, the mock model, every answer and notification checked against Codex's v2 JSON
Schemas."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.e2e.test_app_server_support import (
    AppServer,
    FrameClient,
    initialize_params,
    server_env,
)
from tests.e2e.test_app_server_threads import Client, _alive, client, start_thread, workspace
from tests.support.mock_model import MockModelServer, message, response
from tests.support.shared import APP_SERVER_SCHEMAS

pytestmark = pytest.mark.e2e
Json = dict[str, Any]
__all__ = ["client", "workspace"]  # fixtures reused from the thread tests
FULL_ACCESS = {"type": "dangerFullAccess"}


@cache
def _v2() -> Json:
    schemas: Json = json.loads((APP_SERVER_SCHEMAS / "codex_app_server_protocol.v2.schemas.json").read_text())
    return schemas


@cache
def _notification_refs() -> dict[str, str]:
    union = json.loads((APP_SERVER_SCHEMAS / "ServerNotification.json").read_text())
    refs = {}
    for variant in union["oneOf"]:
        ref = variant["properties"].get("params", {}).get("$ref")
        if ref:
            refs[variant["properties"]["method"]["enum"][0]] = ref.rsplit("/", 1)[1]
    return refs


def conforms(definition: str, value: Any) -> Any:
    """`value`, after checking it against Codex's schema `definition` (a v2 definition, or
    a top-level schema file such as `FuzzyFileSearchResponse.json`)."""
    if definition in _v2()["definitions"]:
        schema = {"$ref": f"#/definitions/{definition}", **_v2()}
    else:
        schema = json.loads((APP_SERVER_SCHEMAS / f"{definition}.json").read_text())
    jsonschema.Draft7Validator(schema).validate(value)
    return value


def result_of(answer: Json, definition: str) -> Json:
    assert "result" in answer, answer
    result: Json = conforms(definition, answer["result"])
    return result


def check_notes(c: Client) -> None:
    """Every notification read so far conforms to its schema."""
    refs = _notification_refs()
    for method, params in c.notes:
        assert method in refs, f"not a Codex notification: {method}"
        conforms(refs[method], params)


class Pending:
    """Requests sent without waiting, answered later (command/exec answers at the exit)."""

    def __init__(self, c: Client) -> None:
        self.c = c
        self.answers: dict[int, Json] = {}

    def send(self, method: str, params: Json) -> int:
        self.c._id += 1
        self.c.server.send({"id": self.c._id, "method": method, "params": params})
        return self.c._id

    def answer(self, request_id: int) -> Json:
        while request_id not in self.answers:
            msg = self.c.server.recv()
            if "id" in msg and "method" not in msg:
                self.answers[msg["id"]] = msg
            else:
                self.c._keep(msg)
        return self.answers.pop(request_id)

    def call(self, method: str, params: Json) -> Json:
        return self.answer(self.send(method, params))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def deltas(c: Client, process_id: str, stream: str = "stdout") -> str:
    return "".join(base64.b64decode(p["deltaBase64"]).decode() for m, p in c.notes
                   if m == "command/exec/outputDelta" and p["processId"] == process_id
                   and p["stream"] == stream)


# --- command/exec --------------------------------------------------------------------------


def test_buffered_exec_answers_exit_code_stdout_and_stderr_as_codex(client: Client, workspace: Path) -> None:
    answer = client.call("command/exec", {"command": ["bash", "-c", "echo cmd-exec; echo err >&2; exit 4"],
                                          "cwd": str(workspace)})
    assert result_of(answer, "CommandExecResponse") == {"exitCode": 4, "stdout": "cmd-exec\n", "stderr": "err\n"}


def test_exec_runs_in_cwd_with_env_overrides(client: Client, workspace: Path) -> None:
    script = 'printf "%s|%s|%s" "$PWD" "$EXTRA" "${LANG-unset}"'
    answer = client.call("command/exec", {"command": ["bash", "-c", script], "cwd": str(workspace),
                                          "env": {"EXTRA": "added", "LANG": None}})
    assert result_of(answer, "CommandExecResponse")["stdout"] == f"{workspace}|added|unset"


def test_read_only_sandbox_refuses_a_write(client: Client, workspace: Path) -> None:
    target = workspace / "should-not-exist"
    answer = client.call("command/exec", {
        "command": ["bash", "-c", f"touch {target} && echo wrote"], "cwd": str(workspace),
        "sandboxPolicy": {"type": "readOnly"},
    })
    result = result_of(answer, "CommandExecResponse")
    assert result["exitCode"] != 0 and result["stdout"] == "", result
    assert not target.exists()
    # The same command under full access does write: the refusal was the sandbox's.
    answer = client.call("command/exec", {"command": ["bash", "-c", f"touch {target} && echo wrote"],
                                          "cwd": str(workspace), "sandboxPolicy": {"type": "dangerFullAccess"}})
    assert result_of(answer, "CommandExecResponse") == {"exitCode": 0, "stdout": "wrote\n", "stderr": ""}


def test_output_cap_keeps_the_first_bytes(client: Client, workspace: Path) -> None:
    answer = client.call("command/exec", {"command": ["bash", "-c", "printf 0123456789; printf abcdef >&2"],
                                          "outputBytesCap": 4})
    assert result_of(answer, "CommandExecResponse") == {"exitCode": 0, "stdout": "0123", "stderr": "abcd"}


def test_timeout_kills_the_command_and_answers_124(client: Client, tmp_path: Path) -> None:
    pid_file = tmp_path / "timeout.pid"
    answer = client.call("command/exec", {"command": ["bash", "-c", f"echo $$ > {pid_file}; exec sleep 300"],
                                          "timeoutMs": 500, "sandboxPolicy": FULL_ACCESS})
    assert result_of(answer, "CommandExecResponse")["exitCode"] == 124
    # (A slow start may be cut short before it wrote its pid: 124 is the point then.)
    assert not pid_file.exists() or not _alive(int(pid_file.read_text()))


def test_streamed_stdin_and_stdout_then_close_stdin(client: Client) -> None:
    pending = Pending(client)
    exec_id = pending.send("command/exec", {"command": ["cat"], "processId": "cat-1",
                                            "streamStdin": True, "streamStdoutStderr": True})
    write = pending.call("command/exec/write", {"processId": "cat-1", "deltaBase64": b64("hello\n")})
    assert result_of(write, "CommandExecWriteResponse") == {}
    client.until("command/exec/outputDelta", processId="cat-1")
    assert pending.call("command/exec/write", {"processId": "cat-1", "closeStdin": True})["result"] == {}
    # Streamed output is not repeated in the answer, which comes after every delta.
    assert result_of(pending.answer(exec_id), "CommandExecResponse") == {"exitCode": 0, "stdout": "", "stderr": ""}
    assert deltas(client, "cat-1") == "hello\n"
    check_notes(client)
    gone = client.call("command/exec/write", {"processId": "cat-1", "closeStdin": True})
    assert gone["error"] == {"code": -32600, "message": 'no active command/exec for process id "cat-1"'}


def test_streamed_output_respects_the_cap_and_says_so(client: Client) -> None:
    answer = Pending(client).call("command/exec", {
        "command": ["bash", "-c", "printf 0123456789"], "processId": "cap", "streamStdoutStderr": True,
        "outputBytesCap": 6})
    assert result_of(answer, "CommandExecResponse") == {"exitCode": 0, "stdout": "", "stderr": ""}
    assert deltas(client, "cap") == "012345"
    last = [p for m, p in client.notes if m == "command/exec/outputDelta"][-1]
    assert last["capReached"] is True
    check_notes(client)


def test_terminate_while_other_requests_are_answered(client: Client, tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeper.pid"
    pending = Pending(client)
    exec_id = pending.send("command/exec", {
        "command": ["bash", "-c", f"echo $$ > {pid_file}; echo ready; exec sleep 300"],
        "processId": "sleeper", "streamStdoutStderr": True, "disableTimeout": True,
        "sandboxPolicy": FULL_ACCESS})
    client.until("command/exec/outputDelta", processId="sleeper")
    # The connection still answers while the command runs.
    no_stdin = pending.call("command/exec/write", {"processId": "sleeper", "deltaBase64": b64("x")})
    assert no_stdin["error"] == {"code": -32600, "message": "stdin streaming is not enabled for this command/exec"}
    dup = pending.call("command/exec", {"command": ["true"], "processId": "sleeper", "streamStdoutStderr": True})
    assert dup["error"] == {"code": -32600, "message": 'duplicate active command/exec process id: "sleeper"'}
    assert result_of(pending.call("command/exec/terminate", {"processId": "sleeper"}),
                     "CommandExecTerminateResponse") == {}
    result = result_of(pending.answer(exec_id), "CommandExecResponse")
    assert result["exitCode"] == 137 and result["stdout"] == ""
    assert not _alive(int(pid_file.read_text()))


def test_tty_mode_runs_on_a_terminal_that_can_be_resized(client: Client) -> None:
    pending = Pending(client)
    exec_id = pending.send("command/exec", {
        "command": ["bash", "-c", "stty size; read line; stty size; echo got=$line"],
        "processId": "pty", "tty": True, "size": {"rows": 20, "cols": 70}})
    client.until("command/exec/outputDelta", processId="pty")
    while "20 70" not in deltas(client, "pty"):
        client.until("command/exec/outputDelta", processId="pty")
    assert pending.call("command/exec/resize", {"processId": "pty", "size": {"rows": 33, "cols": 101}})["result"] == {}
    assert pending.call("command/exec/write", {"processId": "pty", "deltaBase64": b64("hi\r")})["result"] == {}
    assert result_of(pending.answer(exec_id), "CommandExecResponse")["exitCode"] == 0
    output = deltas(client, "pty")
    assert "33 101" in output and "got=hi" in output, output
    check_notes(client)


@pytest.mark.parametrize(("params", "error"), [
    ({"command": []}, {"code": -32600, "message": "command must not be empty"}),
    ({"command": ["true"], "streamStdoutStderr": True},
     {"code": -32600, "message": "command/exec tty or streaming requires a client-supplied processId"}),
    ({"command": ["true"], "timeoutMs": 5, "disableTimeout": True},
     {"code": -32602, "message": "command/exec cannot set both timeoutMs and disableTimeout"}),
    ({"command": ["true"], "outputBytesCap": 5, "disableOutputCap": True},
     {"code": -32602, "message": "command/exec cannot set both outputBytesCap and disableOutputCap"}),
    ({"command": ["true"], "size": {"rows": 5, "cols": 5}},
     {"code": -32602, "message": "command/exec size requires tty: true"}),
])
def test_bad_exec_params_are_refused_with_codex_words(client: Client, params: Json, error: Json) -> None:
    assert client.call("command/exec", params)["error"] == error


def test_follow_ups_for_unknown_processes_are_refused(client: Client) -> None:
    unknown = {"code": -32600, "message": 'no active command/exec for process id "nope"'}
    assert client.call("command/exec/terminate", {"processId": "nope"})["error"] == unknown
    assert client.call("command/exec/write", {"processId": "nope", "closeStdin": True})["error"] == unknown
    assert client.call("command/exec/write", {"processId": "nope"})["error"] == {
        "code": -32602, "message": "command/exec/write requires deltaBase64 or closeStdin"}


@pytest.fixture
def unix_server(tmp_path: Path) -> Iterator[tuple[AppServer, Path]]:
    path = tmp_path / "app.sock"
    # The zygote off: only the connection's own cleanup can stop the command.
    app = AppServer(tmp_path, "--listen", f"unix://{path}",
                    env=server_env(tmp_path, PYCODEX_ZYGOTE="off"))
    app.stderr.until(r"listening on: unix://")
    try:
        yield app, path
    finally:
        app.stop()


def test_closing_the_connection_kills_its_commands(unix_server: tuple[AppServer, Path], tmp_path: Path) -> None:
    app, path = unix_server
    pid_file = tmp_path / "orphan.pid"
    conn = FrameClient(path)
    assert "result" in conn.rpc("initialize", initialize_params("closer"))
    conn.send({"id": 1, "method": "command/exec", "params": {
        "command": ["bash", "-c", f"echo $$ > {pid_file}; echo ready; exec sleep 300"],
        "processId": "p", "streamStdoutStderr": True, "disableTimeout": True,
        "sandboxPolicy": FULL_ACCESS}})
    note = conn.recv()
    assert note is not None and note["method"] == "command/exec/outputDelta", note
    pid = int(pid_file.read_text())
    conn.close()
    # The server lives on; a second connection's answer comes after the first one's cleanup
    # has been scheduled, and the command is gone once the server says so.
    other = FrameClient(path)
    try:
        assert "result" in other.rpc("initialize", initialize_params("other"))
        waiter = other.rpc("command/exec", {"command": ["bash", "-c",
                                                        f"while kill -0 {pid} 2>/dev/null; do sleep 0.05; done"],
                                            "timeoutMs": 20000, "sandboxPolicy": FULL_ACCESS})
        assert waiter["result"]["exitCode"] == 0, "the closed connection's command is still running"
    finally:
        other.close()
    assert app.proc.poll() is None
    assert not _alive(pid)



# --- thread/shellCommand, thread/compact/start ----------------------------------------------


def _turn_notes(c: Client, thread_id: str) -> list[tuple[str, Json]]:
    return [(m, p) for m, p in c.notes if p.get("threadId", p.get("thread", {}).get("id")) == thread_id
            and m != "thread/started"]


def test_shell_command_runs_as_a_user_shell_turn_like_codex(client: Client, workspace: Path) -> None:
    thread_id = start_thread(client, workspace)
    client.until("thread/started")
    answer = client.call("thread/shellCommand", {"threadId": thread_id, "command": "echo from-shell-command"})
    assert result_of(answer, "ThreadShellCommandResponse") == {}
    done = client.until("turn/completed", threadId=thread_id)
    notes = _turn_notes(client, thread_id)
    # The sequence Codex sends (session2.transcript.jsonl, STEP thread/shellCommand).
    assert [m for m, _ in notes] == [
        "thread/status/changed", "turn/started", "item/started", "item/commandExecution/outputDelta",
        "item/completed", "thread/status/changed", "turn/completed"]
    started, completed = notes[2][1]["item"], notes[4][1]["item"]
    assert started["type"] == "commandExecution" and started["source"] == "userShell"
    assert started["status"] == "inProgress" and started["command"].endswith("'echo from-shell-command'")
    assert notes[3][1]["delta"] == "from-shell-command\n"
    assert completed["id"] == started["id"] and completed["status"] == "completed"
    assert completed["exitCode"] == 0 and completed["aggregatedOutput"] == "from-shell-command\n"
    assert done["turn"]["status"] == "completed"
    check_notes(client)


def test_shell_command_on_an_unknown_thread_is_refused(client: Client) -> None:
    answer = client.call("thread/shellCommand", {"threadId": "01a1fee1-0000-7000-8000-000000000000",
                                                 "command": "true"})
    assert answer["error"] == {"code": -32600,
                               "message": "thread not found: 01a1fee1-0000-7000-8000-000000000000"}


def test_compact_start_answers_at_once_and_the_compaction_item_follows(
    client: Client, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.enqueue(response(message("first answer")), response(message("the summary")))
    thread_id = start_thread(client, workspace)
    client.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "hello"}]})
    client.until("turn/completed", threadId=thread_id)
    answer = client.call("thread/compact/start", {"threadId": thread_id})
    assert result_of(answer, "ThreadCompactStartResponse") == {}
    done = client.until("turn/completed", threadId=thread_id)
    assert done["turn"]["status"] == "completed"
    kinds = [p["item"]["type"] for m, p in client.notes
             if m == "item/completed" and p.get("turnId") == done["turn"]["id"]]
    assert "contextCompaction" in kinds, client.notes[-8:]
    check_notes(client)
