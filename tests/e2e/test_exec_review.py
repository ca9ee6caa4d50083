"""`pycodex exec review` / `pycodex review` end to end: the installed CLI, the mock model, a
real git repository for every target (uncommitted, base branch, commit, custom prompt).

What must hold: the reviewer's request carries pycodex's review instructions (not the
agent's) and the target's diff; its answer is parsed whether it is clean JSON, JSON
wrapped in prose, or plain text; the parent thread keeps exactly one summary message of
the review, which is all a later turn of that thread sees of it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pycodex.context.review_prompt import REVIEW_INSTRUCTIONS
from tests.support.exec_cli import PYCODEX, ExecHarness, read_rollout
from tests.support.mock_model import RecordedRequest, message, response

pytestmark = pytest.mark.e2e

FINDING = {
    "title": "Handle the empty list in average()",
    "body": "`average([])` divides by zero in `stats.py` line 3.",
    "confidence_score": 0.9,
    "priority": 1,
    "code_location": {"absolute_file_path": "/repo/stats.py", "line_range": {"start": 3, "end": 3}},
}
ANSWER = {
    "findings": [FINDING],
    "overall_correctness": "patch is incorrect",
    "overall_explanation": "average() crashes on an empty list.",
    "overall_confidence_score": 0.8,
}


def git(workspace: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
        cwd=workspace, env=env, check=True, capture_output=True, text=True,
    )
    return done.stdout.strip()


def texts(request: RecordedRequest, role: str | None = None) -> list[str]:
    out: list[str] = []
    for item in request.body["input"]:
        if item.get("type") == "message" and (role is None or item["role"] == role):
            out.extend(p.get("text", "") for p in item["content"])
    return out


def instructions_of(request: RecordedRequest) -> str:
    """The base instructions: the first developer message of the input."""
    first = request.body["input"][0]
    assert first["role"] == "developer"
    return "".join(p["text"] for p in first["content"])


def review(harness: ExecHarness, *args: str, answer: str) -> tuple[Any, RecordedRequest]:
    harness.mock.enqueue(response(message(answer)))
    before = len(harness.mock.model_requests())
    result = harness.run("review", "--json", *args)
    assert result.rc == 0, result.stderr
    requests = harness.mock.model_requests()
    assert len(requests) == before + 1
    return result, requests[-1]


def test_uncommitted_changes_clean_json(harness: ExecHarness) -> None:
    ws = harness.workspace
    (ws / "existing.txt").write_text("new line\n", encoding="utf-8")  # unstaged
    (ws / "staged.txt").write_text("STAGED-CONTENT\n", encoding="utf-8")
    git(ws, harness.env, "add", "staged.txt")
    (ws / "untracked.txt").write_text("UNTRACKED-CONTENT\n", encoding="utf-8")

    result, request = review(harness, "--uncommitted", answer=json.dumps(ANSWER))

    assert instructions_of(request) == REVIEW_INSTRUCTIONS
    task = texts(request, "user")[-1]
    for needle in ("+new line", "-old line", "STAGED-CONTENT", "UNTRACKED-CONTENT"):
        assert needle in task
    assert request.body["reasoning"]["effort"] == "low"
    # The findings are rendered as the run's answer.
    answer = result.items("agent_message")[-1]["text"]
    assert "[P1] Handle the empty list in average() — /repo/stats.py:3" in answer
    assert "average() crashes on an empty list." in answer
    assert result.last["type"] == "turn.completed"
    # The rollout records the structured findings and the items.
    lines = read_rollout(harness.rollouts()[-1])
    exited = [ln["payload"] for ln in lines if ln["type"] == "event_msg" and ln["payload"]["type"] == "exited_review_mode"]
    assert exited[0]["review_output"]["findings"][0]["title"] == FINDING["title"]
    item_types = [ln["payload"]["item"]["type"] for ln in lines
                  if ln["type"] == "event_msg" and ln["payload"]["type"] == "item_completed"]
    assert item_types[:2] == ["EnteredReviewMode", "ExitedReviewMode"]


def test_base_branch_json_wrapped_in_prose(harness: ExecHarness) -> None:
    ws, env = harness.workspace, harness.env
    git(ws, env, "branch", "-M", "main")
    git(ws, env, "checkout", "-q", "-b", "feature")
    (ws / "feature.py").write_text("FEATURE-WORK = 1\n", encoding="utf-8")
    git(ws, env, "add", "feature.py")
    git(ws, env, "commit", "-q", "-m", "feature work")
    base = git(ws, env, "merge-base", "HEAD", "main")
    wrapped = f"Here is my review.\n```json\n{json.dumps(ANSWER)}\n```\nThanks!"

    result, request = review(harness, "--base", "main", answer=wrapped)

    task = texts(request, "user")[-1]
    assert "'main'" in task and base in task and "+FEATURE-WORK = 1" in task
    answer = result.items("agent_message")[-1]["text"]
    assert "[P1] Handle the empty list in average()" in answer
    assert "Here is my review" not in answer  # the prose around the JSON is dropped


def test_commit_plain_text_answer(harness: ExecHarness) -> None:
    ws, env = harness.workspace, harness.env
    (ws / "fix.txt").write_text("COMMIT-ONLY-CHANGE\n", encoding="utf-8")
    git(ws, env, "add", "fix.txt")
    git(ws, env, "commit", "-q", "-m", "fix the thing")
    sha = git(ws, env, "rev-parse", "HEAD")
    (ws / "existing.txt").write_text("LATER-UNCOMMITTED\n", encoding="utf-8")

    result, request = review(harness, "--commit", sha[:8], answer="Looks fine to me, nothing to flag.")

    task = texts(request, "user")[-1]
    assert sha in task and "fix the thing" in task and "+COMMIT-ONLY-CHANGE" in task
    assert "LATER-UNCOMMITTED" not in task  # only what the commit introduced
    answer = result.items("agent_message")[-1]["text"]
    assert "Looks fine to me, nothing to flag." in answer


def test_custom_prompt_then_parent_sees_only_the_summary(harness: ExecHarness) -> None:
    custom = "Check the error handling of the CSV loader"
    result, request = review(harness, custom, answer=json.dumps(ANSWER))
    assert texts(request, "user")[-1] == custom
    assert instructions_of(request) == REVIEW_INSTRUCTIONS
    thread_id = result.of_type("thread.started")[0]["thread_id"]

    # A later turn of the same thread: the review left one message, the summary.
    harness.mock.enqueue(response(message("ok")))
    follow = harness.run("--json", "resume", thread_id, "fix the P1 finding")
    assert follow.rc == 0, follow.stderr
    parent = harness.mock.model_requests()[-1]
    all_text = "\n".join(texts(parent))
    assert instructions_of(parent) != REVIEW_INSTRUCTIONS
    assert all_text.count("<user_action>") == 1
    assert "Handle the empty list in average()" in all_text
    assert custom not in all_text  # the reviewer's task stayed in the reviewer
    assert json.dumps(ANSWER) not in all_text  # and so did its raw answer
    assert not [i for i in parent.body["input"] if i.get("type") == "message" and i["role"] == "assistant"]


def test_top_level_review_prints_findings_on_stdout(harness: ExecHarness) -> None:
    (harness.workspace / "existing.txt").write_text("changed\n", encoding="utf-8")
    harness.mock.enqueue(response(message(json.dumps(ANSWER))))
    done = subprocess.run(
        [str(PYCODEX), "review", "--uncommitted"], cwd=harness.workspace, env=harness.env,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "[P1] Handle the empty list in average() — /repo/stats.py:3" in done.stdout


def test_review_without_a_target_is_a_usage_error(harness: ExecHarness) -> None:
    result = harness.run("review")
    assert result.rc == 2
    assert "--uncommitted" in result.stderr
    assert harness.mock.model_requests() == []


def test_nothing_to_review_fails_clearly(harness: ExecHarness) -> None:
    result = harness.run("review", "--uncommitted")
    assert result.rc == 1
    assert "no uncommitted changes" in result.stderr
    assert harness.mock.model_requests() == []
