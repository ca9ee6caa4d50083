"""Skills: found in the repository's `.codex/skills` / `.agents/skills` and in
`$PYCODEX_HOME/skills`, validated, and listed to the model in the first request."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pycodex.config.config import ConfigOverrides, load_config
from pycodex.context.instructions import skills_instructions
from pycodex.context.skills import load_skills
from pycodex.core.thread_manager import ThreadManager, ThreadOptions
from pycodex.protocol.events import TaskCompleteEvent
from tests.support.engine import submit_text, until
from tests.support.mock_model import MockModelServer, message, response


def skill(directory: Path, name: str, description: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "SKILL.md"
    path.write_text(f"---\nname: {name}\ndescription: {description}\n---\n# {name}\nBody text.\n")
    return path


def world(tmp_path: Path) -> tuple[Path, Path, Path]:
    home, repo = tmp_path / "home", tmp_path / "repo"
    home.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    sub = repo / "pkg"
    sub.mkdir()
    return home, repo, sub


def test_skills_from_every_root_most_specific_first(tmp_path: Path) -> None:
    home, repo, sub = world(tmp_path)
    user = skill(home / "skills" / "deploy", "deploy", "Ship a release")
    repo_skill = skill(repo / ".codex" / "skills" / "lint", "lint", "Run the linters")
    agents = skill(sub / ".agents" / "skills" / "nested" / "fmt", "fmt", "Format code")
    skill(repo / ".codex" / "skills" / "shadow", "deploy", "Repository's own deploy")
    (repo / ".codex" / "skills" / "broken").mkdir()
    (repo / ".codex" / "skills" / "broken" / "SKILL.md").write_text("no frontmatter\n")

    found = load_skills(home, sub)

    # cwd's own directories first, then the repository root's (its skills sorted by path).
    assert [(s.name, s.scope) for s in found.skills] == [("fmt", "repo"), ("lint", "repo"), ("deploy", "repo")]
    paths = {s.name: s.path for s in found.skills}
    assert paths["fmt"] == agents and paths["lint"] == repo_skill
    assert paths["deploy"] != user  # the repository's skill shadows the user's of that name
    assert [e.path.parent.name for e in found.errors] == ["broken"]


def test_no_skills_no_block(tmp_path: Path) -> None:
    home, _, sub = world(tmp_path)
    assert skills_instructions(home, sub) is None


async def test_skills_listed_in_the_first_request(tmp_path: Path, mock_model: MockModelServer) -> None:
    home, repo, _ = world(tmp_path)
    path = skill(home / "skills" / "deploy", "deploy", "Ship a release to production")
    (home / "config.toml").write_text(
        f'model_provider = "mock"\n[model_providers.mock]\nname = "mock"\nbase_url = "{mock_model.url}"\n'
    )
    env = {"PYCODEX_HOME": str(home), "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    thread = await ThreadManager(ThreadOptions(env=env)).start_thread(
        load_config(ConfigOverrides(cwd=repo), env=env)
    )
    mock_model.enqueue(response(message("ok")))
    await submit_text(thread, "hello")
    await until(thread, TaskCompleteEvent)
    await thread.shutdown()
    developer = [i for i in mock_model.model_requests()[0].body["input"] if i.get("role") == "developer"]
    parts = [p["text"] for p in developer[1]["content"]]
    assert len(parts) == 2 and parts[0].startswith("<skills_instructions>")
    assert f"- deploy: Ship a release to production (file: {path.as_posix()})" in parts[0]
    assert "permission" in parts[1].lower()
