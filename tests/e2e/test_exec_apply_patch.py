"""apply_patch end to end: the installed `pycodex exec` against the mock model.

Expected item sequences come from Codex's captures (`shared/reference/exec/patch.stdout`,
`badpatch.stdout`); the texts the model gets back from `codex_reference.md` §1.5.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pycodex.config.config import ConfigOverrides, load_config
from pycodex.core.thread_manager import CodexThread, ThreadManager, ThreadOptions
from pycodex.protocol.events import (
    EventMsg,
    PatchApplyBeginEvent,
    SessionConfiguredEvent,
    TaskCompleteEvent,
    TurnDiffEvent,
)
from pycodex.protocol.ops import UserInputOp
from pycodex.protocol.user_input import TextInput
from tests.support.mock_model import (
    MockModelServer,
    RecordedRequest,
    chat_text,
    chat_tool_calls,
    custom_tool_call,
    function_call,
    message,
    response,
)

pytestmark = pytest.mark.e2e

PYCODEX = Path(sys.executable).parent / "pycodex"
TIMEOUT_S = 30

# The `patch` scenario of the reference capture (responses-sse/patch.step0.sse).
PATCH = (
    "*** Begin Patch\n*** Add File: hello.txt\n+hello world\n+second line\n"
    "*** Update File: existing.txt\n@@\n-old line\n+new line\n*** End Patch"
)
SUCCESS_OUTPUT = re.compile(
    r"Exit code: 0\nWall time: \d+\.\d seconds\nOutput:\n"
    r"Success\. Updated the following files:\nA hello\.txt\nM existing\.txt\n"
)
READ_ONLY_TEXT = (
    "patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings"
)

Json = dict[str, Any]


def _reference_exec_dir() -> Path:
    env = os.environ.get("PYCODEX_SHARED")
    shared = Path(env) if env else Path(__file__).resolve().parents[3] / "shared"
    ref = shared / "reference" / "exec"
    if not ref.is_dir():
        raise RuntimeError(f"Codex captures not found under {ref}: set PYCODEX_SHARED")
    return ref


REFERENCE = _reference_exec_dir()


@cache
def _validator() -> Any:
    text = (resources.files("pycodex.frontends.exec") / "exec_events.schema.json").read_text()
    schema = json.loads(text)
    return jsonschema.validators.validator_for(schema)(schema)


def parse_events(stdout: str) -> list[Json]:
    events = [json.loads(line) for line in stdout.splitlines()]
    for event in events:
        jsonschema_errors = list(_validator().iter_errors(event))
        assert not jsonschema_errors, (event, jsonschema_errors[0].message)
    return events


def shape(events: list[Json]) -> list[tuple[str, str | None]]:
    return [(e["type"], e.get("item", {}).get("type")) for e in events]


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str

    @property
    def events(self) -> list[Json]:
        return parse_events(self.stdout)


@dataclass
class PatchWorld:
    """An isolated home + git workspace (`existing.txt` = `old line`) for one test."""

    root: Path
    home: Path
    ws: Path
    env: dict[str, str]
    server: MockModelServer

    def configure(self, *, model: str = "gpt-5.5", wire_api: str = "responses") -> None:
        (self.home / "config.toml").write_text(
            f'model = "{model}"\nmodel_provider = "mock"\n'
            f'[model_providers.mock]\nname = "mock"\nbase_url = "{self.server.url}"\n'
            f'wire_api = "{wire_api}"\nenv_key = "MOCK_KEY"\n'
            "request_max_retries = 0\nstream_max_retries = 0\n"
        )

    def run(self, *args: str, json_mode: bool = True) -> Run:
        argv = [str(PYCODEX), "exec", *(["--json"] if json_mode else []), "-C", str(self.ws), *args]
        proc = subprocess.run(
            argv, env=self.env, capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=TIMEOUT_S,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def request(self, n: int) -> RecordedRequest:
        return self.server.model_requests()[n]

    def files(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for dirpath, dirnames, filenames in os.walk(self.ws):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            for name in filenames:
                path = Path(dirpath) / name
                out[path.relative_to(self.ws).as_posix()] = path.read_text()
        return out


def _git(ws: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=ws, check=True, capture_output=True,
    )


@pytest.fixture
def world(tmp_path: Path, mock_model: MockModelServer) -> Iterator[PatchWorld]:
    home = tmp_path / "home"
    ws = tmp_path / "workspace"
    home.mkdir()
    ws.mkdir()
    (ws / "existing.txt").write_text("old line\n")
    _git(ws, "init", "-q")
    _git(ws, "add", "-A")
    _git(ws, "commit", "-q", "-m", "baseline")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYCODEX_HOME": str(home),
        "MOCK_KEY": "test-key",
        "SHELL": "/bin/bash",
        "LANG": "C.UTF-8",
    }
    w = PatchWorld(tmp_path, home, ws.resolve(), env, mock_model)
    w.configure()
    yield w


def reference_events(name: str, ws: Path) -> list[Json]:
    text = (REFERENCE / f"{name}.stdout").read_text().replace("/workspace/", f"{ws}/")
    return [json.loads(line) for line in text.splitlines()]


def tool_outputs(req: RecordedRequest, kind: str) -> dict[str, Any]:
    return {i["call_id"]: i["output"] for i in req.body["input"] if i["type"] == kind}


def assert_patch_applied(world: PatchWorld) -> None:
    assert world.files() == {"existing.txt": "new line\n", "hello.txt": "hello world\nsecond line\n"}


def assert_untouched(world: PatchWorld) -> None:
    assert world.files() == {"existing.txt": "old line\n"}


# --- (a) the freeform tool: Codex's `patch` scenario ----------------------------------------


def test_custom_tool_call_matches_the_reference(world: PatchWorld) -> None:
    world.server.enqueue(
        response(custom_tool_call("apply_patch", PATCH, call_id="call_0_ctc")),
        response(message("All done.")),
    )
    run = world.run("-s", "workspace-write", "patch it")
    assert run.rc == 0, run.stderr
    assert_patch_applied(world)

    events = run.events
    expected = reference_events("patch", world.ws)
    assert shape(events) == shape(expected)
    # Everything but the thread id (and our schema_version) is exactly Codex's output:
    # absolute paths, changes sorted by path, item ids, statuses, usage.
    assert events[1:] == expected[1:]

    tools = {t.get("name", t["type"]): t for t in world.request(0).body["tools"]}
    spec = tools["apply_patch"]
    assert spec["type"] == "custom" and spec["format"]["syntax"] == "lark"
    assert spec["format"]["definition"].startswith("start:")
    out = tool_outputs(world.request(1), "custom_tool_call_output")
    assert SUCCESS_OUTPUT.fullmatch(out["call_0_ctc"]), out


# --- (b) the function form ---------------------------------------------------------------


def test_function_tool_for_models_without_freeform(world: PatchWorld) -> None:
    world.configure(model="gpt-4.1")
    world.server.enqueue(
        response(function_call("apply_patch", {"input": PATCH}, call_id="fc_1")),
        response(message("All done.")),
    )
    run = world.run("-s", "workspace-write", "patch it")
    assert run.rc == 0, run.stderr
    assert_patch_applied(world)
    assert shape(run.events) == shape(reference_events("patch", world.ws))

    spec = {t.get("name", t["type"]): t for t in world.request(0).body["tools"]}["apply_patch"]
    assert spec["type"] == "function"
    assert spec["parameters"]["required"] == ["input"]
    out = tool_outputs(world.request(1), "function_call_output")
    assert SUCCESS_OUTPUT.fullmatch(out["fc_1"]), out


def test_function_call_answered_even_when_offered_the_freeform_tool(world: PatchWorld) -> None:
    world.server.enqueue(
        response(function_call("apply_patch", {"input": PATCH}, call_id="fc_1")),
        response(message("All done.")),
    )
    run = world.run("-s", "workspace-write", "patch it")
    assert run.rc == 0, run.stderr
    assert_patch_applied(world)
    assert SUCCESS_OUTPUT.fullmatch(tool_outputs(world.request(1), "function_call_output")["fc_1"])


# --- (c) through the shell ----------------------------------------------------------------


def test_shell_heredoc_is_applied_without_spawning(world: PatchWorld) -> None:
    script = f"apply_patch <<'EOF'\n{PATCH}\nEOF\n"
    world.server.enqueue(
        response(function_call("shell", {"command": ["bash", "-lc", script]}, call_id="sh_1")),
        response(message("All done.")),
    )
    run = world.run("-s", "workspace-write", "patch it")
    assert run.rc == 0, run.stderr
    assert_patch_applied(world)
    events = run.events
    assert shape(events) == shape(reference_events("patch", world.ws))
    # Applied in process: no command was started (a spawned command is an item of its own).
    assert not any(e.get("item", {}).get("type") == "command_execution" for e in events)
    assert SUCCESS_OUTPUT.fullmatch(tool_outputs(world.request(1), "function_call_output")["sh_1"])


def test_shell_cd_and_workdir_resolve_patch_paths(world: PatchWorld) -> None:
    (world.ws / "pkg" / "sub").mkdir(parents=True)
    script = "cd sub && apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: deep.txt\n+deep\n*** End Patch\nEOF"
    world.server.enqueue(
        response(function_call("shell", {"command": ["bash", "-lc", script], "workdir": "pkg"}, call_id="sh_1")),
        response(message("ok")),
    )
    run = world.run("-s", "workspace-write", "patch it")
    assert run.rc == 0, run.stderr
    assert (world.ws / "pkg" / "sub" / "deep.txt").read_text() == "deep\n"
    changes = [e["item"]["changes"] for e in run.events if e["type"] == "item.completed" and e["item"]["type"] == "file_change"]
    assert changes == [[{"path": f"{world.ws}/pkg/sub/deep.txt", "kind": "add"}]]


# --- (d) a patch that does not fit --------------------------------------------------------


def test_bad_patch_changes_nothing_and_makes_no_item(world: PatchWorld) -> None:
    bad = (
        "*** Begin Patch\n*** Add File: hello.txt\n+hello\n"
        "*** Update File: missing.txt\n@@\n-a\n+b\n*** End Patch"
    )
    world.server.enqueue(
        response(custom_tool_call("apply_patch", bad, call_id="call_bad")),
        response(message("All done.")),
    )
    run = world.run("-s", "workspace-write", "patch it")
    assert run.rc == 0, run.stderr
    assert_untouched(world)  # atomic: the valid Add before the bad Update was not written
    events = run.events
    expected = reference_events("badpatch", world.ws)
    assert shape(events) == shape(expected) and events[1:] == expected[1:]
    out = tool_outputs(world.request(1), "custom_tool_call_output")["call_bad"]
    assert out == (
        "apply_patch verification failed: Failed to read file to update "
        f"{world.ws}/missing.txt: No such file or directory (os error 2)"
    )


# --- (e) read-only (exec's default) -------------------------------------------------------


def test_read_only_default_rejects_the_patch(world: PatchWorld) -> None:
    world.server.enqueue(
        response(custom_tool_call("apply_patch", PATCH, call_id="call_ro")),
        response(message("All done.")),
    )
    run = world.run("patch it")
    assert run.rc == 0, run.stderr
    assert_untouched(world)
    assert shape(run.events) == shape(reference_events("badpatch", world.ws))
    assert tool_outputs(world.request(1), "custom_tool_call_output") == {"call_ro": READ_ONLY_TEXT}


# --- (f) the turn diff --------------------------------------------------------------------

TURN_PATCH_1 = (
    "*** Begin Patch\n*** Add File: notes/new.txt\n+fresh\n"
    "*** Update File: existing.txt\n@@\n-old line\n+new line\n*** End Patch"
)
TURN_PATCH_2 = (
    "*** Begin Patch\n*** Delete File: gone.txt\n"
    "*** Update File: src/mv.txt\n*** Move to: dst/mv.txt\n@@\n a\n-b\n+B\n c\n*** End Patch"
)
EXPECTED_TURN_DIFF = (
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
    "diff --git a/notes/new.txt b/notes/new.txt\n"
    "new file mode 100644\n"
    "index 0000000000000000000000000000000000000000..92d5444121bba43a7654dcfb037c209cb2a5d403\n"
    "--- /dev/null\n"
    "+++ b/notes/new.txt\n"
    "@@ -0,0 +1 @@\n"
    "+fresh\n"
)


@pytest.fixture
async def engine(world: PatchWorld) -> AsyncIterator[CodexThread]:
    (world.ws / "gone.txt").write_text("bye\n")
    (world.ws / "src").mkdir()
    (world.ws / "src" / "mv.txt").write_text("a\nb\nc\n")
    config = load_config(
        ConfigOverrides(cwd=world.ws, sandbox_mode="workspace-write", approval_policy="never"),
        env=world.env,
    )
    thread = await ThreadManager(ThreadOptions(env=world.env)).start_thread(config)
    first = await thread.next_event()
    assert isinstance(first.msg, SessionConfiguredEvent)
    yield thread
    await thread.shutdown()


async def run_turn(thread: CodexThread, text: str) -> list[EventMsg]:
    await thread.submit(UserInputOp(items=[TextInput(text=text)]))
    seen: list[EventMsg] = []
    try:
        async with asyncio.timeout(TIMEOUT_S):
            while True:
                event = await thread.next_event()
                seen.append(event.msg)
                if isinstance(event.msg, TaskCompleteEvent):
                    return seen
    except TimeoutError:
        raise AssertionError(f"turn did not complete; events so far: {[type(e).__name__ for e in seen]}") from None


async def test_turn_diff_covers_add_update_delete_and_move(engine: CodexThread, world: PatchWorld) -> None:
    world.server.enqueue(
        response(custom_tool_call("apply_patch", TURN_PATCH_1, call_id="p1")),
        response(custom_tool_call("apply_patch", TURN_PATCH_2, call_id="p2")),
        response(message("done")),
    )
    events = await run_turn(engine, "edit")
    diffs = [e.unified_diff for e in events if isinstance(e, TurnDiffEvent)]
    # One after each step whose patches changed it, then (as Codex does) the whole diff
    # again after each response once the turn has changed files: 2 + 3.
    assert len(diffs) == 5
    assert "+++ b/notes/new.txt" in diffs[0] and "gone.txt" not in diffs[0]
    assert diffs[1] == diffs[0]  # repeated after the first response's usage
    assert diffs[2] == EXPECTED_TURN_DIFF and diffs[-1] == EXPECTED_TURN_DIFF
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("PatchApplyEndEvent") < kinds.index("TurnDiffEvent")

    # The diff replays with `git apply` on the starting tree.
    replay = world.root / "replay"
    replay.mkdir()
    for rel, content in {"existing.txt": "old line\n", "gone.txt": "bye\n", "src/mv.txt": "a\nb\nc\n"}.items():
        (replay / rel).parent.mkdir(parents=True, exist_ok=True)
        (replay / rel).write_text(content)
    (world.root / "turn.diff").write_text(diffs[-1])
    subprocess.run(["git", "apply", str(world.root / "turn.diff")], cwd=replay, check=True, capture_output=True)
    for rel in ("existing.txt", "notes/new.txt", "dst/mv.txt"):
        assert (replay / rel).read_text() == (world.ws / rel).read_text()
    assert not (replay / "gone.txt").exists() and not (replay / "src" / "mv.txt").exists()

    # A new turn starts a new diff: an unrelated patch shows only itself.
    world.server.enqueue(
        response(custom_tool_call("apply_patch", "*** Begin Patch\n*** Add File: z.txt\n+z\n*** End Patch", call_id="p3")),
        response(message("done")),
    )
    events = await run_turn(engine, "more")
    diffs = [e.unified_diff for e in events if isinstance(e, TurnDiffEvent)]
    assert len(set(diffs)) == 1 and diffs[0].startswith("diff --git a/z.txt b/z.txt\n")
    assert diffs[0].count("diff --git") == 1


async def test_no_turn_diff_without_changes(engine: CodexThread, world: PatchWorld) -> None:
    world.server.enqueue(
        response(custom_tool_call("apply_patch", "*** Begin Patch\n*** Delete File: nope\n*** End Patch", call_id="p1")),
        response(message("done")),
    )
    events = await run_turn(engine, "edit")
    assert not any(isinstance(e, TurnDiffEvent | PatchApplyBeginEvent) for e in events)


def test_human_mode_prints_the_patch_and_the_turn_diff(world: PatchWorld) -> None:
    world.server.enqueue(
        response(custom_tool_call("apply_patch", PATCH, call_id="call_0_ctc")),
        response(message("All done.")),
    )
    run = world.run("-s", "workspace-write", "--color", "never", "patch it", json_mode=False)
    assert run.rc == 0, run.stderr
    assert_patch_applied(world)
    assert f"A {world.ws}/hello.txt" in run.stderr
    assert run.stderr.count("diff --git a/existing.txt b/existing.txt\n") == 1  # repeats not reprinted
    assert "-old line\n+new line\n" in run.stderr


# --- (g) Chat Completions -----------------------------------------------------------------


@pytest.mark.parametrize("model", ["qwen2.5-coder", "gpt-5.5"])
def test_chat_completions_provider_gets_a_function_tool(world: PatchWorld, model: str) -> None:
    world.configure(model=model, wire_api="chat")
    world.server.enqueue(
        chat_tool_calls([("call_chat", "apply_patch", json.dumps({"input": PATCH}))]),
        chat_text("All done."),
    )
    run = world.run("-s", "workspace-write", "patch it")
    assert run.rc == 0, run.stderr
    assert_patch_applied(world)
    assert shape(run.events) == shape(reference_events("patch", world.ws))

    first, second = world.request(0), world.request(1)
    assert first.path.endswith("/chat/completions")
    tool = {t["function"]["name"]: t for t in first.body["tools"]}["apply_patch"]
    assert tool["type"] == "function"
    assert tool["function"]["parameters"]["required"] == ["input"]
    answers = [m for m in second.body["messages"] if m.get("role") == "tool"]
    assert [m["tool_call_id"] for m in answers] == ["call_chat"]
    assert SUCCESS_OUTPUT.fullmatch(answers[0]["content"]), answers
