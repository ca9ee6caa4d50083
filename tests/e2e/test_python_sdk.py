"""The official Python SDK (`openai-codex` 0.163.0, unchanged) drives `pycodex app-server`:
its `codex_bin` points at the installed `pycodex`, exactly as a user would configure it.
Scenarios follow `reference/sdk/sdk_results.json` (run against Codex itself)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_app_server_support import server_env
from tests.support.mock_model import MockModelServer, function_call, http_error, message, response

openai_codex = pytest.importorskip(
    "openai_codex", reason="the official SDK is a dev dependency: pip install -e '.[dev]'"
)
pytestmark = pytest.mark.e2e


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def sdk_config(tmp_path: Path, mock_model: MockModelServer, workspace: Path) -> Any:
    home = tmp_path / "pycodex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "mock"\n[model_providers.mock]\nname = "mock"\n'
        f'base_url = "{mock_model.url}"\nenv_key = "MOCK_KEY"\nrequest_max_retries = 0\n'
        "stream_max_retries = 0\n"
    )
    pycodex = shutil.which("pycodex")
    assert pycodex is not None, "pycodex is not installed in this environment"
    env = server_env(tmp_path, MOCK_KEY="x", SHELL="/bin/bash")
    return openai_codex.CodexConfig(codex_bin=pycodex, cwd=str(workspace), env=env)


@pytest.fixture
def codex(sdk_config: Any) -> Iterator[Any]:
    with openai_codex.Codex(config=sdk_config) as c:
        yield c


def shell(cmd: str, call_id: str, **extra: Any) -> dict[str, Any]:
    return function_call("shell", {"command": ["bash", "-c", cmd], **extra}, call_id=call_id)


def kinds(result: Any) -> list[str]:
    return [item.root.type for item in result.items]


def test_minimal_shell_turn(codex: Any, mock_model: MockModelServer, workspace: Path) -> None:
    assert codex.metadata.userAgent.startswith("codex_python_sdk/")
    mock_model.enqueue(response(shell("echo hello-from-tool", "call_1")), response(message("All done.")))
    thread = codex.thread_start(approval_mode=openai_codex.ApprovalMode.deny_all,
                                sandbox=openai_codex.Sandbox.full_access)
    result = thread.run("[[shell]] run it")
    assert str(result.status) == "TurnStatus.completed" and result.error is None
    assert result.final_response == "All done."
    assert kinds(result) == ["userMessage", "commandExecution", "agentMessage"]
    assert result.items[1].root.aggregated_output == "hello-from-tool\n"
    assert result.usage is not None and result.usage.total.total_tokens > 0
    assert result.usage.last.total_tokens <= result.usage.total.total_tokens


def test_multi_turn_list_read_fork_archive_resume_models(
    codex: Any, sdk_config: Any, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(response(message("Just text, no tools.")), response(message("All done.")))
    thread = codex.thread_start(approval_mode=openai_codex.ApprovalMode.deny_all)
    first = thread.run("[[text]] hi")
    second = thread.run("[[text]] again")
    assert (first.final_response, second.final_response) == ("Just text, no tools.", "All done.")
    assert kinds(second) == ["userMessage", "agentMessage"]
    # The second request carried the first turn: the thread remembers.
    assert "Just text, no tools." in str(mock_model.requests[-1].body)
    assert second.usage.total.total_tokens > second.usage.last.total_tokens

    assert thread.read().thread.id == thread.id
    assert [t.id for t in codex.thread_list().data] == [thread.id]
    forked = codex.thread_fork(thread.id)
    assert forked.id != thread.id
    assert codex.thread_archive(forked.id) is not None
    assert forked.id not in [t.id for t in codex.thread_list().data]
    assert codex.thread_unarchive(forked.id).id == forked.id
    assert set(t.id for t in codex.thread_list().data) == {thread.id, forked.id}
    assert [m.id for m in codex.models().data][:2] == ["gpt-6.1-sol", "gpt-6-astra"]

    # Resume in a new process: the history is there.
    mock_model.enqueue(response(message("Just text, no tools.")))
    with openai_codex.Codex(config=sdk_config) as other:
        resumed = other.thread_resume(thread.id)
        run = resumed.run("[[text]] resumed")
    assert run.final_response == "Just text, no tools."
    assert "All done." in str(mock_model.requests[-1].body)


def test_provider_error_raises_runtime_error(codex: Any, mock_model: MockModelServer) -> None:
    mock_model.enqueue(http_error(400))
    thread = codex.thread_start(approval_mode=openai_codex.ApprovalMode.deny_all)
    with pytest.raises(RuntimeError) as raised:
        thread.run("[[error400]] x")
    assert "mock HTTP 400" in str(raised.value)


def test_approvals_are_answered_by_the_sdk(codex: Any, mock_model: MockModelServer, workspace: Path) -> None:
    escalated = shell("touch outside-check.txt && echo wrote", "call_a",
                      sandbox_permissions="require_escalated", justification="needs to write")
    mock_model.enqueue(response(escalated), response(message("All done.")))
    thread = codex.thread_start(sandbox=openai_codex.Sandbox.read_only)  # default: auto_review
    result = thread.run("[[plainapproval]] x")
    assert result.final_response == "All done."
    command = next(i.root for i in result.items if i.root.type == "commandExecution")
    assert command.aggregated_output == "wrote\n" and (workspace / "outside-check.txt").exists()
