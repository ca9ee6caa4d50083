"""Differential tests: the reference Codex binary and pycodex, same scenario, same mock.

Each scenario runs `codex exec --json` and `pycodex exec --json` in two identical worlds
(ExecHarness) against the same scripted replies, then compares what a client sees (the
JSONL events) and what the provider sees (request bodies, headers, tool outputs). A
second group checks that each program resumes a thread the other recorded: the rollout
format is shared on disk.

Needs the reference binary (`openai-codex-cli-bin` on PyPI): `$CODEX_BIN`, else `codex`
on PATH. `.ci/run` installs it; elsewhere these tests skip and say why.

Known, deliberate differences are normalised here and listed in README ("Differences
from Codex"): pycodex adds `schema_version` to `thread.started`; Codex adds a skills
developer message, `client_metadata` and `x-codex-*` telemetry headers; wall times and
chunk ids are random or timing-dependent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.exec_cli import PYCODEX, ExecHarness, parse_jsonl
from tests.support.mock_model import (
    MockModelServer,
    RecordedRequest,
    Reply,
    custom_tool_call,
    failed,
    function_call,
    http_error,
    message,
    reasoning,
    response,
    sse,
    web_search_call,
)

pytestmark = pytest.mark.e2e

Json = dict[str, Any]


def find_codex() -> Path | None:
    for candidate in (os.environ.get("CODEX_BIN"), shutil.which("codex")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


CODEX = find_codex()


@pytest.fixture
def codex_bin() -> Path:
    if CODEX is None:
        pytest.skip(
            "reference Codex not installed: set CODEX_BIN or put `codex` on PATH "
            "(pip install openai-codex-cli-bin)"
        )
    return CODEX


@dataclass
class Run:
    rc: int
    events: list[Json]
    stderr: str
    requests: list[RecordedRequest]
    workspace: Path
    mock_url: str = ""


@pytest.fixture
def worlds(tmp_path: Path) -> Iterator[dict[str, tuple[ExecHarness, MockModelServer]]]:
    made: dict[str, tuple[ExecHarness, MockModelServer]] = {}
    try:
        for name in ("codex", "pycodex"):
            mock = MockModelServer().start()
            root = tmp_path / name
            root.mkdir()
            made[name] = (ExecHarness(root, mock), mock)
        yield made
    finally:
        for harness, mock in made.values():
            harness.close()
            mock.close()


def run_cli(binary: Path, harness: ExecHarness, *args: str) -> subprocess.CompletedProcess[str]:
    # Both homes point at the same directory so either program finds the other's threads.
    env = {**harness.env, "CODEX_HOME": str(harness.home)}
    return subprocess.run(
        [str(binary), "exec", *args],
        cwd=harness.workspace,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_both(
    worlds: dict[str, tuple[ExecHarness, MockModelServer]], codex: Path, replies: list[Reply], *args: str
) -> tuple[Run, Run]:
    runs = []
    for name, binary in (("codex", codex), ("pycodex", PYCODEX)):
        harness, mock = worlds[name]
        mock.enqueue(*replies)
        done = run_cli(binary, harness, "--json", *args)
        events = [json.loads(line, object_pairs_hook=_first_key_wins) for line in done.stdout.splitlines()]
        runs.append(
            Run(done.returncode, events, done.stderr, mock.model_requests(), harness.workspace, mock.url)
        )
    return runs[0], runs[1]


def _first_key_wins(pairs: list[tuple[str, Any]]) -> Json:
    # Codex 0.163 writes `web_search` items with the key `id` twice ("item_0", then the
    # provider's "ws_…"); pycodex writes one (the item id). Compare on the first.
    out: Json = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def normalized_events(run: Run) -> list[Json]:
    text = json.dumps(run.events).replace(str(run.workspace), "<ws>")
    if run.mock_url:
        text = text.replace(run.mock_url, "<mock>")
    events: list[Json] = json.loads(text)
    for event in events:
        if event["type"] == "thread.started":
            event["thread_id"] = "<thread>"
            event.pop("schema_version", None)
    return events


_VOLATILE = (
    (re.compile(r"Chunk ID: [0-9a-f]+"), "Chunk ID: <id>"),
    (re.compile(r"Wall time: [0-9.]+ seconds"), "Wall time: <t> seconds"),
)


def tool_outputs(request: RecordedRequest, workspace: Path) -> list[str]:
    outputs = []
    for item in request.body["input"]:
        if item.get("type") in ("function_call_output", "custom_tool_call_output"):
            text = str(item["output"]).replace(str(workspace), "<ws>")
            for pattern, replacement in _VOLATILE:
                text = pattern.sub(replacement, text)
            outputs.append(text)
    return outputs


def input_layout(request: RecordedRequest) -> list[tuple[str, str | None]]:
    """(type, role) of every input item, without developer messages (Codex sends a second
    one listing its bundled skills, which pycodex does not have)."""
    return [
        (item["type"], item.get("role"))
        for item in request.body["input"]
        if not (item["type"] == "message" and item.get("role") == "developer")
    ]


def tool_shapes(request: RecordedRequest) -> dict[str, Any]:
    """Each tool's structure without the prose (descriptions are our own words)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("description", "definition")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return {t.get("name", t["type"]): strip(t) for t in request.body["tools"]}


# Tools both offer; Codex's others (goals, tool_search, request_user_input) are not built.
SHARED_TOOLS = ("exec_command", "write_stdin", "apply_patch", "view_image", "web_search")


SAME_VALUE_KEYS = (
    "model", "stream", "tool_choice", "parallel_tool_calls", "reasoning", "store", "include", "text",
)


def assert_same_requests(codex: Run, ours: Run) -> None:
    assert len(codex.requests) == len(ours.requests)
    for theirs, mine in zip(codex.requests, ours.requests, strict=True):
        assert set(mine.body) == set(theirs.body) - {"client_metadata"}
        for key in SAME_VALUE_KEYS:
            assert mine.body.get(key) == theirs.body.get(key), key
        assert mine.body["prompt_cache_key"] == mine.headers["thread-id"]
        theirs_tools, mine_tools = tool_shapes(theirs), tool_shapes(mine)
        for name in SHARED_TOOLS:
            assert mine_tools.get(name) == theirs_tools.get(name), name
        assert input_layout(mine) == input_layout(theirs)
        assert tool_outputs(mine, ours.workspace) == tool_outputs(theirs, codex.workspace)
        telemetry = {"x-codex-window-id", "x-codex-turn-metadata", "x-codex-beta-features"}
        transport = {"connection", "accept-encoding"}  # httpx sends these; harmless
        assert set(mine.headers) - transport == set(theirs.headers) - telemetry


def exec_command(cmd: str, call_id: str = "call_1", **extra: Any) -> Json:
    return function_call("exec_command", {"cmd": cmd, **extra}, call_id)


# Commands and patches run without a sandbox here: what is compared is how results are
# reported, and it must not depend on which sandbox the CI host can set up for each
# program (the sandbox has its own suites: tests/sandbox, tests/e2e/test_exec_approvals.py).
FULL = ("-s", "danger-full-access")

SCENARIOS: dict[str, tuple[list[Reply], tuple[str, ...]]] = {
    "text": ([response(message("Just text."))], ()),
    "reasoning": ([response(reasoning("Thinking it through."), message("Done."))], ()),
    "web_search": ([response(web_search_call("pycodex python agent"), message("Found it."))], ()),
    "exec_command": ([response(exec_command("echo hello-from-tool")), response(message("Done."))], FULL),
    "failing_command": (
        [response(exec_command("echo oops >&2; exit 3")), response(message("Done."))],
        FULL,
    ),
    # Quotes, `$`, a backslash and non-ASCII: the command string is quoted as Codex does.
    "quoted_command": (
        [
            response(exec_command("echo 'it''s' \"$PYCODEX_UNSET_VAR\" caf\u00e9 && printf 'a\\n'")),
            response(message("Done.")),
        ],
        FULL,
    ),
    "truncated_output": (
        [response(exec_command("seq 1 3000", max_output_tokens=200)), response(message("Done."))],
        FULL,
    ),
    # Over the 1 MiB process buffer: the head/tail buffer's cut, then the token budget's.
    "flooded_output": (
        [response(exec_command("seq 1 200000")), response(message("Done."))],
        FULL,
    ),
    "apply_patch": (
        [
            response(
                custom_tool_call(
                    "apply_patch",
                    "*** Begin Patch\n*** Update File: existing.txt\n@@\n-old line\n+new line\n"
                    "*** Add File: sub/new.txt\n+hello\n*** End Patch\n",
                )
            ),
            response(message("Patched.")),
        ],
        FULL,
    ),
    "apply_patch_mismatch": (
        [
            response(
                custom_tool_call(
                    "apply_patch",
                    "*** Begin Patch\n*** Update File: existing.txt\n@@\n-not there\n+x\n*** End Patch\n",
                )
            ),
            response(message("It failed.")),
        ],
        FULL,
    ),
}


# Failures that pycodex reports exactly as Codex does. (Deliberate differences — HTTP 500
# and 400 texts, 401's login hint, a web page instead of a stream — are in README.)
FAILURES: dict[str, Reply] = {
    "404_json": http_error(404, {"error": {"message": "Not found", "type": "invalid_request_error"}}),
    "404_html": http_error(404, "<html>404 page not found</html>"),
    "response_failed": failed("the model broke"),
    "stream_cut_short": sse([{"type": "response.created", "response": {"id": "r"}}]),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_same_failures_as_codex(
    failure: str, codex_bin: Path, worlds: dict[str, tuple[ExecHarness, MockModelServer]]
) -> None:
    codex, ours = run_both(worlds, codex_bin, [FAILURES[failure]], f"[[{failure}]] go")

    assert (ours.rc, codex.rc) == (1, 1), ours.stderr + codex.stderr
    assert normalized_events(ours) == normalized_events(codex)
    assert len(ours.requests) == len(codex.requests) == 1


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_same_events_and_requests_as_codex(
    scenario: str, codex_bin: Path, worlds: dict[str, tuple[ExecHarness, MockModelServer]]
) -> None:
    replies, args = SCENARIOS[scenario]
    codex, ours = run_both(worlds, codex_bin, replies, *args, f"[[{scenario}]] go")

    assert (ours.rc, codex.rc) == (0, 0), ours.stderr + codex.stderr
    parse_jsonl("\n".join(json.dumps(e) for e in ours.events))  # our schema holds
    assert normalized_events(ours) == normalized_events(codex)
    assert_same_requests(codex, ours)
    assert (ours.workspace / "existing.txt").read_bytes() == (codex.workspace / "existing.txt").read_bytes()


def run_first_turn(binary: Path, harness: ExecHarness, mock: MockModelServer, *later: str) -> str:
    """One tool-using turn ("first task"); `later` replies are queued for what follows.
    Returns the new thread's id."""
    mock.enqueue(
        response(exec_command("echo hello-from-tool")),
        response(message("First done.")),
        *(response(message(text)) for text in later),
    )
    one = run_cli(binary, harness, "--json", *FULL, "first task")
    assert one.returncode == 0, one.stderr
    thread_id: str = json.loads(one.stdout.splitlines()[0])["thread_id"]
    return thread_id


def assert_replays_first_turn(resumed: RecordedRequest) -> None:
    """The request starts with the first turn: context, prompt, call, output, answer."""
    assert input_layout(resumed)[:5] == [
        ("message", "user"),  # environment context
        ("message", "user"),
        ("function_call", None),
        ("function_call_output", None),
        ("message", "assistant"),
    ]
    texts = json.dumps(resumed.body["input"])
    assert "first task" in texts and "hello-from-tool" in texts and "First done." in texts


@pytest.mark.parametrize("how", ["by-id", "--last"])
@pytest.mark.parametrize("first, second", [("codex", "pycodex"), ("pycodex", "codex")])
def test_each_resumes_the_others_thread(
    first: str, second: str, how: str, codex_bin: Path, tmp_path: Path, mock_model: MockModelServer
) -> None:
    binaries = {"codex": codex_bin, "pycodex": PYCODEX}
    harness = ExecHarness(tmp_path, mock_model)
    try:
        thread_id = run_first_turn(binaries[first], harness, mock_model, "Second done.")

        target = [thread_id] if how == "by-id" else ["--last"]
        two = run_cli(binaries[second], harness, "resume", *target, "--json", "second task")

        assert two.returncode == 0, two.stderr
        events = [json.loads(line) for line in two.stdout.splitlines()]
        assert events[0]["thread_id"] == thread_id
        assert events[-1]["type"] == "turn.completed"
        resumed = mock_model.model_requests()[-1]
        assert resumed.headers["thread-id"] == thread_id
        # The recorded turn, replayed; then the new prompt (Codex may first add a note on
        # what changed in the environment, as another user message).
        assert_replays_first_turn(resumed)
        assert input_layout(resumed)[-1] == ("message", "user")
        assert "second task" in json.dumps(resumed.body["input"])
    finally:
        harness.close()


@pytest.mark.parametrize("forker, resumer", [("codex", "pycodex"), ("pycodex", "codex")])
def test_a_fork_made_by_one_resumes_in_the_other(
    forker: str, resumer: str, codex_bin: Path, tmp_path: Path, mock_model: MockModelServer
) -> None:
    """Codex writes a fork as a delta file (`history_base` into the parent's rollout);
    the resumed fork must still send the parent's turns."""
    binaries = {"codex": codex_bin, "pycodex": PYCODEX}
    harness = ExecHarness(tmp_path, mock_model)
    try:
        parent_id = run_first_turn(binaries[forker], harness, mock_model, "Fork done.", "Resumed.")
        two = run_cli(binaries[forker], harness, "fork", parent_id, "--json", "forked task")
        assert two.returncode == 0, two.stderr
        fork_id = json.loads(two.stdout.splitlines()[0])["thread_id"]
        assert fork_id != parent_id

        three = run_cli(binaries[resumer], harness, "resume", fork_id, "--json", "third task")

        assert three.returncode == 0, three.stderr
        resumed = mock_model.model_requests()[-1]
        assert resumed.headers["thread-id"] == fork_id
        assert_replays_first_turn(resumed)
        texts = json.dumps(resumed.body["input"])
        for expected in ("forked task", "Fork done.", "third task"):
            assert expected in texts, expected
    finally:
        harness.close()


def test_output_schema_request_and_answer_as_codex(
    codex_bin: Path, worlds: dict[str, tuple[ExecHarness, MockModelServer]]
) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    for harness, _mock in worlds.values():
        (harness.workspace / "schema.json").write_text(json.dumps(schema), encoding="utf-8")

    codex, ours = run_both(
        worlds, codex_bin, [response(message('{"answer": "42"}'))], "--output-schema", "schema.json", "go"
    )

    assert (ours.rc, codex.rc) == (0, 0), ours.stderr + codex.stderr
    assert normalized_events(ours) == normalized_events(codex)
    assert_same_requests(codex, ours)
    assert ours.requests[0].body["text"]["format"]["schema"] == schema


@pytest.mark.parametrize("path", ["shot.png", "missing.png", "notes.txt", "."])
def test_view_image_as_codex(
    path: str, codex_bin: Path, worlds: dict[str, tuple[ExecHarness, MockModelServer]]
) -> None:
    from tests.e2e.test_exec_view_image import tiny_png

    for harness, _mock in worlds.values():
        (harness.workspace / "shot.png").write_bytes(tiny_png())
        (harness.workspace / "notes.txt").write_text("not a picture", encoding="utf-8")
    replies = [response(function_call("view_image", {"path": path})), response(message("Seen."))]

    codex, ours = run_both(worlds, codex_bin, replies, "look")

    assert (ours.rc, codex.rc) == (0, 0), ours.stderr + codex.stderr
    assert normalized_events(ours) == normalized_events(codex)
    assert_same_requests(codex, ours)


@pytest.mark.parametrize(
    "args",
    [
        ("-c", "model_reasoning_effort=high"),
        ("-c", "model_reasoning_summary=detailed"),
        ("-c", "model_verbosity=high"),
        ("-s", "workspace-write"),
        ("-s", "danger-full-access"),
    ],
    ids=lambda args: "_".join(a.lstrip("-") for a in args),
)
def test_request_settings_as_codex(
    args: tuple[str, ...], codex_bin: Path, worlds: dict[str, tuple[ExecHarness, MockModelServer]]
) -> None:
    codex, ours = run_both(worlds, codex_bin, [response(message("ok"))], *args, "hi")

    assert (ours.rc, codex.rc) == (0, 0), ours.stderr + codex.stderr
    assert_same_requests(codex, ours)
