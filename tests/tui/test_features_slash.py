"""Slash commands, `!cmd` and `@` file search against a real `pycodex app-server` (stdio,
mock model): every request the TUI features send is one the server accepts, and does
what the command promises. (The screen itself is tested in test_features_screen.py.)"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pycodex.frontends.tui import slash
from pycodex.frontends.tui.mentions import FileSearch
from pycodex.frontends.tui.pickers import PickerItem
from tests.support.mock_model import MockModelServer, message, response
from tests.tui.conftest import StdioClient

pytestmark = pytest.mark.e2e


class ServerContext:
    """The TUI context slash commands use, its client a real app-server."""

    def __init__(self, client: StdioClient, cwd: Path, thread_id: str | None = None) -> None:
        self.client = client
        self.cwd = str(cwd)
        self.thread_id = thread_id
        self.calls: list[tuple[Any, ...]] = []
        self.picks: list[Any] = []
        self.offered: list[list[PickerItem[Any]]] = []

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
            self.thread_id = start_thread(self.client, Path(self.cwd))
        return self.thread_id

    async def switch_thread(self, thread_id: str, fork: bool) -> None:
        self.calls.append(("switch", thread_id, fork))

    async def run_picker(self, title: str, items: list[PickerItem[Any]]) -> Any:
        self.offered.append(items)
        return self.picks.pop(0)

    async def run_turn(self, text: str) -> str | None:
        raise AssertionError("no turn expected")

    def set_model(self, model: str, effort: str | None) -> None:
        self.calls.append(("model", model, effort))

    def set_permissions(self, approval_policy: str, sandbox_mode: str) -> None:
        self.calls.append(("permissions", approval_policy, sandbox_mode))

    def status(self) -> dict[str, Any]:
        return {}

    def insert_text(self, text: str) -> None:
        self.calls.append(("insert", text))

    def last_agent_message(self) -> str | None:
        return None

    def write_terminal(self, data: str) -> None:
        self.calls.append(("terminal", data))

    def exit(self) -> None:
        self.calls.append(("exit",))

    def run(self, line: str) -> None:
        assert asyncio.run(slash.dispatch(self, line)) is True
        errors = [c for c in self.calls if c[0] == "error"]
        assert errors == [], errors

    def of(self, kind: str) -> list[Any]:
        return [c[1] for c in self.calls if c[0] == kind]


def start_thread(client: StdioClient, cwd: Path) -> str:
    return str(client.call("thread/start", {"cwd": str(cwd)})["thread"]["id"])


def git_workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(parents=True)
    git = ["git", "-C", str(ws), "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    (ws / "tracked.txt").write_text("old line\n")
    for args in (["init", "-q"], ["add", "tracked.txt"], ["commit", "-q", "-m", "init"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    return ws


def test_rename_names_the_thread(client: StdioClient, tmp_path: Path) -> None:
    ctx = ServerContext(client, tmp_path, start_thread(client, tmp_path))
    ctx.run("/rename Release notes")
    assert client.call("thread/read", {"threadId": ctx.thread_id})["thread"]["name"] == "Release notes"


def test_diff_shows_the_working_tree_changes(client: StdioClient, tmp_path: Path) -> None:
    ws = git_workspace(tmp_path)
    (ws / "tracked.txt").write_text("new line\n")
    (ws / "fresh.txt").write_text("x\n")
    ctx = ServerContext(client, ws)
    ctx.run("/diff")
    (diff,) = ctx.of("diff")
    assert "-old line\n+new line" in diff
    assert diff.endswith("untracked: fresh.txt")
    clean = ServerContext(client, git_workspace(tmp_path / "other"))
    clean.run("/diff")
    assert clean.of("info") == ["No changes in the working tree."]
    outside = ServerContext(client, tmp_path)
    outside.run("/diff")
    assert "not in a git repository" in outside.of("info")[0]


def test_resume_offers_the_other_threads(client: StdioClient, mock_model: MockModelServer,
                                         tmp_path: Path) -> None:
    first = start_thread(client, tmp_path)
    mock_model.enqueue(response(message("ok")))
    client.call("turn/start", {"threadId": first, "input": [{"type": "text", "text": "older work"}]})
    client.until("turn/completed", threadId=first)
    ctx = ServerContext(client, tmp_path, start_thread(client, tmp_path))
    ctx.picks = [first]
    ctx.run("/resume")
    assert [(i.label, i.value) for i in ctx.offered[0]] == [("older work", first)]
    assert ctx.calls == [("switch", first, False)]


def test_model_lists_the_catalog(client: StdioClient, tmp_path: Path) -> None:
    ctx = ServerContext(client, tmp_path)
    ctx.picks = ["gpt-5.5", "high"]
    ctx.run("/model")
    models, efforts = ctx.offered
    assert "gpt-5.5" in [i.value for i in models]
    assert "high" in [i.value for i in efforts]
    assert ("model", "gpt-5.5", "high") in ctx.calls


def test_mcp_without_servers(client: StdioClient, tmp_path: Path) -> None:
    ctx = ServerContext(client, tmp_path, start_thread(client, tmp_path))
    ctx.run("/mcp")
    assert "No MCP servers" in ctx.of("info")[0]


def test_compact_and_review_run_on_the_thread(client: StdioClient, mock_model: MockModelServer,
                                              tmp_path: Path) -> None:
    ws = git_workspace(tmp_path)
    (ws / "tracked.txt").write_text("changed\n")
    ctx = ServerContext(client, ws, start_thread(client, ws))
    mock_model.enqueue(response(message("a summary")))
    ctx.run("/compact")
    client.until("turn/completed", threadId=ctx.thread_id)
    mock_model.enqueue(response(message('{"findings": [], "overall_correctness": "patch is correct",'
                                        ' "overall_explanation": "fine", "overall_confidence_score": 0.9}')))
    ctx.picks = ["uncommitted"]
    ctx.run("/review")
    client.until("turn/completed", threadId=ctx.thread_id)
    review_request = mock_model.requests[-1].body
    assert "changed" in str(review_request["input"])  # the uncommitted diff went to the reviewer
    # A commit picked from the app-server's `git log`: the reviewer gets that commit.
    head = subprocess.run(["git", "-C", str(ws), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    mock_model.enqueue(response(message('{"findings": [], "overall_correctness": "patch is correct",'
                                        ' "overall_explanation": "fine", "overall_confidence_score": 0.9}')))
    ctx.picks = ["commit", head]
    ctx.run("/review")
    client.until("turn/completed", threadId=ctx.thread_id)
    assert [i.label for i in ctx.offered[-1]] == ["init"]
    assert head[:7] in str(mock_model.requests[-1].body["input"])


def test_bang_runs_the_users_command_and_its_output_comes_as_an_item(
    client: StdioClient, tmp_path: Path
) -> None:
    ctx = ServerContext(client, tmp_path)
    ctx.run("!echo from-the-user && pwd")
    assert ctx.thread_id is not None  # a thread was started for it
    done = client.until("item/completed", threadId=ctx.thread_id)
    while done["item"]["type"] != "commandExecution":
        done = client.until("item/completed", threadId=ctx.thread_id)
    assert done["item"]["aggregatedOutput"] == f"from-the-user\n{tmp_path}\n"


def test_file_search_finds_workspace_files(client: StdioClient, tmp_path: Path) -> None:
    ws = git_workspace(tmp_path)
    (ws / "src").mkdir()
    (ws / "src" / "main_module.py").write_text("")
    search = FileSearch(client.request, lambda: [str(ws)])
    hits = asyncio.run(search.search("mainmod"))
    assert hits and hits[0].path == "src/main_module.py"
    assert asyncio.run(search.search("zzzzqqq")) == []
