"""TurnDiffTracker: the whole task's patches as one git-style diff that `git apply` accepts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pycodex.apply_patch import apply_changes, compute_changes, parse_patch
from pycodex.core.turn_diff import TurnDiffTracker

BASELINE = {
    "existing.txt": "old line\n",
    "gone.txt": "bye\n",
    "src/mv.txt": "a\nb\nc\n",
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def tree(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            path = Path(dirpath) / name
            out[path.relative_to(root).as_posix()] = path.read_text()
    return out


def apply(tracker: TurnDiffTracker, cwd: Path, text: str) -> None:
    changes = compute_changes(parse_patch(text), cwd)
    tracker.on_patch(changes)
    apply_changes(changes)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    write_tree(root, BASELINE)
    return root


def assert_git_applies(diff: str, baseline: dict[str, str], expected: dict[str, str], tmp: Path) -> None:
    """Replaying `diff` on a copy of the baseline with `git apply` gives the same tree."""
    replay = tmp / "replay"
    if replay.exists():
        shutil.rmtree(replay)
    replay.mkdir()
    write_tree(replay, baseline)
    (tmp / "turn.diff").write_text(diff)
    subprocess.run(["git", "apply", str(tmp / "turn.diff")], cwd=replay, check=True, capture_output=True)
    assert tree(replay) == expected


def test_add_update_delete_and_move_in_one_patch(repo: Path, tmp_path: Path) -> None:
    tracker = TurnDiffTracker(repo)
    apply(
        tracker,
        repo,
        "*** Begin Patch\n"
        "*** Add File: new.txt\n+fresh\n"
        "*** Update File: existing.txt\n@@\n-old line\n+new line\n"
        "*** Delete File: gone.txt\n"
        "*** Update File: src/mv.txt\n*** Move to: dst/mv.txt\n@@\n a\n-b\n+B\n c\n"
        "*** End Patch",
    )
    diff = tracker.unified_diff()
    # Sorted by path, deletions first.
    assert diff == (
        "diff --git a/gone.txt b/gone.txt\n"
        "deleted file mode 100644\n"
        "index b023018cabc396e7692c70bbf5784a93d3f738ab..0000000000000000000000000000000000000000\n"
        "--- a/gone.txt\n"
        "+++ /dev/null\n"
        "@@ -1 +0,0 @@\n"
        "-bye\n"
        "diff --git a/src/mv.txt b/dst/mv.txt\n"
        "similarity index 66%\n"
        "rename from src/mv.txt\n"
        "rename to dst/mv.txt\n"
        "index de980441c3ab03a8c07dda1ad27b8a11f39deb1e..7be73ce3c1b1cdaea86e8168dfee8575175953bf\n"
        "--- a/src/mv.txt\n"
        "+++ b/dst/mv.txt\n"
        "@@ -1,3 +1,3 @@\n"
        " a\n"
        "-b\n"
        "+B\n"
        " c\n"
        "diff --git a/existing.txt b/existing.txt\n"
        "index 0906fbadffba7c7e7d20ac432b32475f96fbec30..86ba82a2e61b677ebd18b7186426a43fb3c81fc4\n"
        "--- a/existing.txt\n"
        "+++ b/existing.txt\n"
        "@@ -1 +1 @@\n"
        "-old line\n"
        "+new line\n"
        "diff --git a/new.txt b/new.txt\n"
        "new file mode 100644\n"
        "index 0000000000000000000000000000000000000000..92d5444121bba43a7654dcfb037c209cb2a5d403\n"
        "--- /dev/null\n"
        "+++ b/new.txt\n"
        "@@ -0,0 +1 @@\n"
        "+fresh\n"
    )
    assert_git_applies(diff, BASELINE, tree(repo), tmp_path)


def test_later_patches_diff_against_the_first_baseline(repo: Path, tmp_path: Path) -> None:
    tracker = TurnDiffTracker(repo)
    apply(tracker, repo, "*** Begin Patch\n*** Update File: existing.txt\n@@\n-old line\n+middle\n*** End Patch")
    first = tracker.unified_diff()
    assert "-old line\n+middle\n" in first
    apply(tracker, repo, "*** Begin Patch\n*** Update File: existing.txt\n@@\n-middle\n+final\n*** End Patch")
    second = tracker.unified_diff()
    assert "-old line\n+final\n" in second and "middle" not in second
    assert_git_applies(second, BASELINE, tree(repo), tmp_path)


def test_add_then_delete_in_the_same_task_leaves_no_diff(repo: Path) -> None:
    tracker = TurnDiffTracker(repo)
    apply(tracker, repo, "*** Begin Patch\n*** Add File: tmp.txt\n+x\n*** End Patch")
    assert "tmp.txt" in tracker.unified_diff()
    apply(tracker, repo, "*** Begin Patch\n*** Delete File: tmp.txt\n*** End Patch")
    assert tracker.unified_diff() == ""
    assert tracker.touched


def test_moved_file_followed_by_a_new_file_at_the_old_path(repo: Path, tmp_path: Path) -> None:
    tracker = TurnDiffTracker(repo)
    apply(tracker, repo, "*** Begin Patch\n*** Update File: gone.txt\n*** Move to: kept.txt\n@@\n-bye\n+hello\n*** End Patch")
    # The old path was vacated earlier in the task: the new file there is an add, not an
    # update of the (pre-task) content that is still recorded for the moved file.
    apply(tracker, repo, "*** Begin Patch\n*** Add File: gone.txt\n+reborn\n*** End Patch")
    diff = tracker.unified_diff()
    assert "diff --git a/gone.txt b/gone.txt\nnew file mode 100644\n" in diff
    assert "rename from gone.txt\nrename to kept.txt\n" in diff
    assert_git_applies(diff, BASELINE, tree(repo), tmp_path)


def test_move_over_an_existing_file(repo: Path, tmp_path: Path) -> None:
    tracker = TurnDiffTracker(repo)
    apply(tracker, repo, "*** Begin Patch\n*** Update File: gone.txt\n*** Move to: existing.txt\n@@\n-bye\n+bye!\n*** End Patch")
    diff = tracker.unified_diff()
    assert_git_applies(diff, BASELINE, tree(repo), tmp_path)
    assert tree(repo)["existing.txt"] == "bye!\n"


def test_take_changed_diff_reports_only_new_states(repo: Path) -> None:
    tracker = TurnDiffTracker(repo)
    assert not tracker.touched
    assert tracker.take_changed_diff() is None  # nothing yet
    apply(tracker, repo, "*** Begin Patch\n*** Add File: a.txt\n+1\n*** End Patch")
    first = tracker.take_changed_diff()
    assert first is not None and "+++ b/a.txt" in first
    assert tracker.take_changed_diff() is None  # unchanged since
    apply(tracker, repo, "*** Begin Patch\n*** Update File: a.txt\n@@\n-1\n+2\n*** End Patch")
    second = tracker.take_changed_diff()
    assert second is not None and second != first


def test_paths_are_relative_to_the_repository_root_from_a_subdirectory(repo: Path) -> None:
    sub = repo / "src"
    tracker = TurnDiffTracker(sub)
    apply(tracker, sub, "*** Begin Patch\n*** Add File: lib/x.py\n+pass\n*** End Patch")
    assert tracker.unified_diff().startswith("diff --git a/src/lib/x.py b/src/lib/x.py\n")


def test_outside_a_repository_paths_are_relative_to_cwd_else_absolute(tmp_path: Path) -> None:
    cwd = tmp_path / "plain"
    other = tmp_path / "elsewhere"
    cwd.mkdir()
    other.mkdir()
    tracker = TurnDiffTracker(cwd)
    apply(tracker, cwd, f"*** Begin Patch\n*** Add File: in.txt\n+1\n*** Add File: {other}/out.txt\n+2\n*** End Patch")
    diff = tracker.unified_diff()
    assert "diff --git a/in.txt b/in.txt\n" in diff
    assert f"diff --git a/{other.as_posix()}/out.txt b/{other.as_posix()}/out.txt\n" in diff


def test_missing_final_newline_and_executable_mode(repo: Path, tmp_path: Path) -> None:
    script = repo / "run.sh"
    script.write_text("#!/bin/sh\necho hi")
    script.chmod(0o755)
    baseline = {**BASELINE, "run.sh": "#!/bin/sh\necho hi"}
    tracker = TurnDiffTracker(repo)
    apply(tracker, repo, "*** Begin Patch\n*** Update File: run.sh\n@@\n-echo hi\n+echo bye\n*** End Patch")
    diff = tracker.unified_diff()
    # Codex's index line: full blob ids, no mode (an unchanged mode is not repeated).
    assert re.fullmatch(r"index [0-9a-f]{40}\.\.[0-9a-f]{40}", diff.splitlines()[1])
    assert "-echo hi\n\\ No newline at end of file\n+echo bye\n" in diff
    replay_expected = tree(repo)
    assert_git_applies(diff, baseline, replay_expected, tmp_path)


def test_binary_baseline_is_reported_not_dumped(repo: Path) -> None:
    (repo / "blob.bin").write_bytes(b"\x00\x01\x02")
    tracker = TurnDiffTracker(repo)
    apply(tracker, repo, "*** Begin Patch\n*** Add File: blob.bin\n+text now\n*** End Patch")
    diff = tracker.unified_diff()
    assert "Binary files a/blob.bin and b/blob.bin differ\n" in diff


def test_form_feed_and_lone_cr_stay_inside_their_line(repo: Path, tmp_path: Path) -> None:
    (repo / "ff.py").write_text("a = 1\n\x0c\nb = 2\r\nc\rd\n")
    baseline = {**BASELINE, "ff.py": "a = 1\n\x0c\nb = 2\r\nc\rd\n"}
    tracker = TurnDiffTracker(repo)
    apply(tracker, repo, "*** Begin Patch\n*** Update File: ff.py\n@@\n-a = 1\n+a = 10\n*** End Patch")
    diff = tracker.unified_diff()
    assert "@@ -1,4 +1,4 @@\n" in diff
    assert_git_applies(diff, baseline, tree(repo), tmp_path)


def test_same_text_as_codex_turn_diff_in_the_reference_transcript(repo: Path) -> None:
    """reference/app-server/session.transcript.jsonl: Codex's `turn/diff/updated` after
    one patch updating existing.txt and adding hello.txt."""
    import json

    transcript = Path(__file__).resolve().parents[3] / "shared/reference/app-server/session.transcript.jsonl"
    if not transcript.is_file():
        pytest.skip(f"reference data not found at {transcript}")
    expected = next(
        msg["msg"]["params"]["diff"]
        for msg in map(json.loads, transcript.read_text().splitlines())
        if isinstance(msg.get("msg"), dict) and msg["msg"].get("method") == "turn/diff/updated"
    )
    tracker = TurnDiffTracker(repo)
    apply(
        tracker,
        repo,
        "*** Begin Patch\n*** Update File: existing.txt\n@@\n-old line\n+new line\n"
        "*** Add File: hello.txt\n+hello world\n+second line\n*** End Patch",
    )
    assert tracker.unified_diff() == expected
