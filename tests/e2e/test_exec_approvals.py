"""`pycodex exec` and approvals: exec cannot ask, so every request is denied, visibly, and
the run never hangs. Also: the default read-only sandbox really sandboxes commands.

exec forces approval `never` (as Codex does) unless `--full-auto` (on-request), so requests
come from escalations and from patches outside the writable roots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pycodex.protocol.policies import ReadOnlyPolicy
from pycodex.safety.approval import EXEC_DECLINED_MESSAGE, PATCH_DECLINED_MESSAGE
from pycodex.sandbox.launcher import sandbox_status
from tests.support.exec_cli import Result, call_outputs, input_items, shell_call
from tests.support.mock_model import MockModelServer, custom_tool_call, message, response

RunExec = Callable[..., Result]

_status = sandbox_status(ReadOnlyPolicy())
needs_sandbox = pytest.mark.skipif(
    not _status.available, reason=f"no sandbox backend on this machine: {_status.reason}"
)

HINT = "--dangerously-bypass-approvals-and-sandbox"
# Keep /tmp (where the test worlds live) out of the writable roots.
NO_TMP_ROOTS = (
    "-c", "sandbox_workspace_write.exclude_slash_tmp=true",
    "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true",
)


def escalated(script: str, call_id: str) -> dict[str, object]:
    return shell_call(script, call_id=call_id, with_escalated_permissions=True, justification="needed")


def test_escalation_request_is_denied_and_reported(
    run_exec: RunExec, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.enqueue(
        response(escalated("touch asked.txt", "c1")),
        response(message("could not")),
    )
    r = run_exec("--json", "--full-auto", "go", timeout=30)
    assert r.rc == 0, r.stderr
    assert not (workspace / "asked.txt").exists()
    [warning] = r.items("error")
    assert "touch asked.txt" in warning["message"] and HINT in warning["message"]
    # The command shows as an item the moment it is asked about, and ends declined.
    [item] = r.items("command_execution")
    assert item["command"] == "bash -c 'touch asked.txt'"
    assert (item["status"], item["exit_code"], item["aggregated_output"]) == ("declined", None, "")
    assert r.pairs()[-1] == ("turn.completed", None)
    assert call_outputs(mock_model.model_requests()[1]) == [("c1", EXEC_DECLINED_MESSAGE)]


def test_human_mode_prints_the_denial_on_stderr(
    run_exec: RunExec, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.enqueue(response(escalated("touch asked.txt", "c1")), response(message("ok")))
    r = run_exec("--full-auto", "go", timeout=30)
    assert r.rc == 0, r.stderr
    assert "warning: denied `bash -c 'touch asked.txt'`" in r.stderr and HINT in r.stderr
    assert r.stdout.strip() == "ok"


def test_full_auto_escalation_and_patch_outside_are_denied(
    run_exec: RunExec, mock_model: MockModelServer, workspace: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    patch = f"*** Begin Patch\n*** Add File: {outside / 'p.txt'}\n+x\n*** End Patch\n"
    mock_model.enqueue(
        response(
            escalated(f"touch {outside / 'e.txt'}", "c1"),
            custom_tool_call("apply_patch", patch, call_id="p1"),
        ),
        response(message("done")),
    )
    r = run_exec("--json", "--full-auto", *NO_TMP_ROOTS, "go", timeout=30)
    assert r.rc == 0, r.stderr
    assert list(outside.iterdir()) == []
    assert len(r.items("error")) == 2
    assert [i["status"] for i in r.items("command_execution")] == ["declined"]
    assert [i["status"] for i in r.items("file_change")] == ["failed"]  # exec has no "declined"
    request = mock_model.model_requests()[1]
    assert call_outputs(request) == [("c1", EXEC_DECLINED_MESSAGE)]
    [patch_output] = input_items(request, "custom_tool_call_output")
    assert (patch_output["call_id"], patch_output["output"]) == ("p1", PATCH_DECLINED_MESSAGE)


@needs_sandbox
def test_default_read_only_sandbox_runs_commands_but_blocks_writes(
    run_exec: RunExec, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.enqueue(
        response(shell_call("cat existing.txt; touch created.txt", call_id="c1")),
        response(message("done")),
    )
    r = run_exec("--json", "go", timeout=30)
    assert r.rc == 0, r.stderr
    assert not (workspace / "created.txt").exists()
    [item] = r.items("command_execution")
    assert "Read-only file system" in item["aggregated_output"]
    [(call_id, output)] = call_outputs(mock_model.model_requests()[1])
    assert call_id == "c1" and "Read-only file system" in output
    assert r.items("error") == []  # no approval was asked: exec's policy is never


def test_rules_forbid_a_command_unless_ignore_rules(
    run_exec: RunExec, mock_model: MockModelServer, pycodex_home: Path
) -> None:
    rules = pycodex_home / "rules"
    rules.mkdir()
    (rules / "default.rules").write_text(
        'prefix_rule(pattern=["echo"], decision="forbidden", justification="no echo here")\n'
    )
    for _ in range(2):
        mock_model.enqueue(response(shell_call("echo hello", call_id="c1")), response(message("ok")))

    blocked = run_exec("--json", "-s", "danger-full-access", "run it")
    allowed = run_exec("--json", "-s", "danger-full-access", "--ignore-rules", "run it")

    assert blocked.rc == 0 and allowed.rc == 0, blocked.stderr + allowed.stderr
    requests = mock_model.model_requests()
    [(_, refused)] = call_outputs(requests[1])
    [(_, ran)] = call_outputs(requests[3])
    assert refused == "`bash -c 'echo hello'` rejected: blocked by policy rule: no echo here"
    assert ran.startswith("Exit code: 0") and ran.endswith("hello\n")


def test_ignore_user_config_skips_config_toml(
    run_exec: RunExec, mock_model: MockModelServer, pycodex_home: Path
) -> None:
    config = pycodex_home / "config.toml"
    config.write_text('model_verbosity = "high"\n' + config.read_text())
    mock_model.enqueue(response(message("one")))

    used = run_exec("--json", "hi")
    # Without config.toml the mock provider is unknown: the run fails, naming it.
    ignored = run_exec("--json", "--ignore-user-config", "-c", "model_provider=mock", "hi")

    assert used.rc == 0, used.stderr
    assert mock_model.model_requests()[0].body["text"] == {"verbosity": "high"}
    assert ignored.rc == 1
    assert "unknown model provider `mock`" in ignored.stderr
    assert len(mock_model.model_requests()) == 1
