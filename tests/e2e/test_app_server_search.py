"""`fuzzyFileSearch` against the installed `pycodex app-server`: gitignore-aware matches
with highlight indices in Codex's shape, and a later request with the same cancellation
token cancelling an earlier one (answered with no files)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_app_server_commands import result_of
from tests.e2e.test_app_server_threads import Client, client, workspace

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
