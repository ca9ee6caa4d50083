"""`pycodex app-server` driving real engine threads: thread/start, turn/start, steer,
interrupt, resume, fork, unsubscribe, loaded/list — the installed CLI on stdio against the
mock model, real processes, the notifications Codex sends."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_app_server_support import (
    AppServer,
    initialize_params,
    server_env,
    write_mock_config,
)
from tests.support.mock_model import MockModelServer, function_call, message, response

pytestmark = pytest.mark.e2e
Json = dict[str, Any]


class Client:
    """An initialized stdio client that keeps the notifications it reads on the way."""

    def __init__(self, server: AppServer) -> None:
        self.server = server
        self.notes: list[tuple[str, Json]] = []
        self._id = 0

    def call(self, method: str, params: Json | None = None) -> Json:
        self._id += 1
        self.server.send({"id": self._id, "method": method, "params": params or {}})
        while True:
            msg = self.server.recv()
            if msg.get("id") == self._id and "method" not in msg:
                return msg
            self._keep(msg)

    def until(self, method: str, **match: Any) -> Json:
        """Read until a notification `method` whose params match; its params."""
        while True:
            msg = self.server.recv()
            self._keep(msg)
            params = msg.get("params") or {}
            if msg.get("method") == method and all(params.get(k) == v for k, v in match.items()):
                return params

    def _keep(self, msg: Json) -> None:
        if "method" in msg and "id" not in msg:
            self.notes.append((msg["method"], msg.get("params") or {}))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    return ws


@pytest.fixture
def client(tmp_path: Path, mock_model: MockModelServer, workspace: Path) -> Iterator[Client]:
    write_mock_config(tmp_path / "pycodex-home", mock_model.url)
    yield from initialized_client(AppServer(tmp_path, env=server_env(tmp_path, MOCK_KEY="x", SHELL="/bin/bash")))


def initialized_client(server: AppServer) -> Iterator[Client]:
    """A client past the handshake; the server is stopped when the test is done."""
    c = Client(server)
    try:
        assert "result" in c.call("initialize", initialize_params("ide_client"))
        server.send({"method": "initialized"})
        yield c
    finally:
        server.stop()


def start_thread(client: Client, workspace: Path, **params: Any) -> str:
    answer = client.call("thread/start", {"cwd": str(workspace), "approvalPolicy": "never",
                                          "sandbox": "danger-full-access", **params})
    assert "result" in answer, answer
    return str(answer["result"]["thread"]["id"])


def shell(cmd: str, call_id: str) -> Json:
    return function_call("shell", {"command": ["bash", "-c", cmd]}, call_id=call_id)


def test_a_shell_turn_end_to_end(client: Client, mock_model: MockModelServer, workspace: Path) -> None:
    mock_model.enqueue(response(shell("echo hello-from-tool", "call_1")), response(message("All done.")))
    answer = client.call("thread/start", {"cwd": str(workspace), "approvalPolicy": "never",
                                          "sandbox": "danger-full-access"})
    result = answer["result"]
    thread_id = result["thread"]["id"]
    assert result["thread"]["originator"] == "ide_client" and result["cwd"] == str(workspace)
    assert result["sandbox"] == {"type": "dangerFullAccess"} and result["approvalPolicy"] == "never"
    started = client.until("thread/started")
    assert started["thread"]["id"] == thread_id

    turn = client.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "run it"}]})
    turn_id = turn["result"]["turn"]["id"]
    assert turn["result"]["turn"]["status"] == "inProgress"
    done = client.until("turn/completed", threadId=thread_id)

    assert done["turn"]["id"] == turn_id and done["turn"]["status"] == "completed"
    assert [i["text"] for i in done["turn"]["items"]] == ["All done."]
    methods = [m for m, _ in client.notes]
    assert methods.index("turn/started") < methods.index("item/started") < methods.index("turn/completed")
    items = [(p["item"]["type"], p["item"].get("status")) for m, p in client.notes if m == "item/completed"]
    assert items == [("userMessage", None), ("commandExecution", "completed"), ("agentMessage", None)]
    command = next(p["item"] for m, p in client.notes
                   if m == "item/completed" and p["item"]["type"] == "commandExecution")
    assert command["id"] == "call_1" and command["aggregatedOutput"] == "hello-from-tool\n"
    deltas = [p["delta"] for m, p in client.notes if m == "item/agentMessage/delta"]
    assert "".join(deltas) == "All done."
    assert all(p["turnId"] == turn_id for m, p in client.notes if m.startswith("item/"))


def test_unknown_thread_is_refused_as_codex_refuses_it(client: Client) -> None:
    from tests.e2e.test_app_server_support import reference_error

    answer = client.call("turn/start", {"threadId": "01a1fee1-0000-7000-8000-000000000000",
                                        "input": [{"type": "text", "text": "x"}]})
    assert answer["error"] == reference_error("turn/start [error]")


def test_interrupt_kills_the_command_and_completes_its_item(
    client: Client, mock_model: MockModelServer, workspace: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "sleeper.pid"
    mock_model.enqueue(response(shell(f"echo $$ > {pid_file}; echo ready; exec sleep 300", "call_s")))
    thread_id = start_thread(client, workspace)
    turn_id = client.call("turn/start", {"threadId": thread_id,
                                         "input": [{"type": "text", "text": "wait"}]})["result"]["turn"]["id"]
    client.until("item/commandExecution/outputDelta", threadId=thread_id, delta="ready\n")

    # Steering the wrong turn is refused with Codex's words; the right one lands in it.
    wrong = client.call("turn/steer", {"threadId": thread_id, "expectedTurnId": "nope",
                                       "input": [{"type": "text", "text": "x"}]})
    assert wrong["error"] == {"code": -32600,
                              "message": f"expected active turn id `nope` but found `{turn_id}`"}
    steered = client.call("turn/steer", {"threadId": thread_id, "expectedTurnId": turn_id,
                                         "input": [{"type": "text", "text": "also this"}]})
    assert steered["result"] == {"turnId": turn_id}

    pid = int(pid_file.read_text())
    assert client.call("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})["result"] == {}
    done = client.until("turn/completed", threadId=thread_id)
    assert done["turn"]["status"] == "interrupted"
    assert not _alive(pid), "the interrupted turn's command is still running"
    idle = client.call("turn/steer", {"threadId": thread_id, "input": [{"type": "text", "text": "x"}]})
    assert idle["error"]["message"] == "no active turn to steer"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_loaded_unsubscribe_resume_and_fork(
    client: Client, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.enqueue(response(message("first")))
    thread_id = start_thread(client, workspace)
    client.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "hi"}]})
    client.until("turn/completed", threadId=thread_id)

    assert client.call("thread/loaded/list")["result"] == {"data": [thread_id], "nextCursor": None}
    assert client.call("thread/unsubscribe", {"threadId": thread_id})["result"] == {"status": "unsubscribed"}
    assert client.call("thread/unsubscribe", {"threadId": thread_id})["result"] == {"status": "notSubscribed"}
    resumed = client.call("thread/resume", {"threadId": thread_id})["result"]
    assert resumed["thread"]["id"] == thread_id  # the open thread, not a second copy

    forked = client.call("thread/fork", {"threadId": thread_id})["result"]["thread"]
    assert forked["id"] != thread_id and forked["forkedFromId"] == thread_id
    mock_model.enqueue(response(message("from the fork")))
    client.call("turn/start", {"threadId": forked["id"], "input": [{"type": "text", "text": "again"}]})
    done = client.until("turn/completed", threadId=forked["id"])
    assert [i["text"] for i in done["turn"]["items"]] == ["from the fork"]
    # The fork's request carries the parent's conversation.
    texts = str(mock_model.model_requests()[-1].body["input"])
    assert "hi" in texts and "first" in texts
    loaded = client.call("thread/loaded/list")["result"]["data"]
    assert sorted(loaded) == sorted([thread_id, forked["id"]])


def test_top_level_config_overrides_apply_to_every_thread(
    tmp_path: Path, mock_model: MockModelServer, workspace: Path
) -> None:
    """The official SDK launches `pycodex --config k=v app-server --listen stdio://`."""
    home = tmp_path / "pycodex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "mock"\n[model_providers.mock]\nname = "mock"\n'
        f'base_url = "{mock_model.url}"\nenv_key = "MOCK_KEY"\n'
    )
    server = AppServer(
        tmp_path, "--listen", "stdio://", env=server_env(tmp_path, MOCK_KEY="x"),
        root_args=("--config", 'model="gpt-from-flag"', "-c", 'approval_policy="on-request"'),
    )
    try:
        c = Client(server)
        c.call("initialize", initialize_params("sdk"))
        answer = c.call("thread/start", {"cwd": str(workspace)})["result"]
        assert (answer["model"], answer["approvalPolicy"]) == ("gpt-from-flag", "on-request")
        # A request's own settings still win over the command line's.
        mine = c.call("thread/start", {"cwd": str(workspace), "model": "gpt-mine"})["result"]
        assert mine["model"] == "gpt-mine"
    finally:
        server.stop()


def test_skills_list_per_cwd_with_errors_named(client: Client, workspace: Path, tmp_path: Path) -> None:
    import json as _json

    import jsonschema

    from tests.support.shared import APP_SERVER_SCHEMAS

    good = workspace / ".codex" / "skills" / "deploy" / "SKILL.md"
    good.parent.mkdir(parents=True)
    good.write_text("---\nname: deploy\ndescription: Ship the app.\n---\nSteps…\n")
    bad = workspace / ".agents" / "skills" / "broken" / "SKILL.md"
    bad.parent.mkdir(parents=True)
    bad.write_text("no frontmatter at all\n")
    user = tmp_path / "pycodex-home" / "skills" / "notes" / "SKILL.md"
    user.parent.mkdir(parents=True)
    user.write_text("---\nname: notes\ndescription: Keep notes.\n---\n")

    result = client.call("skills/list", {"cwds": [str(workspace)]})["result"]
    schema = _json.loads((APP_SERVER_SCHEMAS / "codex_app_server_protocol.v2.schemas.json").read_text())
    jsonschema.Draft7Validator({"$ref": "#/definitions/SkillsListResponse", **schema}).validate(result)
    [entry] = result["data"]
    assert entry["cwd"] == str(workspace)
    assert [(s["name"], s["scope"], s["path"]) for s in entry["skills"]] == [
        ("deploy", "repo", str(good)), ("notes", "user", str(user))
    ]
    assert [e["path"] for e in entry["errors"]] == [str(bad)]


def test_review_start_runs_an_inline_review_turn(
    client: Client, mock_model: MockModelServer, workspace: Path
) -> None:
    import json as _json

    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    (workspace / "stats.py").write_text("def average(xs):\n    return sum(xs) / len(xs)\n")
    subprocess.run([*git, "add", "-A"], cwd=workspace, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=workspace, check=True)
    (workspace / "stats.py").write_text("def average(xs):\n    return sum(xs) / len(xs) + 1\n")
    finding = {"title": "Off by one", "body": "adds 1", "confidence_score": 0.9, "priority": 1,
               "code_location": {"absolute_file_path": str(workspace / "stats.py"),
                                 "line_range": {"start": 2, "end": 2}}}
    answer = {"findings": [finding], "overall_correctness": "patch is incorrect",
              "overall_explanation": "wrong", "overall_confidence_score": 0.8}
    mock_model.enqueue(response(message(_json.dumps(answer))))
    thread_id = start_thread(client, workspace)

    started = client.call("review/start", {"threadId": thread_id, "target": {"type": "uncommittedChanges"}})
    result = started["result"]
    assert result["reviewThreadId"] == thread_id and result["turn"]["status"] == "inProgress"
    done = client.until("turn/completed", threadId=thread_id)
    assert done["turn"]["id"] == result["turn"]["id"] and done["turn"]["status"] == "completed"
    kinds = [p["item"]["type"] for m, p in client.notes if m == "item/completed"]
    assert "enteredReviewMode" in kinds and "exitedReviewMode" in kinds
    # The reviewer saw the change it was asked about.
    assert "len(xs) + 1" in _json.dumps(mock_model.model_requests()[-1].body["input"])

    bad = client.call("review/start", {"threadId": thread_id, "target": {"type": "commit"}})
    assert bad["error"]["code"] == -32600 and "review target" in bad["error"]["message"]


def test_revert_drops_a_turn_and_every_later_one(
    client: Client, mock_model: MockModelServer, workspace: Path
) -> None:
    thread_id = start_thread(client, workspace)
    turn_ids = []
    for word in ("alpha", "bravo", "charlie"):
        mock_model.enqueue(response(message(f"ok {word}")))
        started = client.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": word}]})
        turn_ids.append(started["result"]["turn"]["id"])
        client.until("turn/completed", threadId=thread_id)

    unknown = client.call("thread/revert", {"threadId": thread_id, "beforeTurnId": "no-such-turn"})
    assert "turn not found" in unknown["error"]["message"]
    reverted = client.call("thread/revert", {"threadId": thread_id, "beforeTurnId": turn_ids[1]})
    assert reverted["result"]["thread"]["id"] == thread_id
    client.until("thread/reverted", threadId=thread_id)

    listed = client.call("thread/turns/list", {"threadId": thread_id, "sortDirection": "asc"})["result"]
    assert [t["id"] for t in listed["data"]] == turn_ids[:1]
    mock_model.enqueue(response(message("ok delta")))
    client.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "delta"}]})
    client.until("turn/completed", threadId=thread_id)
    sent = str(mock_model.model_requests()[-1].body["input"])
    assert "alpha" in sent and "ok alpha" in sent  # kept
    assert "bravo" not in sent and "charlie" not in sent  # dropped from what the model sees


def test_turn_settings_stay_and_are_what_resume_reports(
    client: Client, mock_model: MockModelServer, workspace: Path
) -> None:
    thread_id = start_thread(client, workspace)
    mock_model.enqueue(response(message("ok")))
    client.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "hi"}],
                               "approvalPolicy": "untrusted", "sandboxPolicy": {"type": "readOnly"},
                               "effort": "low"})
    client.until("turn/completed", threadId=thread_id)
    resumed = client.call("thread/resume", {"threadId": thread_id})["result"]
    assert (resumed["approvalPolicy"], resumed["sandbox"]["type"], resumed["reasoningEffort"]) == (
        "untrusted", "readOnly", "low"
    )
    # A stable client is not told about settings (Codex tells experimental clients only).
    assert "thread/settings/updated" not in [m for m, _ in client.notes]


def test_a_thread_whose_config_drifted_from_the_lockfile_is_refused_with_the_diff_as_data(
    client: Client, mock_model: MockModelServer, workspace: Path, tmp_path: Path
) -> None:
    locks = tmp_path / "locks"
    started = client.call("thread/start", {"cwd": str(workspace),
                                           "config": {"debug": {"config_lockfile": {"export_dir": str(locks)}}}})
    lock = locks / f"{started['result']['thread']['id']}.config.lock.toml"
    assert lock.is_file()
    replay = {"debug": {"config_lockfile": {"load_path": str(lock)}}}
    assert "result" in client.call("thread/start", {"cwd": str(workspace), "config": replay})
    drifted = client.call("thread/start", {"cwd": str(workspace), "config": {**replay, "model_reasoning_effort": "high"}})
    error = drifted["error"]
    assert error["message"] == f"Invalid request: config drifted from lockfile {lock}"
    assert error["data"] == {"lockfile": str(lock), "diff": ['+ model_reasoning_effort = "high"']}
    assert mock_model.model_requests() == []  # refused before anything ran
