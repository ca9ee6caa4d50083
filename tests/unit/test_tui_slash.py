"""Slash commands (pycodex.frontends.tui.slash): parsing, dispatch, completion, and what
each command asks of the app-server and the TUI (a recording fake context)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest

from pycodex.frontends.tui import slash
from pycodex.frontends.tui.pickers import PickerItem


class RpcFailure(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FakeClient:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        self.asked.append((method, params))
        answer = self.answers.get(method, {})
        if isinstance(answer, Exception):
            raise answer
        return answer(params) if callable(answer) else answer


class FakeContext:
    def __init__(self, answers: dict[str, Any] | None = None, thread_id: str | None = "thr-1",
                 cwd: str = "/w") -> None:
        self.client = FakeClient(answers or {})
        self.thread_id = thread_id
        self.cwd = cwd
        self.calls: list[tuple[Any, ...]] = []
        self.picks: list[Any] = []  # what the user picks in each picker, in order
        self.pickers: list[tuple[str, list[PickerItem[Any]]]] = []
        self.turn_answer: str | None = None
        self.last_answer: str | None = None
        self.status_snapshot: dict[str, Any] = {}

    def add_info(self, text: str) -> None:
        self.calls.append(("info", text))

    def add_error(self, text: str) -> None:
        self.calls.append(("error", text))

    def add_diff(self, text: str) -> None:
        self.calls.append(("diff", text))

    async def start_new_thread(self) -> None:
        self.calls.append(("new",))

    async def ensure_thread(self) -> str:
        if self.thread_id is None:
            self.thread_id = "thr-started"
            self.calls.append(("started",))
        return self.thread_id

    async def switch_thread(self, thread_id: str, fork: bool) -> None:
        self.calls.append(("switch", thread_id, fork))

    async def run_picker(self, title: str, items: list[PickerItem[Any]]) -> Any:
        self.pickers.append((title, items))
        return self.picks.pop(0)

    async def run_turn(self, text: str) -> str | None:
        self.calls.append(("turn", text))
        return self.turn_answer

    def set_model(self, model: str, effort: str | None) -> None:
        self.calls.append(("model", model, effort))

    def set_permissions(self, approval_policy: str, sandbox_mode: str) -> None:
        self.calls.append(("permissions", approval_policy, sandbox_mode))

    def status(self) -> dict[str, Any]:
        return self.status_snapshot

    def insert_text(self, text: str) -> None:
        self.calls.append(("insert", text))

    def last_agent_message(self) -> str | None:
        return self.last_answer

    def write_terminal(self, data: str) -> None:
        self.calls.append(("terminal", data))

    def exit(self) -> None:
        self.calls.append(("exit",))


def run(ctx: FakeContext, line: str) -> bool:
    return asyncio.run(slash.dispatch(ctx, line))


def texts(ctx: FakeContext, kind: str) -> list[str]:
    return [c[1] for c in ctx.calls if c[0] == kind]


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("/status", ("status", "")),
        ("  /rename  my thread ", ("rename", "my thread")),
        ("/usr/bin/env is broken", None),
        ("//not a command", None),
        ("/", None),
        ("hello /status", None),
    ],
)
def test_parse(line: str, parsed: tuple[str, str] | None) -> None:
    assert slash.parse(line) == parsed


def test_a_non_command_line_is_left_to_the_caller() -> None:
    ctx = FakeContext()
    assert run(ctx, "fix /usr/lib paths") is False
    assert ctx.calls == []


def test_unknown_command_is_reported_not_raised() -> None:
    ctx = FakeContext()
    assert run(ctx, "/frobnicate now") is True
    assert texts(ctx, "error") == ["Unknown command /frobnicate. Type / to list the commands."]


def test_a_failing_request_is_reported_with_the_server_message() -> None:
    ctx = FakeContext({"thread/compact/start": RpcFailure("thread is busy")})
    run(ctx, "/compact")
    assert texts(ctx, "error") == ["/compact failed: thread is busy"]


def test_completions_list_the_issue_commands_by_prefix() -> None:
    names = [name for name, _ in slash.completions("/")]
    for wanted in ("model", "approvals", "new", "resume", "fork", "rename", "compact", "review",
                   "diff", "mention", "status", "init", "mcp", "copy", "undo", "logout", "quit"):
        assert f"/{wanted}" in names
    assert [n for n, _ in slash.completions("/re")] == ["/resume", "/rename", "/review"]
    assert [n for n, _ in slash.completions("mc")] == ["/mcp"]
    assert slash.completions("/zzz") == []
    assert all(description for _, description in slash.completions(""))


def test_exit_is_an_alias_of_quit() -> None:
    ctx = FakeContext()
    run(ctx, "/exit")
    run(ctx, "/quit")
    assert ctx.calls == [("exit",), ("exit",)]


def test_new_fork_and_resume_by_id() -> None:
    ctx = FakeContext()
    run(ctx, "/new")
    run(ctx, "/fork")
    run(ctx, "/resume thr-9")
    assert ctx.calls == [("new",), ("switch", "thr-1", True), ("switch", "thr-9", False)]


def test_commands_needing_a_thread_say_so_before_the_first_message() -> None:
    ctx = FakeContext(thread_id=None)
    for line in ("/fork", "/rename x", "/compact", "/review"):
        run(ctx, line)
    assert ctx.client.asked == []
    assert len(texts(ctx, "error")) == 4
    assert all("send a message first" in e for e in texts(ctx, "error"))


def test_resume_picker_lists_other_threads_and_switches_to_the_pick() -> None:
    threads = {"data": [
        {"id": "thr-1", "preview": "this one", "updatedAt": 0, "cwd": "/w"},
        {"id": "thr-2", "preview": "older work", "updatedAt": 0, "cwd": "/w"},
    ]}
    ctx = FakeContext({"thread/list": threads})
    ctx.picks = ["thr-2"]
    run(ctx, "/resume")
    (title, items), = ctx.pickers
    assert title == "Resume a thread"
    assert [i.value for i in items] == ["thr-2"]  # the current thread is not offered
    assert ctx.calls == [("switch", "thr-2", False)]
    ctx.picks = [None]  # Esc in the picker: nothing happens
    run(ctx, "/resume")
    assert ctx.calls == [("switch", "thr-2", False)]


def test_resume_without_other_threads_says_so() -> None:
    ctx = FakeContext({"thread/list": {"data": []}})
    run(ctx, "/resume")
    assert texts(ctx, "info") == ["No earlier threads to resume."]
    assert ctx.pickers == []


def test_rename_sets_the_name_through_the_app_server() -> None:
    ctx = FakeContext()
    run(ctx, "/rename Release notes")
    assert ctx.client.asked == [("thread/name/set", {"threadId": "thr-1", "name": "Release notes"})]
    run(ctx, "/rename")
    assert texts(ctx, "error") == ["Usage: /rename NAME"]


def test_compact_and_review_start_their_app_server_operations() -> None:
    ctx = FakeContext()
    ctx.picks = ["uncommitted"]
    run(ctx, "/compact")
    run(ctx, "/review")
    run(ctx, "/review focus on error handling")
    run(ctx, "/review base main")
    run(ctx, "/review commit 0123abc")
    targets = [{"type": "uncommittedChanges"},
               {"type": "custom", "instructions": "focus on error handling"},
               {"type": "baseBranch", "branch": "main"},
               {"type": "commit", "sha": "0123abc"}]
    assert ctx.client.asked == [
        ("thread/compact/start", {"threadId": "thr-1"}),
        *(("review/start", {"threadId": "thr-1", "target": t}) for t in targets),
    ]


def review_targets(ctx: FakeContext) -> list[Any]:
    return [p["target"] for m, p in ctx.client.asked if m == "review/start"]


def test_review_picker_offers_branches_and_commits_from_git() -> None:
    ctx = FakeContext(exec_answers({
        "for-each-ref": {"exitCode": 0, "stdout": "main\nfeature\n", "stderr": ""},
        "log": {"exitCode": 0, "stdout": "a" * 40 + "\tFix the parser\n" + "b" * 40 + "\tInit\n",
                "stderr": ""},
    }))
    ctx.picks = ["base", "main", "commit", "b" * 40, None]
    run(ctx, "/review")
    run(ctx, "/review")
    run(ctx, "/review")  # Esc in the first picker: no review
    assert [t for t, _ in ctx.pickers] == ["Review", "Base branch", "Review", "Commit to review", "Review"]
    assert [i.value for i in ctx.pickers[1][1]] == ["main", "feature"]
    assert [(i.label, i.detail) for i in ctx.pickers[3][1]] == [("Fix the parser", "a" * 10), ("Init", "b" * 10)]
    assert review_targets(ctx) == [
        {"type": "baseBranch", "branch": "main"},
        {"type": "commit", "sha": "b" * 40, "title": "Init"},
    ]


def test_review_picker_says_when_there_is_nothing_to_pick() -> None:
    ctx = FakeContext(exec_answers({
        "for-each-ref": {"exitCode": 0, "stdout": "", "stderr": ""},
        "log": {"exitCode": 128, "stdout": "", "stderr": "no commits"},
    }))
    ctx.picks = ["base", "commit"]
    run(ctx, "/review")
    run(ctx, "/review")
    assert texts(ctx, "info") == ["There are no branches to compare with.", "There are no commits to review."]
    assert review_targets(ctx) == []


MODELS = {"data": [
    {"id": "gpt-5.5", "model": "gpt-5.5", "displayName": "GPT-5.5", "description": "flagship",
     "hidden": False, "supportedReasoningEfforts": [
         {"reasoningEffort": "low"}, {"reasoningEffort": "high"}]},
    {"id": "secret", "model": "secret", "displayName": "Secret", "description": "", "hidden": True,
     "supportedReasoningEfforts": []},
]}


def test_model_picker_then_effort_picker() -> None:
    ctx = FakeContext({"model/list": MODELS})
    ctx.picks = ["gpt-5.5", "high"]
    run(ctx, "/model")
    assert [t for t, _ in ctx.pickers] == ["Model", "Reasoning effort for gpt-5.5"]
    assert [i.value for i in ctx.pickers[0][1]] == ["gpt-5.5"]  # hidden models are not offered
    assert [i.value for i in ctx.pickers[1][1]] == ["low", "high"]
    assert ("model", "gpt-5.5", "high") in ctx.calls


def test_model_with_arguments_checks_the_effort() -> None:
    ctx = FakeContext({"model/list": MODELS})
    run(ctx, "/model gpt-5.5 low")
    run(ctx, "/model gpt-5.5 extreme")
    run(ctx, "/model my-local-model")
    assert [c for c in ctx.calls if c[0] == "model"] == [
        ("model", "gpt-5.5", "low"), ("model", "my-local-model", None),
    ]
    assert texts(ctx, "error") == ["gpt-5.5 does not support effort “extreme” (it has: low, high)."]


def test_approvals_presets_by_picker_and_by_name() -> None:
    ctx = FakeContext()
    ctx.picks = ["full access"]
    run(ctx, "/approvals")
    run(ctx, "/approvals read only")
    run(ctx, "/approvals yolo")
    assert [c for c in ctx.calls if c[0] == "permissions"] == [
        ("permissions", "never", "danger-full-access"), ("permissions", "on-request", "read-only"),
    ]
    assert "Unknown preset “yolo”" in texts(ctx, "error")[0]


def test_status_reports_the_session() -> None:
    ctx = FakeContext()
    ctx.status_snapshot = {
        "model": "gpt-5.5", "effort": "high", "model_provider": "mock", "cwd": "/w",
        "approval_policy": "on-request", "sandbox": {"type": "workspaceWrite", "networkAccess": False},
        "account": "API key", "thread_id": "thr-1", "forked_from": "thr-0",
        "token_usage": {
            "total": {"totalTokens": 12345, "inputTokens": 12000, "cachedInputTokens": 2000,
                      "outputTokens": 345, "reasoningOutputTokens": 0},
            "last": {"totalTokens": 50000, "inputTokens": 0, "cachedInputTokens": 0,
                     "outputTokens": 0, "reasoningOutputTokens": 0},
            "modelContextWindow": 200000,
        },
    }
    run(ctx, "/status")
    (report,) = texts(ctx, "info")
    for expected in ("gpt-5.5 (reasoning high)", "mock", "/w", "on-request", "workspace-write",
                     "API key", "12,345 total", "2,000 cached", "75% of 200,000 tokens",
                     "thr-1", "Forked from:    thr-0"):
        assert expected in report, expected


def test_status_before_any_turn() -> None:
    ctx = FakeContext(thread_id=None)
    ctx.status_snapshot = {"model": "gpt-5.5", "sandbox": "read-only"}
    run(ctx, "/status")
    (report,) = texts(ctx, "info")
    assert "none used yet" in report
    assert "(none yet)" in report
    assert "Forked from" not in report


def exec_answers(outputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def command_exec(params: dict[str, Any]) -> dict[str, Any]:
        return outputs[params["command"][1]]

    return {"command/exec": command_exec}


def test_diff_shows_git_diff_and_untracked_files() -> None:
    ctx = FakeContext(exec_answers({
        "rev-parse": {"exitCode": 0, "stdout": "true\n", "stderr": ""},
        "diff": {"exitCode": 0, "stdout": "--- a/x\n+++ b/x\n-old\n+new\n", "stderr": ""},
        "ls-files": {"exitCode": 0, "stdout": "new.txt\n", "stderr": ""},
    }))
    run(ctx, "/diff")
    assert texts(ctx, "diff") == ["--- a/x\n+++ b/x\n-old\n+new\nuntracked: new.txt"]
    assert all(p["cwd"] == "/w" for _, p in ctx.client.asked)


def test_diff_outside_git_and_without_changes() -> None:
    ctx = FakeContext(exec_answers({"rev-parse": {"exitCode": 128, "stdout": "", "stderr": "no"}}))
    run(ctx, "/diff")
    assert "not in a git repository" in texts(ctx, "info")[0]
    ctx = FakeContext(exec_answers({
        "rev-parse": {"exitCode": 0, "stdout": "true\n", "stderr": ""},
        "diff": {"exitCode": 0, "stdout": "", "stderr": ""},
        "ls-files": {"exitCode": 0, "stdout": "", "stderr": ""},
    }))
    run(ctx, "/diff")
    assert texts(ctx, "info") == ["No changes in the working tree."]


def test_mcp_lists_servers_and_tools() -> None:
    ctx = FakeContext({"mcpServerStatus/list": {"data": [
        {"name": "docs", "runtimeStatus": "connected", "tools": {"search": {}, "fetch": {}}},
        {"name": "broken", "runtimeStatus": "failed", "tools": {}, "toolsError": "spawn failed"},
    ]}})
    run(ctx, "/mcp")
    assert ctx.client.asked == [
        ("mcpServerStatus/list", {"detail": "toolsAndAuthOnly", "threadId": "thr-1"}),
    ]
    (report,) = texts(ctx, "info")
    assert "docs — connected, 2 tools" in report
    assert "fetch, search" in report
    assert "broken — failed, 0 tools" in report and "error: spawn failed" in report
    empty = FakeContext({"mcpServerStatus/list": {"data": []}})
    run(empty, "/mcp")
    assert "No MCP servers" in texts(empty, "info")[0]


def test_copy_writes_osc52_with_the_last_answer() -> None:
    ctx = FakeContext()
    run(ctx, "/copy")
    assert texts(ctx, "info") == ["There is no answer to copy yet."]
    ctx.last_answer = "héllo"
    run(ctx, "/copy")
    (sequence,) = texts(ctx, "terminal")
    assert sequence.startswith("\x1b]52;c;") and sequence.endswith("\x07")
    assert base64.b64decode(sequence[7:-1]).decode() == "héllo"


def test_mention_inserts_an_at_sign() -> None:
    ctx = FakeContext()
    run(ctx, "/mention")
    run(ctx, "/mention src")
    assert texts(ctx, "insert") == ["@", "@src"]


def test_logout_signs_out() -> None:
    ctx = FakeContext()
    run(ctx, "/logout")
    [logout] = texts(ctx, "info")
    assert "Signed out" in logout
    assert [method for method, _ in ctx.client.asked] == ["account/logout"]


def test_init_writes_agents_md_from_the_turn_answer(tmp_path: Path) -> None:
    ctx = FakeContext(cwd=str(tmp_path))
    ctx.turn_answer = "```markdown\n# Guide\nRun make test.\n```"
    run(ctx, "/init")
    assert (tmp_path / "AGENTS.md").read_text() == "# Guide\nRun make test.\n"
    assert texts(ctx, "info") == [f"Wrote {tmp_path / 'AGENTS.md'}."]
    turns = [c for c in ctx.calls if c[0] == "turn"]
    assert len(turns) == 1 and "AGENTS.md" in turns[0][1]


def test_init_never_overwrites_and_spends_no_turn_when_agents_md_exists(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("mine\n")
    ctx = FakeContext(cwd=str(tmp_path))
    ctx.turn_answer = "# New"
    run(ctx, "/init")
    assert (tmp_path / "AGENTS.md").read_text() == "mine\n"
    assert [c for c in ctx.calls if c[0] == "turn"] == []
    assert "already exists" in texts(ctx, "error")[0]


def test_init_without_an_answer_writes_nothing(tmp_path: Path) -> None:
    ctx = FakeContext(cwd=str(tmp_path))
    run(ctx, "/init")
    assert not (tmp_path / "AGENTS.md").exists()
    assert "nothing was written" in texts(ctx, "error")[0]


def test_bang_runs_a_user_shell_command_in_the_thread() -> None:
    ctx = FakeContext()
    assert run(ctx, "!git status --short") is True
    assert run(ctx, "  ! ls -la | head") is True
    assert ctx.client.asked == [
        ("thread/shellCommand", {"threadId": "thr-1", "command": "git status --short"}),
        ("thread/shellCommand", {"threadId": "thr-1", "command": "ls -la | head"}),
    ]


def test_bang_before_the_first_message_starts_a_thread_first() -> None:
    ctx = FakeContext(thread_id=None)
    run(ctx, "!pwd")
    assert ctx.calls == [("started",)]
    assert ctx.client.asked == [("thread/shellCommand", {"threadId": "thr-started", "command": "pwd"})]


def test_bang_alone_or_failing_is_reported() -> None:
    ctx = FakeContext({"thread/shellCommand": RpcFailure("thread not found")})
    run(ctx, "!")
    run(ctx, "!true")
    assert texts(ctx, "error") == [
        "Type a shell command after ! (for example: !git status).",
        "!true failed: thread not found",
    ]
