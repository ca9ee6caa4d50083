"""`pycodex exec resume|fork` and `pycodex threads …` as a user (or an SDK) runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.exec_cli import PYCODEX, ExecHarness, read_rollout, shell_call
from tests.support.mock_model import message, response

pytestmark = pytest.mark.e2e


def pycodex(h: ExecHarness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PYCODEX), *args], cwd=h.workspace, env=h.env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=20, check=False)


def first_thread(h: ExecHarness, prompt: str = "first turn") -> str:
    h.mock.enqueue(response(message("one")))
    result = h.run("--json", prompt)
    assert result.rc == 0, result.stderr
    thread_id: str = result.of_type("thread.started")[0]["thread_id"]
    return thread_id


def user_texts(body: dict[str, object]) -> list[str]:
    items = body["input"]
    assert isinstance(items, list)
    return [p["text"] for i in items if i.get("role") == "user" for p in i["content"]]


def test_resume_by_id_keeps_the_thread_and_cumulative_usage(harness: ExecHarness) -> None:
    thread_id = first_thread(harness)
    harness.mock.enqueue(response(message("two")))
    result = harness.run("resume", thread_id, "second turn", "--json")
    assert result.rc == 0, result.stderr
    assert result.of_type("thread.started")[0]["thread_id"] == thread_id
    assert result.last["usage"]["input_tokens"] == 200  # cumulative, as Codex
    body = harness.mock.requests[1].body
    assert user_texts(body)[-1] == "second turn" and "first turn" in user_texts(body)
    assert [i for i in body["input"] if i.get("role") == "assistant"]
    (rollout,) = harness.rollouts()
    ordinals = [line["ordinal"] for line in read_rollout(rollout)]
    assert ordinals == list(range(len(ordinals)))


def test_sdk_argument_order_flags_before_resume_prompt_on_stdin(harness: ExecHarness) -> None:
    thread_id = first_thread(harness)
    harness.mock.enqueue(response(message("two")))
    # What @openai/codex-sdk runs: flags, then `resume <id>`, the prompt on stdin.
    result = harness.run("--experimental-json", "--config", 'model_reasoning_effort="low"',
                         "--skip-git-repo-check", "resume", thread_id, stdin="from the sdk")
    assert result.rc == 0, result.stderr
    assert result.of_type("thread.started")[0]["thread_id"] == thread_id
    assert user_texts(harness.mock.requests[1].body)[-1] == "from the sdk"


def test_resume_last_and_errors(harness: ExecHarness, tmp_path: Path) -> None:
    missing = harness.run("resume", "--last", "anything")
    assert missing.rc == 1 and "no recorded session to resume" in missing.stderr
    older = first_thread(harness, "older")
    newer = first_thread(harness, "newer")
    assert older != newer
    harness.mock.enqueue(response(message("again")))
    result = harness.run("resume", "--last", "continue", "--json")
    assert result.rc == 0, result.stderr
    assert result.of_type("thread.started")[0]["thread_id"] == newer
    unknown = harness.run("resume", "01a1fee1-0000-7000-8000-000000000000", "hi", "--json")
    assert unknown.rc == 1 and unknown.stdout == ""
    assert "no rollout found for thread id 01a1fee1-0000-7000-8000-000000000000" in unknown.stderr
    assert len(harness.mock.requests) == 3  # no model request for the failures
    assert harness.run("resume").rc == 2  # neither id nor --last: usage error


def test_a_prompt_that_starts_with_resume_is_a_prompt(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(message("ok")), response(message("ok")))
    assert harness.run("resume the work").rc == 0
    assert harness.run("--", "resume").rc == 0
    assert [user_texts(r.body)[-1] for r in harness.mock.requests] == ["resume the work", "resume"]


def test_fork_creates_a_new_thread_with_the_history(harness: ExecHarness) -> None:
    thread_id = first_thread(harness)
    harness.mock.enqueue(response(message("forked")))
    result = harness.run("fork", thread_id, "forked turn", "--json")
    assert result.rc == 0, result.stderr
    fork_id = result.of_type("thread.started")[0]["thread_id"]
    assert fork_id != thread_id
    assert "first turn" in user_texts(harness.mock.requests[1].body)
    listed = json.loads(pycodex(harness, "threads", "list", "--json").stdout)["data"]
    assert {r["id"]: r["forked_from"] for r in listed} == {thread_id: None, fork_id: thread_id}


def test_kill_9_mid_turn_then_resume(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(shell_call("sleep 30", "call_slow")))
    proc = harness.spawn("--json", "start something slow", "--skip-git-repo-check",
                         "-s", "danger-full-access")
    deadline = time.monotonic() + 15
    rollout: Path | None = None
    while time.monotonic() < deadline:
        found = harness.rollouts()
        if found and "call_slow" in found[0].read_text():
            rollout = found[0]
            break
        time.sleep(0.05)
    assert rollout is not None, "the tool call never reached the rollout"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(5)
    with open(rollout, "ab") as fh:  # as if the crash had cut a line in half
        fh.write(b'{"timestamp": "2026-01-01T00:00:00.000Z", "ordinal": 99, "type": "resp')
    thread_id = read_rollout_meta_id(rollout)
    harness.mock.enqueue(response(message("recovered")))
    result = harness.run("resume", thread_id, "carry on", "--json")
    assert result.rc == 0, result.stderr
    body = harness.mock.requests[1].body
    outputs = [i for i in body["input"] if i["type"] == "function_call_output"]
    assert [(o["call_id"], o["output"]) for o in outputs] == [("call_slow", "aborted by user")]
    assert user_texts(body)[-1] == "carry on" and "start something slow" in user_texts(body)
    lines = read_rollout(rollout)  # every line whole JSON: the fragment was cut off
    assert [line["ordinal"] for line in lines] == list(range(len(lines)))
    kinds = [line["payload"].get("type") for line in lines if line["type"] == "event_msg"]
    assert "turn_aborted" in kinds


def read_rollout_meta_id(path: Path) -> str:
    first = json.loads(path.read_text().splitlines()[0])
    thread_id: str = first["payload"]["id"]
    return thread_id


def test_archive_unarchive_delete_name_and_reindex(harness: ExecHarness) -> None:
    thread_id = first_thread(harness)
    (original,) = harness.rollouts()
    archived = pycodex(harness, "archive", thread_id)
    assert (archived.returncode, archived.stdout) == (0, f"Archived session {thread_id}.\n")
    assert harness.rollouts() == []
    assert (harness.home / "archived_sessions" / original.name).is_file()
    assert json.loads(pycodex(harness, "threads", "list", "--json").stdout)["data"] == []
    unarchived = pycodex(harness, "unarchive", thread_id)
    assert (unarchived.returncode, unarchived.stdout) == (0, f"Unarchived session {thread_id}.\n")
    assert harness.rollouts() == [original]

    assert pycodex(harness, "threads", "name", thread_id, "my work").returncode == 0
    live = json.loads(pycodex(harness, "threads", "list", "--json").stdout)["data"]
    assert live[0]["name"] == "my work" and live[0]["title"] == "first turn"
    assert pycodex(harness, "threads", "reindex").stdout == "Reindexed 1 thread.\n"
    assert json.loads(pycodex(harness, "threads", "list", "--json").stdout)["data"] == live
    # Resume by name.
    harness.mock.enqueue(response(message("by name")))
    assert harness.run("resume", "my work", "hello again").rc == 0

    refused = pycodex(harness, "delete", thread_id)
    assert refused.returncode == 1 and "cannot confirm session deletion" in refused.stderr
    unknown = pycodex(harness, "archive", "01a1fee1-0000-7000-8000-000000000000")
    assert unknown.returncode == 1 and unknown.stderr.startswith("Error: failed to archive session")
    deleted = pycodex(harness, "delete", "--force", thread_id)
    assert (deleted.returncode, deleted.stdout) == (0, f"Deleted session {thread_id}.\n")
    assert harness.rollouts() == []
    assert json.loads(pycodex(harness, "threads", "list", "--json", "--all").stdout)["data"] == []


def test_fork_inherits_the_parents_name(harness: ExecHarness) -> None:
    thread_id = first_thread(harness)
    named = pycodex(harness, "threads", "name", thread_id, "refactor")
    assert named.returncode == 0, named.stderr
    harness.mock.enqueue(response(message("forked")))

    result = harness.run("fork", thread_id, "try another way", "--json")

    assert result.rc == 0, result.stderr
    fork_id = result.of_type("thread.started")[0]["thread_id"]
    listed = json.loads(pycodex(harness, "threads", "list", "--json").stdout)["data"]
    assert {r["id"]: r["name"] for r in listed} == {thread_id: "refactor", fork_id: "refactor"}
    # Durably, in Codex's file (what an index rebuild reads back).
    names = [json.loads(line) for line in (harness.home / "session_index.jsonl").read_text().splitlines()]
    assert {n["id"]: n["thread_name"] for n in names} == {thread_id: "refactor", fork_id: "refactor"}
