from __future__ import annotations

import subprocess
from pathlib import Path

import msgspec
import pytest

from pycodex.context.environment import EnvironmentContext
from pycodex.context.instructions import (
    InstructionsError,
    default_base_instructions,
    format_user_instructions,
    load_base_instructions,
    load_user_instructions,
    project_doc_paths,
)


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "pkg" / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def test_base_instructions_are_ours_and_overridable(tmp_path: Path) -> None:
    assert "pycodex" in default_base_instructions()
    custom = tmp_path / "prompt.md"
    custom.write_text("Be terse.")
    assert load_base_instructions(custom) == "Be terse."
    with pytest.raises(InstructionsError, match="model_instructions_file"):
        load_base_instructions(tmp_path / "missing.md")


def test_agents_md_from_repo_root_down_to_cwd(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "AGENTS.md").write_text("root rules")
    (repo / "pkg" / "AGENTS.md").write_text("pkg rules")
    (tmp_path / "AGENTS.md").write_text("outside the repo: ignored")
    cwd = repo / "pkg" / "sub"
    assert project_doc_paths(cwd) == [repo / "AGENTS.md", repo / "pkg" / "AGENTS.md"]
    home = tmp_path / "home"
    home.mkdir()
    (home / "AGENTS.md").write_text("global rules")
    text = load_user_instructions(home=home, cwd=cwd)
    assert text is not None
    assert text.index("global rules") < text.index("--- project-doc ---") < text.index("root rules") < text.index("pkg rules")


def test_project_docs_are_size_capped(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "AGENTS.md").write_text("x" * 10_000)
    (repo / "pkg" / "AGENTS.md").write_text("never reached")
    text = load_user_instructions(home=tmp_path / "nohome", cwd=repo / "pkg", max_bytes=1000)
    assert text is not None and len(text) <= 1000 and "never reached" not in text


def test_no_docs_means_none(tmp_path: Path) -> None:
    assert load_user_instructions(home=tmp_path / "h", cwd=_repo(tmp_path)) is None


def test_user_instructions_are_framed() -> None:
    text = format_user_instructions(Path("/w"), "rules")
    assert text.startswith("# AGENTS.md instructions for /w") and "<INSTRUCTIONS>\nrules\n</INSTRUCTIONS>" in text


def test_environment_context_renders_and_compares() -> None:
    env = EnvironmentContext(
        cwd=Path("/w&x"), shell="bash", approval_policy="never", sandbox_mode="workspace-write",
        network_access=False, writable_roots=(Path("/w&x"),), current_date="2026-11-21", timezone="Etc/UTC",
    )
    text = env.render()
    assert text.startswith("<environment_context>\n  <cwd>/w&amp;x</cwd>\n  <shell>bash</shell>")
    assert "<sandbox_mode>workspace-write</sandbox_mode>" in text
    assert "<network_access>restricted</network_access>" in text
    assert "<writable_roots><root>/w&amp;x</root></writable_roots>" in text
    later = msgspec.structs.replace(env, current_date="2026-11-22")
    assert not later.differs_from(env)
    moved = msgspec.structs.replace(env, cwd=Path("/other"))
    assert moved.differs_from(env)


def test_fallback_filenames_are_used_only_where_no_agents_md_is(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "CLAUDE.md").write_text("root via fallback")
    (repo / "pkg" / "AGENTS.md").write_text("pkg rules")
    (repo / "pkg" / "CLAUDE.md").write_text("shadowed by AGENTS.md")
    cwd = repo / "pkg"
    assert project_doc_paths(cwd) == [repo / "pkg" / "AGENTS.md"]
    assert project_doc_paths(cwd, ("CLAUDE.md",)) == [repo / "CLAUDE.md", repo / "pkg" / "AGENTS.md"]
