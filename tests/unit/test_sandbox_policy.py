"""Writable roots and protected subpaths (pycodex.sandbox.policy)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pycodex.protocol.policies import (
    DangerFullAccessPolicy,
    ExternalSandboxPolicy,
    ReadOnlyPolicy,
    WorkspaceWritePolicy,
)
from pycodex.sandbox.policy import WritableRoot, writable_roots

NO_TMP = {"exclude_slash_tmp": True, "exclude_tmpdir_env_var": True}


def test_read_only_has_no_roots_and_danger_is_unrestricted(tmp_path: Path) -> None:
    assert writable_roots(ReadOnlyPolicy(), tmp_path, {}) == []
    assert writable_roots(DangerFullAccessPolicy(), tmp_path, {}) is None
    assert writable_roots(ExternalSandboxPolicy(), tmp_path, {}) is None


def test_cwd_extra_roots_tmpdir_and_tmp(tmp_path: Path) -> None:
    cwd, extra, tmpdir = tmp_path / "ws", tmp_path / "extra", tmp_path / "tmpdir"
    for d in (cwd, extra, tmpdir, cwd / "rel"):
        d.mkdir(parents=True)
    policy = WorkspaceWritePolicy(writable_roots=[str(extra), "rel", str(tmp_path / "missing")])
    roots = writable_roots(policy, cwd, {"TMPDIR": str(tmpdir)})
    assert roots is not None
    paths = [r.root for r in roots]
    assert set(paths) == {cwd, extra, tmpdir, cwd / "rel", Path("/tmp").resolve()}
    assert paths == sorted(paths, key=lambda p: (len(p.parts), str(p)))  # shallowest first
    excluded = writable_roots(WorkspaceWritePolicy(**NO_TMP), cwd, {"TMPDIR": str(tmpdir)})
    assert [r.root for r in excluded or []] == [cwd]


def test_roots_are_canonical_and_deduplicated(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    policy = WorkspaceWritePolicy(writable_roots=[str(tmp_path / "alias"), str(real)], **NO_TMP)
    roots = writable_roots(policy, tmp_path / "alias", {})
    assert [r.root for r in roots or []] == [real]


def test_protected_subpaths_of_the_cwd_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".agents").mkdir()
    (root,) = writable_roots(WorkspaceWritePolicy(**NO_TMP), tmp_path, {}) or []
    assert set(root.read_only_subpaths) == {
        tmp_path / ".git", tmp_path / ".agents", tmp_path / ".codex", tmp_path / ".pycodex"}
    # .codex/.pycodex are protected even though missing: the sandbox must hold placeholders
    assert set(root.missing_subpaths) == {tmp_path / ".codex", tmp_path / ".pycodex"}
    assert not root.is_writable(tmp_path / ".git" / "hooks" / "pre-commit")
    assert not root.is_writable(tmp_path / ".codex")
    assert root.is_writable(tmp_path / "src" / "x.py")


def test_config_dirs_of_other_roots_only_when_present(tmp_path: Path) -> None:
    cwd, extra = tmp_path / "ws", tmp_path / "extra"
    (extra / ".codex").mkdir(parents=True)
    (extra / ".codex" / "config.toml").write_text("")
    cwd.mkdir()
    roots = writable_roots(WorkspaceWritePolicy(writable_roots=[str(extra)], **NO_TMP), cwd, {})
    by_root = {r.root: r for r in roots or []}
    assert by_root[extra].read_only_subpaths == (extra / ".codex",)
    assert by_root[extra].missing_subpaths == ()
    assert not any(p.name == ".pycodex" for p in by_root[extra].read_only_subpaths)


def test_existing_non_empty_config_dir_is_not_a_placeholder(tmp_path: Path) -> None:
    (tmp_path / ".codex").mkdir()
    (tmp_path / ".codex" / "config.toml").write_text("")
    (root,) = writable_roots(WorkspaceWritePolicy(**NO_TMP), tmp_path, {}) or []
    assert tmp_path / ".codex" in root.read_only_subpaths
    assert tmp_path / ".codex" not in root.missing_subpaths


def test_gitdir_file_protects_file_target_and_commondir(tmp_path: Path) -> None:
    main_git = tmp_path / "main" / ".git"
    wt_gitdir = main_git / "worktrees" / "wt"
    wt_gitdir.mkdir(parents=True)
    (wt_gitdir / "commondir").write_text("../..\n")
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".git").write_text("gitdir: ../main/.git/worktrees/wt\n")
    (root,) = writable_roots(WorkspaceWritePolicy(**NO_TMP), wt, {}) or []
    assert wt / ".git" in root.read_only_subpaths
    assert wt_gitdir in root.read_only_subpaths
    assert main_git in root.read_only_subpaths


def test_symlinked_git_is_protected_at_its_target(tmp_path: Path) -> None:
    store = tmp_path / "ws" / "gitstore"
    store.mkdir(parents=True)
    (tmp_path / "ws" / ".git").symlink_to(store)
    (root,) = writable_roots(WorkspaceWritePolicy(**NO_TMP), tmp_path / "ws", {}) or []
    assert store in root.read_only_subpaths


def test_relative_tmpdir_is_ignored(tmp_path: Path) -> None:
    roots = writable_roots(WorkspaceWritePolicy(exclude_slash_tmp=True), tmp_path,
                           {"TMPDIR": "relative/tmp"})
    assert [r.root for r in roots or []] == [tmp_path]


@pytest.mark.parametrize("inside", [True, False])
def test_is_writable(tmp_path: Path, inside: bool) -> None:
    root = WritableRoot(tmp_path, (tmp_path / ".git",))
    target = tmp_path / "a" if inside else Path(os.path.dirname(tmp_path)) / "b"
    assert root.is_writable(target) is inside
