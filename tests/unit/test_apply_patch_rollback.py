"""A patch that fails while its files are being put in place leaves the tree as it was:
modified files get their old content back, deleted ones come back, new files and
directories go away, and no kept copy is left behind."""

from __future__ import annotations

from pathlib import Path

from pycodex.apply_patch import apply_patch_text


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_late_failure_undoes_every_earlier_change(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\n")
    (tmp_path / "x.txt").write_text("in the way\n")
    (tmp_path / "w.txt").write_text("moved\n")
    before = _tree(tmp_path)
    patch = "\n".join([
        "*** Begin Patch",
        "*** Update File: a.txt", "@@", "-one", "+two",    # modified first
        "*** Delete File: x.txt",                           # then deleted,
        "*** Add File: x.txt/y.txt", "+new",                # its path becomes a directory,
        "*** Update File: w.txt", "*** Move to: x.txt",     # and a file cannot go there
        "@@", "-moved", "+moved again",
        "*** End Patch",
    ])
    code, out, err = apply_patch_text(patch, tmp_path)
    assert (code, out) == (1, "")
    assert err.startswith(f"Failed to write file {tmp_path}/x.txt")
    assert _tree(tmp_path) == before
    assert [p.name for p in tmp_path.iterdir() if "apply_patch" in p.name] == []


def test_a_successful_patch_leaves_no_kept_copies(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\n")
    (tmp_path / "gone.txt").write_text("bye\n")
    patch = "*** Begin Patch\n*** Update File: a.txt\n@@\n-one\n+two\n*** Delete File: gone.txt\n*** End Patch"
    assert apply_patch_text(patch, tmp_path)[0] == 0
    assert _tree(tmp_path) == {"a.txt": "two\n"}
