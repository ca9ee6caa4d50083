"""exec_command / write_stdin and the user's `!cmd`, through the engine's queue pair.

Real engine, mock model over HTTP, real processes (PTYs included). Every test ends with
no child process of the test process left, zombies included (`no_leaked_children`).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pycodex.config.config import ConfigOverrides, load_config
from pycodex.core.thread_manager import CodexThread, ThreadManager, ThreadOptions
from pycodex.process import zygote
from pycodex.protocol.event_payloads import (
    ExecApprovalRequestEvent,
    ExecCommandBeginEvent,
    ExecCommandEndEvent,
    ExecCommandOutputDeltaEvent,
)
from pycodex.protocol.events import (
    EventMsg,
    SessionConfiguredEvent,
    TaskCompleteEvent,
    TurnAbortedEvent,
)
from pycodex.protocol.items import ExecCommandSource
from pycodex.protocol.ops import ExecApprovalOp, InterruptOp, RunUserShellCommandOp
from pycodex.protocol.policies import ReviewDecision
from tests.support.engine import submit_text, until
from tests.support.mock_model import (
    MockModelServer,
    RecordedRequest,
    Reply,
    function_call,
    message,
    response,
)

MakeThread = Callable[..., Awaitable[CodexThread]]
OUTPUT_RE = re.compile(
    r"\AChunk ID: [0-9a-f]{6}\nWall time: \d+\.\d{4} seconds\n"
    r"(?:Process exited with code (?P<code>-?\d+)|Process running with session ID (?P<sid>\d+))\n"
    r"Original token count: (?P<tokens>\d+)\n(?:Note: .*\n)?Output:\n(?P<body>.*)\Z",
    re.S,
)


def child_pids() -> set[int]:
    """Processes whose parent is this test process (zombies included)."""
    me = os.getpid()
    found: set[int] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The comm field may contain spaces; ppid is the 2nd field after its ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == me:
            found.add(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def no_leaked_children() -> Iterator[None]:
    # The process zygote that forks commands is a long-lived helper of pycodex, not a leak:
    # start it first so it counts as "before".
    zygote.available()
    before = child_pids()
    yield
    deadline = time.monotonic() + 3
    while (left := child_pids() - before) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not left, f"child processes left behind: {left}"


def parse(output: str) -> re.Match[str]:
    match = OUTPUT_RE.match(output)
    assert match, f"not an exec_command output: {output!r}"
    return match


def exec_call(call_id: str, cmd: str, **extra: Any) -> dict[str, Any]:
    return function_call("exec_command", {"cmd": cmd, **extra}, call_id=call_id)


def outputs(request: RecordedRequest) -> dict[str, str]:
    return {i["call_id"]: i["output"] for i in request.body["input"] if i["type"] == "function_call_output"}


def last_output(request: RecordedRequest) -> str:
    return [i["output"] for i in request.body["input"] if i["type"] == "function_call_output"][-1]


def session_id_of(request: RecordedRequest) -> int:
    """The session id announced in the latest tool output (what a model would read)."""
    for item in reversed(request.body["input"]):
        if item["type"] == "function_call_output":
            sid = parse(item["output"])["sid"]
            assert sid, item["output"]
            return int(sid)
    raise AssertionError("no tool output yet")


def write_stdin(call_id: str, chars: str, **extra: Any) -> Callable[[RecordedRequest], Reply]:
    """A reply that writes to the session the previous output named."""
    def reply(request: RecordedRequest) -> Reply:
        args = {"session_id": session_id_of(request), "chars": chars, **extra}
        return response(function_call("write_stdin", args, call_id=call_id))
    return reply


@pytest.fixture
async def make_thread(mock_model: MockModelServer, tmp_path: Path) -> AsyncIterator[MakeThread]:
    threads: list[CodexThread] = []

    async def make(
        sandbox: str = "danger-full-access", approval: str = "never", extra: str = "",
        model: str = "gpt-5.5",
    ) -> CodexThread:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        (home / "config.toml").write_text(
            f'model = "{model}"\nmodel_provider = "mock"\n{extra}\n'
            f'[model_providers.mock]\nname = "mock"\nbase_url = "{mock_model.url}"\n'
            'env_key = "MOCK_KEY"\nrequest_max_retries = 0\nstream_max_retries = 0\n'
        )
        ws = tmp_path / "ws"
        if not ws.exists():
            ws.mkdir()
            subprocess.run(["git", "init", "-q", str(ws)], check=True)
        env = {"PYCODEX_HOME": str(home), "HOME": str(tmp_path), "MOCK_KEY": "x",
               "PATH": os.environ["PATH"], "SHELL": "/bin/bash", "LANG": "C.UTF-8"}
        config = load_config(ConfigOverrides(cwd=ws, sandbox_mode=sandbox, approval_policy=approval), env=env)
        thread = await ThreadManager(ThreadOptions(env=env)).start_thread(config)
        first = await thread.next_event()
        assert isinstance(first.msg, SessionConfiguredEvent)
        threads.append(thread)
        return thread

    yield make
    for thread in threads:
        await thread.shutdown()


async def turn(thread: CodexThread, text: str = "go", timeout: float = 20) -> list[EventMsg]:
    await submit_text(thread, text)
    return await until(thread, TaskCompleteEvent, timeout=timeout)


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --- which tools ------------------------------------------------------------------------------


async def test_gpt5_gets_exec_command_and_write_stdin_and_shell_stays_callable(
    make_thread: MakeThread, mock_model: MockModelServer
) -> None:
    t = await make_thread()
    mock_model.enqueue(
        response(function_call("shell", {"command": ["bash", "-c", "echo legacy"]}, call_id="c1")),
        response(message("ok")),
    )
    await turn(t)
    tools = mock_model.requests[0].body["tools"]
    names = [tool.get("name", tool["type"]) for tool in tools]
    assert names[:2] == ["exec_command", "write_stdin"] and "shell" not in names
    exec_spec = tools[0]
    assert exec_spec["parameters"]["required"] == ["cmd"]
    assert sorted(exec_spec["parameters"]["properties"]) == [
        "cmd", "justification", "login", "max_output_tokens", "prefix_rule",
        "sandbox_permissions", "shell", "tty", "workdir", "yield_time_ms",
    ]
    assert sorted(tools[1]["parameters"]["properties"]) == [
        "chars", "max_output_tokens", "session_id", "yield_time_ms"]
    assert tools[1]["parameters"]["required"] == ["session_id"]
    assert outputs(mock_model.requests[1])["c1"].startswith("Exit code: 0")


@pytest.mark.parametrize(
    ("model", "extra", "expected"),
    [
        ("gpt-4.1", "", "shell"),
        ("gpt-5.5", '[tools]\nshell_type = "shell"', "shell"),
        ("gpt-4.1", '[tools]\nshell_type = "unified_exec"', "exec_command"),
        ("gpt-5.5", "[features]\nunified_exec = false", "shell"),
    ],
)
async def test_shell_tool_choice_by_model_and_config(
    make_thread: MakeThread, mock_model: MockModelServer, model: str, extra: str, expected: str
) -> None:
    t = await make_thread(model=model, extra=extra)
    mock_model.enqueue(response(message("ok")))
    await turn(t)
    assert mock_model.requests[0].body["tools"][0]["name"] == expected


# --- exec_command ------------------------------------------------------------------------------


async def test_exec_command_short_command_reports_exit_code_and_events(
    make_thread: MakeThread, mock_model: MockModelServer
) -> None:
    t = await make_thread()
    mock_model.enqueue(
        response(exec_call("c1", "echo hello-from-tool; exit 3", login=False)),
        response(message("ok")),
    )
    events = await turn(t)
    out = parse(outputs(mock_model.requests[1])["c1"])
    assert out["code"] == "3" and out["body"] == "hello-from-tool\n"
    assert out["tokens"] == str((len("hello-from-tool\n") + 3) // 4)
    begin = next(e for e in events if isinstance(e, ExecCommandBeginEvent))
    end = next(e for e in events if isinstance(e, ExecCommandEndEvent))
    assert begin.command == ["/bin/bash", "-c", "echo hello-from-tool; exit 3"]
    assert begin.source is ExecCommandSource.UNIFIED_EXEC_STARTUP and begin.process_id
    assert end.exit_code == 3 and end.aggregated_output == "hello-from-tool\n"
    assert end.process_id == begin.process_id
    assert events.index(end) < len(events) - 1


async def test_tty_true_sees_a_terminal_and_tty_false_does_not(
    make_thread: MakeThread, mock_model: MockModelServer
) -> None:
    t = await make_thread()
    probe = "test -t 1 && echo tty || echo notty; stty size 2>/dev/null; echo TERM=$TERM"
    mock_model.enqueue(
        response(exec_call("a", probe, tty=True), exec_call("b", probe, tty=False)),
        response(message("ok")),
    )
    await turn(t)
    got = outputs(mock_model.requests[1])
    tty_body = parse(got["a"])["body"].replace("\r\n", "\n")
    pipe_body = parse(got["b"])["body"]
    assert tty_body.startswith("tty\n24 80\n") and "TERM=dumb" in tty_body
    assert pipe_body.startswith("notty\n")


async def test_tty_session_has_a_controlling_terminal_and_ctrl_c_interrupts(
    make_thread: MakeThread, mock_model: MockModelServer
) -> None:
    t = await make_thread()
    mock_model.enqueue(
        response(exec_call("c1", "trap 'echo got-sigint; exit 7' INT; echo ready; sleep 30 & wait",
                           tty=True, yield_time_ms=500)),
        write_stdin("c2", "\u0003", yield_time_ms=2000),
        response(message("ok")),
    )
    await turn(t)
    first = parse(outputs(mock_model.requests[1])["c1"])
    assert first["sid"] and "ready" in first["body"]
    second = parse(last_output(mock_model.requests[2]))
    assert second["code"] == "7" and "got-sigint" in second["body"]


async def test_python_repl_driven_over_three_write_stdin_calls(
    make_thread: MakeThread, mock_model: MockModelServer
) -> None:
    t = await make_thread()
    mock_model.enqueue(
        response(exec_call("c1", "python3 -q -i", tty=True, login=False, yield_time_ms=1500)),
        write_stdin("c2", "x = 6 * 7\n", yield_time_ms=500),
        write_stdin("c3", "print(f'answer={x}')\n", yield_time_ms=1000),
        write_stdin("c4", "exit()\n", yield_time_ms=3000),
        response(message("done")),
    )
    events = await turn(t)
    first = parse(outputs(mock_model.requests[1])["c1"])
    sid = first["sid"]
    assert sid and ">>>" in first["body"]
    second = parse(last_output(mock_model.requests[2]))
    assert second["sid"] == sid
    third = parse(last_output(mock_model.requests[3]))
    assert third["sid"] == sid and "answer=42" in third["body"]
    fourth = parse(last_output(mock_model.requests[4]))
    assert fourth["code"] == "0"
    ends = [e for e in events if isinstance(e, ExecCommandEndEvent)]
    assert len(ends) == 1 and ends[0].call_id == "c1" and "answer=42" in ends[0].aggregated_output
    # The session is gone once its exit was reported.
    mock_model.enqueue(
        response(function_call("write_stdin", {"session_id": int(sid), "chars": ""}, call_id="c5")),
        response(message("ok")),
    )
    await turn(t)
    assert outputs(mock_model.requests[6])["c5"] == f"write_stdin failed: Unknown process id {sid}"


async def test_server_yields_then_poll_sees_new_output_then_interrupt_kills_it(
    make_thread: MakeThread, mock_model: MockModelServer, tmp_path: Path
) -> None:
    t = await make_thread()
    pidfile = tmp_path / "server.pid"
    server = (f"echo $$ > {pidfile}; echo listening; sleep 1; echo request-1; "
              "while true; do sleep 0.2; done")
    mock_model.enqueue(
        response(exec_call("c1", server, yield_time_ms=300)),
        write_stdin("c2", "", yield_time_ms=5000),
        response(function_call("exec_command", {"cmd": "sleep 30", "yield_time_ms": 30000}, call_id="c3")),
    )
    await submit_text(t, "start the server")
    events = await until(t, ExecCommandBeginEvent)
    while len(mock_model.requests) < 3:
        events += [(await t.next_event()).msg]
    first = parse(outputs(mock_model.requests[1])["c1"])
    assert first["sid"] and first["body"] == "listening\n"
    second = parse(last_output(mock_model.requests[2]))
    assert second["sid"] == first["sid"] and "request-1" in second["body"]
    assert "listening" not in second["body"]  # only what is new
    pid = int(pidfile.read_text())
    assert pid_alive(pid)
    async with asyncio.timeout(10):  # the third call is waiting (its begin may be read already)
        while not any(isinstance(e, ExecCommandBeginEvent) and e.call_id == "c3" for e in events):
            events.append((await t.next_event()).msg)
    await t.submit(InterruptOp())
    events = await until(t, TurnAbortedEvent)
    deadline = time.monotonic() + 3
    while pid_alive(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not pid_alive(pid), "the session's process survived the interrupt"


async def test_sessions_outlive_the_turn_but_not_the_thread(
    make_thread: MakeThread, mock_model: MockModelServer, tmp_path: Path
) -> None:
    t = await make_thread()
    pidfile = tmp_path / "pid"
    mock_model.enqueue(
        response(exec_call("c1", f"echo $$ > {pidfile}; exec sleep 60", yield_time_ms=250)),
        response(message("started")),
    )
    events = await turn(t)
    assert not any(isinstance(e, ExecCommandEndEvent) for e in events)
    pid = int(pidfile.read_text())
    assert pid_alive(pid)
    # A later turn can still poll it.
    mock_model.enqueue(
        lambda req: response(function_call(
            "write_stdin", {"session_id": session_id_of(req), "chars": "",
                            "yield_time_ms": 1}, call_id="c2")),
        response(message("still there")),
    )
    await turn(t)
    assert parse(outputs(mock_model.requests[3])["c2"])["sid"]
    await t.shutdown()
    assert not pid_alive(pid)


async def test_flood_is_truncated_head_and_tail_and_memory_stays_bounded(
    make_thread: MakeThread, mock_model: MockModelServer
) -> None:
    t = await make_thread()
    rss_before = _rss_bytes()
    mock_model.enqueue(
        # ~14 MB of output, then a final line.
        response(exec_call("c1", "seq 1 2000000; echo THE-END", login=False, max_output_tokens=2000)),
        response(message("ok")),
    )
    events = await turn(t, timeout=60)
    out = parse(outputs(mock_model.requests[1])["c1"])
    assert out["code"] == "0"
    body = out["body"]
    # Codex's shape: a header naming the original size and what the buffer dropped, then
    # the first and last 4000 bytes around the count of tokens cut.
    header, kept = body.split("\n\n", 1)
    assert re.fullmatch(
        r"Warning: truncated output \(original token count: \d+\)\n\.\.\. \d+ bytes omitted \.\.\.", header
    )
    assert kept.startswith("1\n2\n3\n") and kept.endswith("1999999\n2000000\nTHE-END\n")
    assert re.search(r"\u2026\d+ tokens truncated\u2026", kept)
    assert len(body.encode()) < 2000 * 4 + 200
    assert int(out["tokens"]) > 3_000_000  # the original size, not what was kept
    deltas = [e for e in events if isinstance(e, ExecCommandOutputDeltaEvent)]
    assert sum(len(e.data()) for e in deltas) <= 4 * 1024 * 1024
    end = next(e for e in events if isinstance(e, ExecCommandEndEvent))
    assert len(end.aggregated_output) <= 1024 * 1024 + 100
    assert _rss_bytes() - rss_before < 80 * 1024 * 1024


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_write_to_a_pipe_session_is_refused(make_thread: MakeThread, mock_model: MockModelServer) -> None:
    t = await make_thread()
    mock_model.enqueue(
        response(exec_call("c1", "sleep 5", yield_time_ms=250)),
        write_stdin("c2", "hello\n"),
        response(message("ok")),
    )
    await turn(t)
    assert "stdin is closed" in last_output(mock_model.requests[2])


async def test_oldest_idle_session_is_pruned_at_the_limit(
    make_thread: MakeThread, mock_model: MockModelServer
) -> None:
    t = await make_thread()
    t_session = t._codex.session  # the limit is small here so the test stays quick
    t_session.shell.processes.max_sessions = 3
    mock_model.enqueue(
        *[response(exec_call(f"c{i}", f"exec sleep 3{i}", yield_time_ms=250)) for i in range(4)],
        response(message("ok")),
    )
    await turn(t)
    fourth = outputs(mock_model.requests[4])["c3"]
    first_sid = parse(outputs(mock_model.requests[1])["c0"])["sid"]
    assert f"Note: session {first_sid} (`exec sleep 30`) was killed" in fourth
    assert len(t_session.shell.processes) == 3


async def test_exec_command_goes_through_approvals(make_thread: MakeThread, mock_model: MockModelServer) -> None:
    t = await make_thread(sandbox="read-only", approval="on-request")
    mock_model.enqueue(
        response(exec_call("c1", "echo escalated", sandbox_permissions="require_escalated",
                           justification="needs it")),
        response(message("ok")),
    )
    await submit_text(t, "go")
    events = await until(t, ExecApprovalRequestEvent)
    request = events[-1]
    assert isinstance(request, ExecApprovalRequestEvent) and request.reason == "needs it"
    await t.submit(ExecApprovalOp(id=request.call_id, decision=ReviewDecision.APPROVED))
    await until(t, TaskCompleteEvent)
    out = parse(outputs(mock_model.requests[1])["c1"])
    assert out["code"] == "0" and out["body"] == "escalated\n"


# --- login shells and the snapshot ------------------------------------------------------------


async def test_login_commands_use_the_snapshot_of_the_login_environment(
    make_thread: MakeThread, mock_model: MockModelServer, tmp_path: Path
) -> None:
    (tmp_path / ".bash_profile").write_text(
        f'echo profile-ran >> {tmp_path}/profile.log\nexport FROM_PROFILE=yes\nexport MY_SECRET_TOKEN=s3cret\n'
    )
    t = await make_thread()
    mock_model.enqueue(
        response(exec_call("c1", "echo A=$FROM_PROFILE T=$MY_SECRET_TOKEN")),
        response(exec_call("c2", "echo B=$FROM_PROFILE")),
        response(message("ok")),
    )
    events = await turn(t)
    assert parse(outputs(mock_model.requests[2])["c1"])["body"] == "A=yes T=\n"
    assert parse(outputs(mock_model.requests[2])["c2"])["body"] == "B=yes\n"
    # The profile ran once (the snapshot), not once per command.
    assert (tmp_path / "profile.log").read_text() == "profile-ran\n"
    begin = next(e for e in events if isinstance(e, ExecCommandBeginEvent))
    assert begin.command[1] == "-lc"
    snapshots = list((tmp_path / "home" / "shell_snapshots").iterdir())
    assert len(snapshots) == 1 and b"FROM_PROFILE=yes" in snapshots[0].read_bytes()
    await t.shutdown()
    assert not snapshots[0].exists()


async def test_snapshot_can_be_disabled(
    make_thread: MakeThread, mock_model: MockModelServer, tmp_path: Path
) -> None:
    (tmp_path / ".bash_profile").write_text(f"echo ran >> {tmp_path}/profile.log\n")
    t = await make_thread(extra="[features]\nshell_snapshot = false")
    mock_model.enqueue(
        response(exec_call("c1", "true")), response(exec_call("c2", "true")), response(message("ok")),
    )
    await turn(t)
    assert (tmp_path / "profile.log").read_text() == "ran\nran\n"


# --- the user's !cmd ---------------------------------------------------------------------------


async def test_user_shell_command_streams_and_lands_in_the_next_request(
    make_thread: MakeThread, mock_model: MockModelServer
) -> None:
    t = await make_thread(sandbox="read-only")
    await t.submit(RunUserShellCommandOp(command="echo from-the-user; echo oops >&2; exit 4"))
    events = await until(t, TaskCompleteEvent)
    begin = next(e for e in events if isinstance(e, ExecCommandBeginEvent))
    end = next(e for e in events if isinstance(e, ExecCommandEndEvent))
    assert begin.source is ExecCommandSource.USER_SHELL and end.source is ExecCommandSource.USER_SHELL
    assert begin.command == ["/bin/bash", "-lc", "echo from-the-user; echo oops >&2; exit 4"]
    assert end.exit_code == 4 and "from-the-user" in end.stdout and "oops" in end.stderr
    assert any(isinstance(e, ExecCommandOutputDeltaEvent) for e in events)
    assert not mock_model.requests  # no model turn
    mock_model.enqueue(response(message("I see")))
    await turn(t, "what happened?")
    texts = [json.dumps(i) for i in mock_model.requests[0].body["input"] if i.get("role") == "user"]
    record = next(x for x in texts if "<user_shell_command>" in x)
    assert "echo from-the-user" in record and "from-the-user" in record and "<exit_code>4</exit_code>" in record
    assert texts.index(record) < len(texts) - 1  # before the new message


async def test_user_shell_command_is_interruptible(
    make_thread: MakeThread, mock_model: MockModelServer, tmp_path: Path
) -> None:
    t = await make_thread()
    pidfile = tmp_path / "pid"
    await t.submit(RunUserShellCommandOp(command=f"echo $$ > {pidfile}; exec sleep 60"))
    await until(t, ExecCommandBeginEvent)
    while not pidfile.exists() or not pidfile.read_text().strip():
        await asyncio.sleep(0.02)
    pid = int(pidfile.read_text())
    await t.submit(InterruptOp())
    await until(t, TurnAbortedEvent)
    deadline = time.monotonic() + 3
    while pid_alive(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not pid_alive(pid)
