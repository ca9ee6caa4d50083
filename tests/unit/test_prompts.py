"""Custom prompts: discovery in `$PYCODEX_HOME/prompts`, frontmatter, placeholder expansion,
and `Op::ListCustomPrompts` through the engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pycodex.config.config import ConfigOverrides, load_config
from pycodex.context.prompts_custom import PromptArgsError, discover_prompts, expand_prompt
from pycodex.core.thread_manager import ThreadManager, ThreadOptions
from pycodex.protocol.events import ListCustomPromptsResponseEvent
from pycodex.protocol.ops import ListCustomPromptsOp
from tests.support.engine import until
from tests.support.mock_model import MockModelServer

REVIEW_PROMPT = """---
description: "Review a file for bugs"
argument-hint: FILE=<path> [focus]
---
Review $FILE with a focus on $1 and $2; all: $ARGUMENTS; cost $$5.
"""


def test_positional_all_and_literal_dollar() -> None:
    text = expand_prompt("first=$1 second=$2 ninth=$9 all=[$ARGUMENTS] $$1", 'one "two words"')
    assert text == "first=one second=two words ninth= all=[one two words] $1"


def test_named_placeholders_come_from_key_value_arguments() -> None:
    assert expand_prompt("Fix $TICKET in $AREA", "TICKET=PY-12 AREA='the parser'") == "Fix PY-12 in the parser"
    with pytest.raises(PromptArgsError, match="AREA"):
        expand_prompt("Fix $TICKET in $AREA", "TICKET=PY-12")
    with pytest.raises(PromptArgsError, match="split"):
        expand_prompt("$1", '"unbalanced')


def test_discovery_reads_frontmatter_and_skips_other_files(tmp_path: Path) -> None:
    (tmp_path / "review.md").write_text(REVIEW_PROMPT)
    (tmp_path / "plain.md").write_text("Just $ARGUMENTS\n")
    (tmp_path / "notes.txt").write_text("not a prompt")
    (tmp_path / "dir.md").mkdir()
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe")
    found = {p.name: p for p in discover_prompts(tmp_path)}
    assert sorted(found) == ["plain", "review"]
    review = found["review"]
    assert review.description == "Review a file for bugs"
    assert review.argument_hint == "FILE=<path> [focus]"
    assert review.content.startswith("Review $FILE")
    assert expand_prompt(review.content, "FILE=a.py speed memory") == (
        "Review a.py with a focus on FILE=a.py and speed; all: FILE=a.py speed memory; cost $5.\n"
    )
    assert found["plain"].description is None
    assert discover_prompts(tmp_path / "missing") == []


async def test_list_custom_prompts_op(tmp_path: Path, mock_model: MockModelServer) -> None:
    home = tmp_path / "home"
    (home / "prompts").mkdir(parents=True)
    (home / "prompts" / "review.md").write_text(REVIEW_PROMPT)
    (home / "config.toml").write_text(
        f'model_provider = "mock"\n[model_providers.mock]\nname = "mock"\nbase_url = "{mock_model.url}"\n'
    )
    env = {"PYCODEX_HOME": str(home), "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    manager = ThreadManager(ThreadOptions(env=env))
    thread = await manager.start_thread(load_config(ConfigOverrides(cwd=tmp_path), env=env))
    await thread.submit(ListCustomPromptsOp())
    answer = (await until(thread, ListCustomPromptsResponseEvent))[-1]
    await thread.shutdown()
    assert isinstance(answer, ListCustomPromptsResponseEvent)
    (prompt,) = answer.custom_prompts
    assert (prompt.name, prompt.description, prompt.argument_hint) == (
        "review", "Review a file for bugs", "FILE=<path> [focus]",
    )
    assert prompt.path == str(home / "prompts" / "review.md")


# --- /init ----------------------------------------------------------------------------------


async def test_init_writes_agents_md_from_the_models_answer_never_over_one(
    tmp_path: Path, mock_model: MockModelServer
) -> None:
    from pycodex.context.init import INIT_PROMPT, InitError, run_init
    from tests.support.mock_model import message, response

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'model_provider = "mock"\n[model_providers.mock]\nname = "mock"\nbase_url = "{mock_model.url}"\n'
    )
    env = {"PYCODEX_HOME": str(home), "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    repo = tmp_path / "repo"
    repo.mkdir()
    thread = await ThreadManager(ThreadOptions(env=env)).start_thread(
        load_config(ConfigOverrides(cwd=repo), env=env)
    )
    await thread.next_event()
    mock_model.enqueue(response(message("```markdown\n# Guide\nRun `make test`.\n```")))
    path = await run_init(thread, repo)
    assert path.read_text() == "# Guide\nRun `make test`.\n"
    assert mock_model.model_requests()[-1].body["input"][-1]["content"][0]["text"] == INIT_PROMPT
    with pytest.raises(InitError, match="already exists"):
        await run_init(thread, repo)
    await thread.shutdown()
    assert path.read_text() == "# Guide\nRun `make test`.\n"
    assert len(mock_model.model_requests()) == 1  # refused before asking the model
