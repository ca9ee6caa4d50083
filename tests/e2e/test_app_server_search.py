"""`fuzzyFileSearch` against the installed `pycodex app-server`: gitignore-aware matches
with highlight indices in Codex's shape, a later request with the same cancellation token
cancelling an earlier one (answered with no files), and the experimental search sessions
(a query that changes as the user types; only the latest one is reported)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_app_server_commands import result_of
from tests.e2e.test_app_server_support import (
    AppServer,
    initialize_params,
    server_env,
    write_mock_config,
)
from tests.e2e.test_app_server_threads import Client, client, workspace
from tests.support.mock_model import MockModelServer

pytestmark = pytest.mark.e2e
__all__ = ["client", "workspace"]  # fixtures reused from the thread tests


def _files(root: Path, *paths: str) -> None:
    for rel in paths:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")


def test_matches_are_ranked_highlighted_and_skip_ignored_files(client: Client, workspace: Path) -> None:
    _files(workspace, "src/app_server.py", "docs/appendix.md", "build/app_server.py", "notes.txt",
           "src/gen/app_srv_gen.py")
    (workspace / ".gitignore").write_text("build/\n")
    (workspace / "src" / "gen" / ".gitignore").write_text("*_gen.py\n")  # git's rules, nested too
    subprocess.run(["git", "-C", str(workspace), "add", "src"], check=True)
    answer = client.call("fuzzyFileSearch", {"query": "appsrv", "roots": [str(workspace)]})
    files = result_of(answer, "FuzzyFileSearchResponse")["files"]
    assert [f["path"] for f in files] == ["src/app_server.py"]
    hit = files[0]
    assert hit["root"] == str(workspace) and hit["file_name"] == "app_server.py"
    assert hit["match_type"] == "file" and hit["score"] > 0
    assert "".join(hit["path"][i] for i in hit["indices"]).lower() == "appsrv"
    assert client.call("fuzzyFileSearch", {"query": "zzz", "roots": [str(workspace)]})["result"] == {"files": []}


def test_same_cancellation_token_cancels_the_earlier_search(client: Client, tmp_path: Path) -> None:
    big = tmp_path / "big"
    for d in range(50):
        _files(big, *(f"d{d:02}/file_{n:03}.txt" for n in range(100)))
    first = {"id": 901, "method": "fuzzyFileSearch",
             "params": {"query": "file", "roots": [str(big)], "cancellationToken": "tok"}}
    second = {"id": 902, "method": "fuzzyFileSearch",
              "params": {"query": "d07file_042", "roots": [str(big)], "cancellationToken": "tok"}}
    # One write: the second request is read while the first search is still walking.
    client.server.send_raw((json.dumps(first) + "\n" + json.dumps(second) + "\n").encode())
    answers = {}
    while len(answers) < 2:
        msg = client.server.recv()
        if msg.get("id") in (901, 902):
            answers[msg["id"]] = msg
    assert result_of(answers[901], "FuzzyFileSearchResponse") == {"files": []}
    files = result_of(answers[902], "FuzzyFileSearchResponse")["files"]
    assert files[0]["path"] == "d07/file_042.txt"


@pytest.fixture
def experimental_client(tmp_path: Path, mock_model: MockModelServer) -> Iterator[Client]:
    write_mock_config(tmp_path / "pycodex-home", mock_model.url)
    server = AppServer(tmp_path, env=server_env(tmp_path, MOCK_KEY="x"))
    c = Client(server)
    try:
        assert "result" in c.call("initialize", initialize_params("ide_client", experimental=True))
        server.send({"method": "initialized"})
        yield c
    finally:
        server.stop()


def test_a_search_session_follows_the_query(experimental_client: Client, workspace: Path) -> None:
    client = experimental_client
    _files(workspace, "src/app_server.py", "src/client.py", "README.md")
    roots = [str(workspace)]
    assert client.call("fuzzyFileSearch/sessionStart", {"sessionId": "s1", "roots": roots})["result"] == {}
    assert client.call("fuzzyFileSearch/sessionUpdate", {"sessionId": "s1", "query": "appsrv"})["result"] == {}
    updated = client.until("fuzzyFileSearch/sessionUpdated", sessionId="s1")
    assert updated["query"] == "appsrv" and [f["path"] for f in updated["files"]] == ["src/app_server.py"]
    assert client.until("fuzzyFileSearch/sessionCompleted") == {"sessionId": "s1"}

    client.call("fuzzyFileSearch/sessionUpdate", {"sessionId": "s1", "query": "clnt"})
    assert [f["path"] for f in client.until("fuzzyFileSearch/sessionUpdated")["files"]] == ["src/client.py"]
    client.call("fuzzyFileSearch/sessionUpdate", {"sessionId": "s1", "query": ""})
    assert client.until("fuzzyFileSearch/sessionUpdated")["files"] == []  # an empty query lists nothing

    assert client.call("fuzzyFileSearch/sessionStop", {"sessionId": "s1"})["result"] == {}
    gone = client.call("fuzzyFileSearch/sessionUpdate", {"sessionId": "s1", "query": "x"})
    assert "unknown fuzzyFileSearch session: 's1'" in gone["error"]["message"]


def test_only_the_latest_query_of_a_session_is_reported(experimental_client: Client, tmp_path: Path) -> None:
    client = experimental_client
    big = tmp_path / "big"
    for d in range(50):
        _files(big, *(f"d{d:02}/file_{n:03}.txt" for n in range(100)))
    client.call("fuzzyFileSearch/sessionStart", {"sessionId": "s2", "roots": [str(big)]})
    slow = {"id": 911, "method": "fuzzyFileSearch/sessionUpdate", "params": {"sessionId": "s2", "query": "file"}}
    latest = {"id": 912, "method": "fuzzyFileSearch/sessionUpdate",
              "params": {"sessionId": "s2", "query": "d07file_042"}}
    # One write: the second query arrives while the first search is still walking.
    client.server.send_raw((json.dumps(slow) + "\n" + json.dumps(latest) + "\n").encode())
    updated = client.until("fuzzyFileSearch/sessionUpdated", sessionId="s2")
    assert updated["query"] == "d07file_042" and updated["files"][0]["path"] == "d07/file_042.txt"
    client.until("fuzzyFileSearch/sessionCompleted")
    reported = [p["query"] for m, p in client.notes if m == "fuzzyFileSearch/sessionUpdated"]
    assert reported == ["d07file_042"]


def test_sessions_need_the_experimental_api(client: Client, workspace: Path) -> None:
    refused = client.call("fuzzyFileSearch/sessionStart", {"sessionId": "s", "roots": [str(workspace)]})
    assert "experimental" in refused["error"]["message"].lower()
