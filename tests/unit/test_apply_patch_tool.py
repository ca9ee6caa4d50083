"""The apply_patch tool: which form models get, the policy gate, events, shell interception."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from pycodex.apply_patch import PatchApplyError, compute_changes, parse_patch
from pycodex.apply_patch.parser import (
    ADD_FILE,
    BEGIN_PATCH,
    DELETE_FILE,
    END_OF_FILE,
    END_PATCH,
    MOVE_TO,
    UPDATE_FILE,
)
from pycodex.core.turn_diff import TurnDiffTracker
from pycodex.protocol.event_payloads import PatchApplyBeginEvent, PatchApplyEndEvent
from pycodex.protocol.items import AddFileChange, DeleteFileChange, UpdateFileChange
from pycodex.tools.base import RespondToModel, ToolCall, ToolContext, ToolOutput
from pycodex.tools.handlers import apply_patch as handler_module
from pycodex.tools.handlers import shell as shell_module
from pycodex.tools.handlers.apply_patch import ApplyPatchHandler, protocol_changes
from pycodex.tools.handlers.shell import ShellHandler
from pycodex.tools.specs import (
    APPLY_PATCH_LARK_GRAMMAR,
    apply_patch_tool_kind,
    apply_patch_tool_spec,
)

PATCH = (
    "*** Begin Patch\n*** Add File: hello.txt\n+hello world\n+second line\n"
    "*** Update File: existing.txt\n@@\n-old line\n+new line\n*** End Patch"
)
SUCCESS = re.compile(
    r"Exit code: 0\nWall time: \d+\.\d seconds\nOutput:\n"
    r"Success\. Updated the following files:\nA hello\.txt\nM existing\.txt\n"
)
READ_ONLY_TEXT = (
    "patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings"
)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.warnings: list[str] = []


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "existing.txt").write_text("old line\n")
    return root


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


def make_ctx(
    ws: Path,
    rec: Recorder,
    sandbox: str = "workspace-write",
    approval: str = "never",
    roots: tuple[Path, ...] = (),
) -> ToolContext:
    return ToolContext(
        turn_id="turn-1",
        cwd=ws,
        approval_policy=approval,
        sandbox_mode=sandbox,
        command_env={},
        emit=rec.events.append,
        emit_warning=rec.warnings.append,
        writable_roots=roots,
        turn_diff=TurnDiffTracker(ws),
    )


def custom(text: str) -> ToolCall:
    return ToolCall(name="apply_patch", call_id="c1", kind="custom", payload=text)


# --- which tool the model gets ------------------------------------------------------------


@pytest.mark.parametrize(
    "model", ["gpt-5.5", "gpt-5", "gpt-5-codex", "gpt-6", "codex-mini-latest", "openai/gpt-5.1", "GPT-5.2"]
)
def test_freeform_families_get_the_custom_grammar_tool(model: str) -> None:
    assert apply_patch_tool_kind(model) == "freeform"
    spec = ApplyPatchHandler(apply_patch_tool_kind(model)).spec()
    assert spec["type"] == "custom" and spec["name"] == "apply_patch"
    assert spec["format"]["type"] == "grammar" and spec["format"]["syntax"] == "lark"
    assert spec["format"]["definition"] == APPLY_PATCH_LARK_GRAMMAR
    assert spec["description"]


@pytest.mark.parametrize("model", ["gpt-4.1", "gpt-4o", "o3", "gpt-oss-20b", "llama3.1", "qwen2.5-coder"])
def test_other_models_get_a_function_tool_with_one_string_input(model: str) -> None:
    assert apply_patch_tool_kind(model) == "function"
    spec = apply_patch_tool_spec("function")
    assert spec["type"] == "function" and spec["name"] == "apply_patch"
    params = spec["parameters"]
    assert params["required"] == ["input"] and params["properties"]["input"]["type"] == "string"
    assert params["additionalProperties"] is False
    assert "*** Begin Patch" in spec["description"]


def test_grammar_uses_the_markers_the_engine_parses() -> None:
    for marker in (BEGIN_PATCH, END_PATCH, ADD_FILE, DELETE_FILE, UPDATE_FILE, MOVE_TO, END_OF_FILE):
        assert f'"{marker}' in APPLY_PATCH_LARK_GRAMMAR, marker
    assert APPLY_PATCH_LARK_GRAMMAR.startswith("start:")


# --- the call -------------------------------------------------------------------------------


async def test_custom_call_applies_and_emits_begin_then_end(ws: Path, rec: Recorder) -> None:
    ctx = make_ctx(ws, rec)
    out = await ApplyPatchHandler().handle(custom(PATCH), ctx)
    assert out.success and SUCCESS.fullmatch(out.text), out.text
    assert (ws / "hello.txt").read_text() == "hello world\nsecond line\n"
    assert (ws / "existing.txt").read_text() == "new line\n"
    begin, end = rec.events
    assert isinstance(begin, PatchApplyBeginEvent) and isinstance(end, PatchApplyEndEvent)
    assert begin.auto_approved and begin.call_id == end.call_id == "c1" and begin.turn_id == "turn-1"
    assert set(begin.changes) == {str(ws / "hello.txt"), str(ws / "existing.txt")}
    assert begin.changes[str(ws / "hello.txt")] == AddFileChange(content="hello world\nsecond line\n")
    update = begin.changes[str(ws / "existing.txt")]
    assert isinstance(update, UpdateFileChange) and "-old line\n+new line\n" in update.unified_diff
    assert end.success and end.stderr == "" and end.stdout.startswith("Success.")
    assert end.changes == begin.changes
    assert ctx.turn_diff is not None and "+++ b/hello.txt" in ctx.turn_diff.unified_diff()


async def test_function_call_takes_the_patch_from_input(ws: Path, rec: Recorder) -> None:
    call = ToolCall(name="apply_patch", call_id="f1", kind="function", payload=json.dumps({"input": PATCH}))
    out = await ApplyPatchHandler("function").handle(call, make_ctx(ws, rec))
    assert SUCCESS.fullmatch(out.text)


@pytest.mark.parametrize("payload", ["not json", "{}", '{"input": 3}', "[]"])
async def test_function_call_with_bad_arguments_is_answered(ws: Path, rec: Recorder, payload: str) -> None:
    call = ToolCall(name="apply_patch", call_id="f1", kind="function", payload=payload)
    with pytest.raises(RespondToModel, match="failed to parse function arguments"):
        await ApplyPatchHandler("function").handle(call, make_ctx(ws, rec))
    assert rec.events == []


async def test_verification_failure_writes_nothing_and_emits_nothing(ws: Path, rec: Recorder) -> None:
    bad = "*** Begin Patch\n*** Add File: a.txt\n+a\n*** Update File: missing.txt\n@@\n-x\n+y\n*** End Patch"
    with pytest.raises(RespondToModel) as info:
        await ApplyPatchHandler().handle(custom(bad), make_ctx(ws, rec))
    assert str(info.value) == (
        "apply_patch verification failed: Failed to read file to update "
        f"{ws}/missing.txt: No such file or directory (os error 2)"
    )
    assert rec.events == [] and not (ws / "a.txt").exists()


async def test_parse_errors_are_verification_failures(ws: Path, rec: Recorder) -> None:
    with pytest.raises(RespondToModel, match=r"^apply_patch verification failed: Invalid patch: The first line"):
        await ApplyPatchHandler().handle(custom("hello"), make_ctx(ws, rec))


async def test_empty_patch_is_rejected(ws: Path, rec: Recorder) -> None:
    with pytest.raises(RespondToModel, match=r"^patch rejected: empty patch$"):
        await ApplyPatchHandler().handle(custom("*** Begin Patch\n*** End Patch"), make_ctx(ws, rec))


async def test_a_failed_write_is_reported_with_end_event(
    ws: Path, rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(changes: object) -> object:
        raise PatchApplyError(f"Failed to write file {ws}/hello.txt")

    monkeypatch.setattr(handler_module, "apply_changes", failing)
    out = await ApplyPatchHandler().handle(custom(PATCH), make_ctx(ws, rec))
    assert not out.success
    assert re.fullmatch(
        rf"Exit code: 1\nWall time: \d+\.\d seconds\nOutput:\nFailed to write file {re.escape(str(ws))}/hello.txt\n",
        out.text,
    )
    begin, end = rec.events
    assert isinstance(begin, PatchApplyBeginEvent) and isinstance(end, PatchApplyEndEvent)
    assert not end.success and end.stdout == "" and end.stderr.startswith("Failed to write file")


# --- policy ---------------------------------------------------------------------------------


async def test_read_only_rejects_with_codex_text(ws: Path, rec: Recorder) -> None:
    with pytest.raises(RespondToModel) as info:
        await ApplyPatchHandler().handle(custom(PATCH), make_ctx(ws, rec, sandbox="read-only"))
    assert str(info.value) == READ_ONLY_TEXT
    assert rec.events == [] and not (ws / "hello.txt").exists()
    assert (ws / "existing.txt").read_text() == "old line\n"


async def test_verification_comes_before_the_policy(ws: Path, rec: Recorder) -> None:
    bad = "*** Begin Patch\n*** Delete File: nope.txt\n*** End Patch"
    with pytest.raises(RespondToModel, match=r"^apply_patch verification failed: Failed to delete file"):
        await ApplyPatchHandler().handle(custom(bad), make_ctx(ws, rec, sandbox="read-only"))


@pytest.mark.parametrize(
    ("sandbox", "approval"), [("read-only", "on-request"), ("danger-full-access", "untrusted")]
)
async def test_a_patch_needing_approval_with_no_one_to_ask_is_rejected(
    ws: Path, rec: Recorder, sandbox: str, approval: str
) -> None:
    with pytest.raises(RespondToModel, match=r"^patch rejected: "):
        await ApplyPatchHandler().handle(custom(PATCH), make_ctx(ws, rec, sandbox=sandbox, approval=approval))
    assert rec.events == [] and not (ws / "hello.txt").exists()


async def test_workspace_write_confines_paths(ws: Path, rec: Recorder, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    escape = f"*** Begin Patch\n*** Add File: {outside}/x.txt\n+x\n*** End Patch"
    with pytest.raises(RespondToModel) as info:
        await ApplyPatchHandler().handle(custom(escape), make_ctx(ws, rec))
    assert str(info.value) == (
        "patch rejected: writing outside of the project; rejected by user approval settings"
    )
    assert not (outside / "x.txt").exists()
    # A configured extra root opens it; danger-full-access opens everything.
    await ApplyPatchHandler().handle(custom(escape), make_ctx(ws, rec, roots=(outside,)))
    assert (outside / "x.txt").read_text() == "x\n"
    other = f"*** Begin Patch\n*** Add File: {tmp_path}/y.txt\n+y\n*** End Patch"
    await ApplyPatchHandler().handle(custom(other), make_ctx(ws, rec, sandbox="danger-full-access"))
    assert (tmp_path / "y.txt").exists()


async def test_workspace_write_rejects_a_move_out_of_the_workspace(ws: Path, rec: Recorder, tmp_path: Path) -> None:
    move = f"*** Begin Patch\n*** Update File: existing.txt\n*** Move to: {tmp_path}/stolen.txt\n@@\n-old line\n+x\n*** End Patch"
    with pytest.raises(RespondToModel, match="writing outside of the project"):
        await ApplyPatchHandler().handle(custom(move), make_ctx(ws, rec))
    assert (ws / "existing.txt").exists()


async def test_workspace_write_protects_git_and_symlinks_out(ws: Path, rec: Recorder, tmp_path: Path) -> None:
    (ws / ".git").mkdir()
    secret = tmp_path / "secret"
    secret.mkdir()
    os.symlink(secret, ws / "link")
    for target in (".git/config", "link/x.txt", "../escape.txt"):
        text = f"*** Begin Patch\n*** Add File: {target}\n+x\n*** End Patch"
        with pytest.raises(RespondToModel, match=r"^patch rejected: writing outside of the project"):
            await ApplyPatchHandler().handle(custom(text), make_ctx(ws, rec))
    assert rec.events == [] and list(secret.iterdir()) == [] and not (ws / ".git" / "config").exists()
    await ApplyPatchHandler().handle(
        custom("*** Begin Patch\n*** Add File: a/../b.txt\n+x\n*** End Patch"), make_ctx(ws, rec)
    )
    assert (ws / "b.txt").exists()


def test_protocol_changes_show_each_files_net_effect(ws: Path) -> None:
    (ws / "old.txt").write_text("gone\n")
    patch = parse_patch(
        "*** Begin Patch\n*** Add File: n.txt\n+1\n*** Update File: n.txt\n@@\n-1\n+2\n"
        "*** Delete File: old.txt\n"
        "*** Update File: existing.txt\n*** Move to: moved.txt\n@@\n-old line\n+new\n*** End Patch"
    )
    changes = protocol_changes(compute_changes(patch, ws))
    assert changes == {
        str(ws / "n.txt"): AddFileChange(content="2\n"),
        str(ws / "old.txt"): DeleteFileChange(content="gone\n"),
        str(ws / "existing.txt"): UpdateFileChange(
            unified_diff="@@ -1 +1 @@\n-old line\n+new\n", move_path=str(ws / "moved.txt")
        ),
    }


# --- through the shell ----------------------------------------------------------------------


def shell_call(script: str, **extra: str) -> ToolCall:
    args = {"command": ["bash", "-lc", script], **extra}
    return ToolCall(name="shell", call_id="s1", kind="function", payload=json.dumps(args))


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Commands the shell handler would have run (none is actually run)."""
    calls: list[list[str]] = []

    async def fake_run(plan: Any, ctx: ToolContext, runner: Any) -> ToolOutput:
        calls.append(plan.argv)
        return ToolOutput(text="ran")

    monkeypatch.setattr(shell_module, "run_with_approvals", fake_run)
    return calls


async def test_shell_heredoc_is_applied_in_process_not_spawned(
    ws: Path, rec: Recorder, spawned: list[list[str]]
) -> None:
    out = await ShellHandler().handle(shell_call(f"apply_patch <<'EOF'\n{PATCH}\nEOF\n"), make_ctx(ws, rec))
    assert SUCCESS.fullmatch(out.text), out.text
    assert spawned == []
    assert [type(e) for e in rec.events] == [PatchApplyBeginEvent, PatchApplyEndEvent]
    assert (ws / "hello.txt").exists()


async def test_shell_workdir_and_cd_prefix_resolve_patch_paths(ws: Path, rec: Recorder) -> None:
    (ws / "pkg" / "sub").mkdir(parents=True)
    script = "cd sub && apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: x.txt\n+x\n*** End Patch\nEOF"
    await ShellHandler().handle(shell_call(script, workdir="pkg"), make_ctx(ws, rec))
    assert (ws / "pkg" / "sub" / "x.txt").read_text() == "x\n"
    begin = rec.events[0]
    assert isinstance(begin, PatchApplyBeginEvent)
    assert list(begin.changes) == [str(ws / "pkg" / "sub" / "x.txt")]


async def test_shell_patch_obeys_the_patch_policy(ws: Path, rec: Recorder) -> None:
    with pytest.raises(RespondToModel) as info:
        await ShellHandler().handle(
            shell_call(f"apply_patch <<'EOF'\n{PATCH}\nEOF"), make_ctx(ws, rec, sandbox="read-only")
        )
    assert str(info.value) == READ_ONLY_TEXT
    assert rec.events == [] and rec.warnings == []


async def test_other_shell_commands_are_not_intercepted(
    ws: Path, rec: Recorder, spawned: list[list[str]]
) -> None:
    script = f"echo hi; apply_patch <<'EOF'\n{PATCH}\nEOF"
    out = await ShellHandler().handle(shell_call(script), make_ctx(ws, rec))
    assert out.text == "ran" and spawned == [["bash", "-lc", script]]
    assert rec.events == [] and not (ws / "hello.txt").exists()
