"""Approvals through the engine: each policy asks, runs, sandboxes or rejects as documented.

Real engine (queue pair), real mock model over HTTP, real processes; the real sandbox
(bwrap or the fallback backends) where this machine has one — tests that need it skip
with the reason otherwise.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from pycodex.config.config import ConfigOverrides, load_config
from pycodex.core.thread_manager import CodexThread, ThreadManager, ThreadOptions
from pycodex.protocol.event_payloads import (
    ApplyPatchApprovalRequestEvent,
    ExecApprovalRequestEvent,
    ExecCommandBeginEvent,
    PatchApplyBeginEvent,
)
from pycodex.protocol.events import (
    EventMsg,
    SessionConfiguredEvent,
    TaskCompleteEvent,
    TurnAbortedEvent,
    WarningEvent,
)
from pycodex.protocol.ops import ExecApprovalOp, InterruptOp, PatchApprovalOp, UserInputOp
from pycodex.protocol.policies import (
    ApprovedExecPolicyAmendment,
    ExecPolicyAmendment,
    ExecReviewAnswer,
    ReviewDecision,
    WorkspaceWritePolicy,
)
from pycodex.protocol.user_input import TextInput
from pycodex.safety.approval import EXEC_DECLINED_MESSAGE, PATCH_DECLINED_MESSAGE
from pycodex.sandbox.launcher import sandbox_status
from tests.support.mock_model import (
    MockModelServer,
    custom_tool_call,
    function_call,
    message,
    response,
)

Events = list[EventMsg]
MakeThread = Callable[..., Awaitable[CodexThread]]


def _sandbox_reason() -> str | None:
    status = sandbox_status(WorkspaceWritePolicy())
    if not status.available:
        return f"no sandbox backend on this machine: {status.reason}"
    if status.degraded:
        return "sandbox degraded (workspace-write runs read-only) on this machine"
    return None


SANDBOX_MISSING = _sandbox_reason()
needs_sandbox = pytest.mark.skipif(SANDBOX_MISSING is not None, reason=SANDBOX_MISSING or "")


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    home = tmp_path / "home"
    home.mkdir()
    ws = tmp_path / "ws"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    return {"home": home, "ws": ws, "outside": outside, "tmp": tmp_path}


@pytest.fixture
async def make_thread(
    mock_model: MockModelServer, world: dict[str, Path]
) -> AsyncIterator[MakeThread]:
    threads: list[CodexThread] = []

    async def make(sandbox: str, approval: str) -> CodexThread:
        home = world["home"]
        (home / "config.toml").write_text(
            f'model_provider = "mock"\n[model_providers.mock]\nname = "mock"\n'
            f'base_url = "{mock_model.url}"\nenv_key = "MOCK_KEY"\n'
            "request_max_retries = 0\nstream_max_retries = 0\n"
            # Keep the temp dirs out of the writable roots: "outside" must really be outside.
            "[sandbox_workspace_write]\nexclude_slash_tmp = true\nexclude_tmpdir_env_var = true\n"
            # These tests are about the `shell` tool's schema and flow (exec_command's
            # approvals: tests/unit/test_unified_exec_engine.py).
            '[tools]\nshell_type = "shell"\n'
        )
        env = {"PYCODEX_HOME": str(home), "HOME": str(world["tmp"]), "MOCK_KEY": "x",
               "PATH": os.environ["PATH"], "SHELL": "/bin/bash"}
        config = load_config(
            ConfigOverrides(cwd=world["ws"], sandbox_mode=sandbox, approval_policy=approval), env=env
        )
        thread = await ThreadManager(ThreadOptions(env=env)).start_thread(config)
        first = await thread.next_event()
        assert isinstance(first.msg, SessionConfiguredEvent)
        threads.append(thread)
        return thread

    yield make
    for thread in threads:
        await thread.shutdown()


def shell(argv: list[str], call_id: str, **extra: Any) -> dict[str, Any]:
    return function_call("shell", {"command": argv, **extra}, call_id=call_id)


def bash(script: str, call_id: str, **extra: Any) -> dict[str, Any]:
    return shell(["bash", "-lc", script], call_id, **extra)


async def go(thread: CodexThread, text: str = "go") -> None:
    await thread.submit(UserInputOp(items=[TextInput(text=text)]))


async def run_turn(
    thread: CodexThread,
    answer: Callable[[EventMsg], ExecReviewAnswer | None] | None = None,
    until: type[Any] = TaskCompleteEvent,
    timeout: float = 20,
) -> Events:
    """Events up to the end of the turn, answering approval requests with `answer`."""
    seen: Events = []
    async with asyncio.timeout(timeout):
        while True:
            event = await thread.next_event()
            msg = event.msg
            seen.append(msg)
            if isinstance(msg, ExecApprovalRequestEvent | ApplyPatchApprovalRequestEvent):
                assert answer is not None, f"unexpected approval request: {msg}"
                decision = answer(msg)
                if decision is not None:
                    if isinstance(msg, ExecApprovalRequestEvent):
                        await thread.submit(ExecApprovalOp(id=msg.call_id, decision=decision))
                    else:
                        assert isinstance(decision, ReviewDecision)
                        await thread.submit(PatchApprovalOp(id=msg.call_id, decision=decision))
            if isinstance(msg, until | TurnAbortedEvent):
                return seen


def always(decision: ReviewDecision) -> Callable[[EventMsg], ReviewDecision]:
    return lambda _msg: decision


def requests(events: Events) -> list[EventMsg]:
    return [e for e in events if isinstance(e, ExecApprovalRequestEvent | ApplyPatchApprovalRequestEvent)]


def outputs(mock_model: MockModelServer, index: int = -1) -> dict[str, str]:
    body = mock_model.requests[index].body
    return {
        i["call_id"]: i["output"]
        for i in body["input"]
        if i["type"] in ("function_call_output", "custom_tool_call_output")
    }


def began(events: Events) -> list[list[str]]:
    return [e.command for e in events if isinstance(e, ExecCommandBeginEvent)]


# --- untrusted ---------------------------------------------------------------------------


@needs_sandbox
async def test_untrusted_runs_known_safe_commands_without_asking(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    (world["ws"] / "a.txt").write_text("hello\n")
    t = await make_thread("workspace-write", "untrusted")
    mock_model.enqueue(response(bash("cat a.txt && ls | wc -l", "c1")), response(message("ok")))
    await go(t)
    events = await run_turn(t)
    assert requests(events) == []
    assert "hello" in outputs(mock_model)["c1"]


async def test_untrusted_asks_before_an_unsafe_command_and_denial_reaches_the_model(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    t = await make_thread("workspace-write", "untrusted")
    mock_model.enqueue(response(bash("touch made.txt", "c1")), response(message("ok")))
    await go(t)
    events = await run_turn(t, always(ReviewDecision.DENIED))
    [req] = requests(events)
    assert isinstance(req, ExecApprovalRequestEvent)
    assert req.command == ["bash", "-lc", "touch made.txt"] and req.call_id == "c1"
    assert req.cwd == str(world["ws"]) and req.parsed_cmd[0].type == "unknown"
    assert began(events) == []  # nothing ran
    assert not (world["ws"] / "made.txt").exists()
    assert outputs(mock_model)["c1"] == EXEC_DECLINED_MESSAGE


async def test_untrusted_approved_command_runs_outside_the_sandbox(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    target = world["outside"] / "approved.txt"
    t = await make_thread("read-only", "untrusted")
    mock_model.enqueue(response(shell(["touch", str(target)], "c1")), response(message("ok")))
    await go(t)
    await run_turn(t, always(ReviewDecision.APPROVED))
    assert target.exists()
    assert outputs(mock_model)["c1"].startswith("Exit code: 0")


async def test_approved_for_session_suppresses_the_second_prompt(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    t = await make_thread("read-only", "untrusted")
    cmd = ["bash", "-lc", "echo run >> log.txt"]
    mock_model.enqueue(
        response(shell(cmd, "c1")), response(shell(cmd, "c2")),
        response(shell(["bash", "-lc", "echo other >> log.txt"], "c3")),
        response(message("ok")),
    )
    await go(t)
    answers: list[str] = []

    def answer(msg: EventMsg) -> ReviewDecision:
        assert isinstance(msg, ExecApprovalRequestEvent)
        answers.append(msg.call_id)
        return ReviewDecision.APPROVED_FOR_SESSION if msg.call_id == "c1" else ReviewDecision.DENIED

    await run_turn(t, answer)
    # c2 is the same argv as c1: not asked again. c3 differs: asked (and denied).
    assert answers == ["c1", "c3"]
    assert (world["ws"] / "log.txt").read_text() == "run\nrun\n"
    got = outputs(mock_model)
    assert got["c2"].startswith("Exit code: 0") and got["c3"] == EXEC_DECLINED_MESSAGE


@needs_sandbox
async def test_approve_and_remember_adds_an_allow_rule_that_outlives_the_session(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    t = await make_thread("workspace-write", "untrusted")
    mock_model.enqueue(
        response(bash("touch one.txt", "c1", prefix_rule=["touch"])),
        response(bash("touch two.txt", "c2")),
        response(message("ok")),
    )
    await go(t)
    asked: list[ExecApprovalRequestEvent] = []

    def remember(msg: EventMsg) -> ExecReviewAnswer:
        assert isinstance(msg, ExecApprovalRequestEvent)
        asked.append(msg)
        assert msg.proposed_execpolicy_amendment is not None
        return ApprovedExecPolicyAmendment(
            approved_execpolicy_amendment=ExecPolicyAmendment(
                proposed_execpolicy_amendment=msg.proposed_execpolicy_amendment
            )
        )

    await run_turn(t, remember)
    # The model's prefix_rule was proposed; approving it ran c1 and covered c2.
    assert [m.call_id for m in asked] == ["c1"]
    assert asked[0].proposed_execpolicy_amendment == ["touch"]
    assert (world["ws"] / "one.txt").exists() and (world["ws"] / "two.txt").exists()
    rules = world["home"] / "rules" / "default.rules"
    assert rules.read_text() == 'prefix_rule(pattern=["touch"], decision="allow")\n'

    # A new session reads the rule from disk: not asked either.
    t2 = await make_thread("workspace-write", "untrusted")
    mock_model.enqueue(response(bash("touch three.txt", "c3")), response(message("ok")))
    await go(t2)
    await run_turn(t2)  # an approval request would fail the turn helper (answer=None)
    assert (world["ws"] / "three.txt").exists()


async def test_approval_proposes_the_command_when_the_model_suggests_no_prefix(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    t = await make_thread("workspace-write", "untrusted")
    mock_model.enqueue(
        response(bash("touch made.txt", "c1", prefix_rule=["npm", "test"])),  # not a prefix
        response(bash("touch a && touch b", "c2")),  # a script: no single rule covers it
        response(message("ok")),
    )
    await go(t)
    events = await run_turn(t, always(ReviewDecision.DENIED))
    first, second = requests(events)
    assert isinstance(first, ExecApprovalRequestEvent) and isinstance(second, ExecApprovalRequestEvent)
    assert first.proposed_execpolicy_amendment == ["touch", "made.txt"]
    assert second.proposed_execpolicy_amendment is None
    assert not (world["home"] / "rules").exists()


async def test_abort_ends_the_turn_with_turn_aborted(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    t = await make_thread("workspace-write", "untrusted")
    mock_model.enqueue(response(bash("touch a.txt", "c1")))
    await go(t)
    events = await run_turn(t, always(ReviewDecision.ABORT))
    assert isinstance(events[-1], TurnAbortedEvent) and events[-1].reason.value == "interrupted"
    assert not any(isinstance(e, TaskCompleteEvent) for e in events)
    assert not (world["ws"] / "a.txt").exists()
    # The thread goes on; the aborted call has an output in the next request.
    mock_model.enqueue(response(message("fine")))
    await go(t, "next")
    await run_turn(t)
    assert outputs(mock_model) == {"c1": "aborted by user"}


async def test_interrupt_while_waiting_for_approval_drops_the_waiter_cleanly(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    t = await make_thread("workspace-write", "untrusted")
    mock_model.enqueue(response(bash("touch a.txt", "c1")))
    await go(t)
    events = await run_turn(t, lambda _m: None, until=ExecApprovalRequestEvent)
    assert isinstance(events[-1], ExecApprovalRequestEvent)
    await t.submit(InterruptOp())
    events = await run_turn(t)
    assert isinstance(events[-1], TurnAbortedEvent)
    # A late answer finds no waiter and changes nothing.
    await t.submit(ExecApprovalOp(id="c1", decision=ReviewDecision.APPROVED))
    mock_model.enqueue(response(message("fine")))
    await go(t, "next")
    await run_turn(t)
    assert not (world["ws"] / "a.txt").exists()
    assert outputs(mock_model) == {"c1": "aborted by user"}


# --- on-request and escalation -----------------------------------------------------------


async def test_on_request_offers_escalation_and_asks_for_it(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    target = world["outside"] / "escalated.txt"
    t = await make_thread("workspace-write", "on-request")
    mock_model.enqueue(
        response(shell(["touch", str(target)], "c1", with_escalated_permissions=True,
                       justification="needs to write outside")),
        response(shell(["touch", str(target) + "2"], "c2", sandbox_permissions="require_escalated")),
        response(message("ok")),
    )
    await go(t)
    events = await run_turn(t, always(ReviewDecision.APPROVED))
    reqs = requests(events)
    assert [r.call_id for r in reqs] == ["c1", "c2"]
    assert isinstance(reqs[0], ExecApprovalRequestEvent) and reqs[0].reason == "needs to write outside"
    assert target.exists() and Path(str(target) + "2").exists()
    props = mock_model.requests[0].body["tools"][0]["parameters"]["properties"]
    assert {"with_escalated_permissions", "sandbox_permissions", "justification"} <= set(props)


@pytest.mark.parametrize("approval", ["never", "on-failure", "untrusted"])
async def test_escalation_outside_on_request_is_rejected_naming_the_policy(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path], approval: str
) -> None:
    t = await make_thread("workspace-write", approval)
    mock_model.enqueue(
        response(shell(["touch", "x.txt"], "c1", with_escalated_permissions=True)),
        response(message("ok")),
    )
    await go(t)
    events = await run_turn(t)
    assert requests(events) == [] and began(events) == []
    out = outputs(mock_model)["c1"]
    assert f"`{approval}`" in out and "escalated permissions" in out
    assert "with_escalated_permissions" not in mock_model.requests[0].body["tools"][0]["parameters"]["properties"]


@needs_sandbox
async def test_on_request_sandbox_denial_goes_back_to_the_model(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    target = world["outside"] / "denied.txt"
    t = await make_thread("workspace-write", "on-request")
    mock_model.enqueue(response(shell(["touch", str(target)], "c1")), response(message("ok")))
    await go(t)
    events = await run_turn(t)
    assert requests(events) == []
    assert not target.exists()
    out = outputs(mock_model)["c1"]
    assert out.startswith("Exit code: 1") and "Read-only file system" in out


# --- never ---------------------------------------------------------------------------------


@needs_sandbox
async def test_never_runs_sandboxed_and_never_asks(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    target = world["outside"] / "never.txt"
    t = await make_thread("workspace-write", "never")
    mock_model.enqueue(
        response(bash("echo in > inside.txt", "c1"), shell(["touch", str(target)], "c2")),
        response(message("ok")),
    )
    await go(t)
    events = await run_turn(t)
    assert requests(events) == []
    assert (world["ws"] / "inside.txt").read_text() == "in\n"
    assert not target.exists()
    assert "Read-only file system" in outputs(mock_model)["c2"]


async def test_danger_full_access_never_runs_without_sandbox(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    target = world["outside"] / "free.txt"
    t = await make_thread("danger-full-access", "never")
    mock_model.enqueue(response(shell(["touch", str(target)], "c1")), response(message("ok")))
    await go(t)
    events = await run_turn(t)
    assert requests(events) == [] and target.exists()


async def test_danger_full_access_untrusted_still_asks_for_unsafe_commands(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    t = await make_thread("danger-full-access", "untrusted")
    mock_model.enqueue(
        response(shell(["ls"], "c1"), shell(["touch", "x.txt"], "c2")), response(message("ok"))
    )
    await go(t)
    events = await run_turn(t, always(ReviewDecision.DENIED))
    assert [r.call_id for r in requests(events)] == ["c2"]
    assert not (world["ws"] / "x.txt").exists()


# --- on-failure ----------------------------------------------------------------------------


@needs_sandbox
async def test_on_failure_asks_to_retry_a_sandbox_denial_without_sandbox(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    target = world["outside"] / "retried.txt"
    t = await make_thread("workspace-write", "on-failure")
    mock_model.enqueue(response(shell(["touch", str(target)], "c1")), response(message("ok")))
    await go(t)
    events = await run_turn(t, always(ReviewDecision.APPROVED))
    [req] = requests(events)
    assert isinstance(req, ExecApprovalRequestEvent)
    assert req.reason == "command failed; retry without sandbox?"
    assert len(began(events)) == 2  # the sandboxed attempt, then the approved rerun
    assert target.exists()
    assert outputs(mock_model)["c1"].startswith("Exit code: 0")


@needs_sandbox
async def test_on_failure_declined_retry_returns_the_sandboxed_failure(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    target = world["outside"] / "not-retried.txt"
    t = await make_thread("workspace-write", "on-failure")
    mock_model.enqueue(
        response(shell(["touch", str(target)], "c1"), bash("exit 3", "c2")), response(message("ok"))
    )
    await go(t)
    events = await run_turn(t, always(ReviewDecision.DENIED))
    # An ordinary failure (exit 3, no denial text) is not a reason to ask.
    assert [r.call_id for r in requests(events)] == ["c1"]
    assert not target.exists()
    got = outputs(mock_model)
    assert "Read-only file system" in got["c1"] and got["c2"].startswith("Exit code: 3")


# --- exec policy (rules) -------------------------------------------------------------------


async def test_rules_forbid_prompt_and_allow(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    rules = world["home"] / "rules"
    rules.mkdir()
    (rules / "team.rules").write_text(
        'prefix_rule(pattern=["touch", "forbidden.txt"], decision="forbidden", justification="use the API")\n'
        'prefix_rule(pattern=["touch", "ask.txt"], decision="prompt")\n'
    )
    t = await make_thread("danger-full-access", "on-request")
    mock_model.enqueue(
        response(
            bash("echo hi && touch forbidden.txt", "c1"),
            shell(["touch", "ask.txt"], "c2"),
            shell(["touch", "free.txt"], "c3"),
        ),
        response(message("ok")),
    )
    await go(t)
    events = await run_turn(t, always(ReviewDecision.DENIED))
    assert [r.call_id for r in requests(events)] == ["c2"]
    got = outputs(mock_model)
    assert "blocked by policy rule: use the API" in got["c1"]
    assert got["c2"] == EXEC_DECLINED_MESSAGE
    assert not (world["ws"] / "forbidden.txt").exists() and not (world["ws"] / "ask.txt").exists()
    assert (world["ws"] / "free.txt").exists()


async def test_prompt_rule_under_never_is_rejected_and_bad_rules_files_warn(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    rules = world["home"] / "rules"
    rules.mkdir()
    (rules / "a.rules").write_text('prefix_rule(pattern=["touch"], decision="prompt")\n')
    (rules / "b.rules").write_text('prefix_rule(pattern=["x"])\n__import__("os").system("touch pwned")\n')
    t = await make_thread("danger-full-access", "never")
    mock_model.enqueue(response(shell(["touch", "t.txt"], "c1")), response(message("ok")))
    await go(t)
    events = await run_turn(t)
    warnings = [e.message for e in events if isinstance(e, WarningEvent)]
    assert any(f"{rules / 'b.rules'}:2:" in w for w in warnings)
    assert "approval policy is `never`" in outputs(mock_model)["c1"]
    assert not (world["ws"] / "t.txt").exists() and not (world["ws"] / "pwned").exists()


# --- patches -------------------------------------------------------------------------------


def patch_adding(path: Path | str, text: str = "hi") -> str:
    return f"*** Begin Patch\n*** Add File: {path}\n+{text}\n*** End Patch\n"


async def test_patch_outside_the_workspace_asks_and_applies_when_approved(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    target = world["outside"] / "p.txt"
    t = await make_thread("workspace-write", "on-request")
    mock_model.enqueue(
        response(custom_tool_call("apply_patch", patch_adding(target), call_id="p1")),
        response(custom_tool_call("apply_patch", patch_adding("inside.txt"), call_id="p2")),
        response(message("ok")),
    )
    await go(t)
    events = await run_turn(t, always(ReviewDecision.APPROVED))
    [req] = requests(events)
    assert isinstance(req, ApplyPatchApprovalRequestEvent) and req.call_id == "p1"
    assert list(req.changes) == [str(target)] and req.reason == "writing outside of the project"
    assert target.read_text() == "hi\n" and (world["ws"] / "inside.txt").exists()
    begins = {e.call_id: e.auto_approved for e in events if isinstance(e, PatchApplyBeginEvent)}
    assert begins == {"p1": False, "p2": True}


async def test_patch_declined_by_the_user(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    target = world["outside"] / "p.txt"
    t = await make_thread("workspace-write", "on-failure")
    mock_model.enqueue(
        response(custom_tool_call("apply_patch", patch_adding(target), call_id="p1")),
        response(message("ok")),
    )
    await go(t)
    events = await run_turn(t, always(ReviewDecision.DENIED))
    assert len(requests(events)) == 1 and not target.exists()
    assert outputs(mock_model)["p1"] == PATCH_DECLINED_MESSAGE


async def test_patch_under_read_only_and_never_is_rejected_with_codex_text(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    t = await make_thread("read-only", "never")
    mock_model.enqueue(
        response(custom_tool_call("apply_patch", patch_adding("a.txt"), call_id="p1")),
        response(message("ok")),
    )
    await go(t)
    events = await run_turn(t)
    assert requests(events) == [] and not (world["ws"] / "a.txt").exists()
    assert outputs(mock_model)["p1"] == (
        "patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings"
    )


async def test_patch_approved_for_session_covers_later_patches_to_the_same_paths(
    make_thread: MakeThread, mock_model: MockModelServer, world: dict[str, Path]
) -> None:
    t = await make_thread("read-only", "untrusted")
    update = "*** Begin Patch\n*** Update File: a.txt\n-hi\n+bye\n*** End Patch\n"
    mock_model.enqueue(
        response(custom_tool_call("apply_patch", patch_adding("a.txt"), call_id="p1")),
        response(custom_tool_call("apply_patch", update, call_id="p2")),
        response(message("ok")),
    )
    await go(t)
    events = await run_turn(t, always(ReviewDecision.APPROVED_FOR_SESSION))
    assert [r.call_id for r in requests(events)] == ["p1"]
    assert (world["ws"] / "a.txt").read_text() == "bye\n"
