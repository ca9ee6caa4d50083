"""The fuzzy file matcher and its candidates: subsequence matching with highlight indices,
file-name and word-start matches first, gitignore respected (git and plain walk), cancel."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from pycodex.frontends.app_server.file_search import candidates, score, search


def test_a_match_has_indices_of_the_query_characters_in_order() -> None:
    scored = score("mdl", "src/model.py")
    assert scored is not None
    _, indices = scored
    assert [("src/model.py")[i] for i in indices] == ["m", "d", "l"]
    assert indices == sorted(indices)


def test_no_match_when_a_character_is_missing_or_out_of_order() -> None:
    assert score("xyz", "src/model.py") is None
    assert score("ldm", "src/model.py") is None


def test_case_is_ignored_and_word_starts_and_file_names_score_higher() -> None:
    assert score("MODEL", "src/model.py") is not None
    name_hit = score("main", "src/main.py")
    scattered = score("main", "src/my_app/init.py")
    assert name_hit is not None and scattered is not None and name_hit[0] > scattered[0]


def test_search_ranks_best_first_then_by_path(tmp_path: Path) -> None:
    for rel in ("a/b/config.toml", "conf/x.txt", "docs/configuration.md", "zz/c_o_n_f.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    found = search("config", [str(tmp_path)])
    assert [m.path for m in found][:2] == ["a/b/config.toml", "docs/configuration.md"]
    assert all(m.root == str(tmp_path) for m in found)
    assert found[0].to_json()["file_name"] == "config.toml"


def test_plain_walk_skips_ignored_and_dependency_dirs(tmp_path: Path) -> None:
    for rel in ("keep.py", "node_modules/dep/index.js", "build.log", "out/gen.py", ".git/config"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    (tmp_path / ".gitignore").write_text("*.log\nout/\n")
    assert sorted(candidates(tmp_path, threading.Event())) == [".gitignore", "keep.py"]


def test_git_repository_lists_tracked_and_untracked_but_not_ignored(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for rel in ("src/app.py", "secret.env", "new.txt", "vendor/ok.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    (tmp_path / ".gitignore").write_text("*.env\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "src/app.py"], check=True)
    listed = sorted(candidates(tmp_path, threading.Event()))
    assert listed == [".gitignore", "new.txt", "src/app.py", "vendor/ok.py"]


def test_cancelled_search_returns_nothing(tmp_path: Path) -> None:
    (tmp_path / "file.py").write_text("x")
    cancel = threading.Event()
    cancel.set()
    assert search("file", [str(tmp_path)], cancel=cancel) == []
    assert search("", [str(tmp_path)]) == []
