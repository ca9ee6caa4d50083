"""Review mode: parsing the reviewer's answer, and `Op::Review` through the engine (the
mock model on loopback, a real git repository): the reviewer's tools are shown while its
raw answer is not, `review_model` is used, and an interrupted review says so."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from pathlib import Path

from pycodex.config.config import ConfigOverrides, load_config
from pycodex.context.review_output import (
    INTERRUPTED_TEXT,
    parse_review_output,
    render_review,
    review_summary_message,
)
from pycodex.core.thread_manager import CodexThread, ThreadManager, ThreadOptions
from pycodex.protocol.events import (
    AgentMessageEvent,
    EnteredReviewModeEvent,
    EventMsg,
    ExecCommandEndEvent,
    ExitedReviewModeEvent,
    ItemCompletedEvent,
    TaskCompleteEvent,
    TurnAbortedEvent,
)
from pycodex.protocol.items import (
    AgentMessageTurnItem,
    EnteredReviewModeTurnItem,
    ExitedReviewModeTurnItem,
)
from pycodex.protocol.ops import InterruptOp, ReviewOp, UserInputOp
from pycodex.protocol.review import ReviewRequest
from pycodex.protocol.user_input import TextInput
from tests.support.engine import shell, until
from tests.support.mock_model import MockModelServer, RecordedRequest, Reply, message, response

FINDING = {
    "title": "T" * 100,
    "body": "body text",
    "confidence_score": 7,
    "priority": "P9",
    "code_location": {"absolute_file_path": "src/a.py", "line_range": {"start": 9, "end": 4}},
}


# --- parsing ----------------------------------------------------------------------------


def test_clean_json_is_parsed_and_normalised(tmp_path: Path) -> None:
    out = parse_review_output(json.dumps({"findings": [FINDING], "overall_explanation": "x"}), tmp_path)
    (finding,) = out.findings
    assert len(finding.title) == 80 and finding.title.endswith("…")
    assert finding.confidence_score == 1.0 and finding.priority == 3
    assert finding.code_location.absolute_file_path == str(tmp_path / "src/a.py")
    assert (finding.code_location.line_range.start, finding.code_location.line_range.end) == (4, 9)


def test_json_wrapped_in_prose_uses_the_outermost_object() -> None:
    text = 'Sure! {"findings": [{"title": "Fix {braces}", "body": "b", "priority": 0}], "overall_correctness": "patch is incorrect"} done'
    out = parse_review_output(text)
    assert [f.title for f in out.findings] == ["Fix {braces}"]
    assert out.findings[0].priority == 0
    assert out.overall_correctness == "patch is incorrect"


def test_plain_text_becomes_the_explanation() -> None:
    out = parse_review_output("  No problems found {not json}.  ")
    assert out.findings == []
    assert out.overall_explanation == "No problems found {not json}."


def test_json_that_is_not_a_review_is_text() -> None:
    assert parse_review_output('{"answer": 42}').overall_explanation == '{"answer": 42}'


def test_summary_message_carries_findings_or_says_interrupted() -> None:
    out = parse_review_output(json.dumps({"findings": [{"title": "Close the file", "body": "leak", "priority": 1}]}))
    assert "[P1] Close the file" in render_review(out)
    assert "[P1] Close the file" in review_summary_message(out)
    interrupted = review_summary_message(None)
    assert "interrupted" in interrupted and "None." in interrupted


# --- through the engine ---------------------------------------------------------------------


class World:
    def __init__(self, tmp_path: Path, mock: MockModelServer, config: str = "") -> None:
        self.home = tmp_path / "home"
        self.home.mkdir()
        (self.home / "config.toml").write_text(
            f'model = "gpt-5.5"\nmodel_provider = "mock"\n{config}\n'
            f'[model_providers.mock]\nname = "mock"\nbase_url = "{mock.url}"\n'
            'env_key = "MOCK_KEY"\nrequest_max_retries = 0\nstream_max_retries = 0\n'
        )
        self.ws = tmp_path / "ws"
        self.ws.mkdir()
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
        subprocess.run([*git, "init", "-q", str(self.ws)], check=True)
        (self.ws / "a.txt").write_text("one\n")
        subprocess.run([*git, "add", "a.txt"], cwd=self.ws, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=self.ws, check=True)
        (self.ws / "a.txt").write_text("two\n")
        self.env = {"PYCODEX_HOME": str(self.home), "HOME": str(tmp_path), "MOCK_KEY": "x",
                    "PATH": os.environ["PATH"], "SHELL": "/bin/bash"}
        self.manager = ThreadManager(ThreadOptions(env=self.env))

    async def start(self) -> CodexThread:
        config = load_config(
            ConfigOverrides(cwd=self.ws, sandbox_mode="danger-full-access", approval_policy="never"),
            env=self.env,
        )
        thread = await self.manager.start_thread(config)
        await thread.next_event()
        return thread


UNCOMMITTED = ReviewOp(review_request=ReviewRequest(target={"type": "uncommittedChanges"}))


async def test_reviewer_tools_shown_its_answer_hidden_review_model_used(
    tmp_path: Path, mock_model: MockModelServer
) -> None:
    world = World(tmp_path, mock_model, config='review_model = "reviewer-model"')
    thread = await world.start()
    mock_model.enqueue(
        response(message("let me look"), shell("echo LOOKED", "c1")),
        response(message('{"findings": [], "overall_explanation": "RAW-ANSWER fine"}')),
    )
    await thread.submit(UNCOMMITTED)
    events = await until(thread, TaskCompleteEvent)
    await thread.shutdown()
    assert all(r.body["model"] == "reviewer-model" for r in mock_model.model_requests())
    assert any(isinstance(e, ExecCommandEndEvent) and "LOOKED" in e.aggregated_output for e in events)
    entered = [e for e in events if isinstance(e, EnteredReviewModeEvent)]
    assert entered and entered[0].user_facing_hint == "current changes"
    messages = [e.message for e in events if isinstance(e, AgentMessageEvent)]
    assert len(messages) == 1 and "let me look" not in messages[0] and "RAW-ANSWER fine" in messages[0]
    completed = [e.item for e in events if isinstance(e, ItemCompletedEvent)]
    kinds = [type(i) for i in completed if not isinstance(i, AgentMessageTurnItem)]
    assert kinds[0] is EnteredReviewModeTurnItem and ExitedReviewModeTurnItem in kinds
    assert sum(isinstance(i, AgentMessageTurnItem) for i in completed) == 1
    done = events[-1]
    assert isinstance(done, TaskCompleteEvent) and done.last_agent_message == messages[0]


async def test_interrupted_review_says_so(tmp_path: Path, mock_model: MockModelServer) -> None:
    world = World(tmp_path, mock_model)
    thread = await world.start()
    asked, gate = threading.Event(), threading.Event()

    def gated(_request: RecordedRequest) -> Reply:
        asked.set()
        gate.wait(10)
        return response(message("{}"))

    mock_model.enqueue(gated, response(message("next")))
    await thread.submit(UNCOMMITTED)
    assert await asyncio.to_thread(asked.wait, 10)
    await thread.submit(InterruptOp())
    events: list[EventMsg] = await until(thread, TurnAbortedEvent)
    gate.set()
    exited = [e for e in events if isinstance(e, ExitedReviewModeEvent)]
    assert exited and exited[0].review_output is None
    items = [e.item for e in events if isinstance(e, ItemCompletedEvent)]
    assert any(isinstance(i, ExitedReviewModeTurnItem) and i.review == INTERRUPTED_TEXT for i in items)
    # The parent's next request holds the "interrupted" summary, nothing of the reviewer.
    await thread.submit(UserInputOp(items=[TextInput(text="carry on")]))
    await until(thread, TaskCompleteEvent)
    await thread.shutdown()
    body = json.dumps(mock_model.model_requests()[-1].body["input"])
    assert "interrupted before the reviewer finished" in body
    assert "Review the uncommitted changes" not in body
