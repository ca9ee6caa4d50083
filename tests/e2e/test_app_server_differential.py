"""`pycodex app-server` and the reference `codex app-server` side by side: the same client
script against the same mock model, and the notifications each sends during a turn
compared in order (method, and the item type/status or thread status they carry).

Needs the reference binary (`openai-codex-cli-bin` on PyPI): `$CODEX_BIN`, else `codex` on
PATH. `.ci/run` installs it; elsewhere these tests skip and say why.

On an interrupt pycodex kills the turn's commands and completes their items (Codex leaves
them running, their items open): that completion is left out. Codex races a declined item's completion against the end of the approval wait; that pair
is compared in either order. Deliberate differences, removed before comparing: pycodex streams
`item/commandExecution/outputDelta` for agent commands (Codex 0.163 sends none for short
ones), and Codex's desktop-only `thread/readState/changed` and `thread/goal/*`
notifications, which pycodex does not send (README, App-server).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_app_server_support import HANG, _Lines, initialize_params, mock_provider_config
from tests.support.app_server_traffic import TrafficValidator
from tests.support.mock_model import (
    MockModelServer,
    RecordedRequest,
    Reply,
    custom_tool_call,
    function_call,
    http_error,
    message,
    reasoning,
    response,
)

pytestmark = pytest.mark.e2e
Json = dict[str, Any]
PYCODEX = Path(os.environ.get("VIRTUAL_ENV", "")) / "bin" / "pycodex"
IGNORED = ("item/commandExecution/outputDelta", "thread/readState/changed", "thread/goal/cleared",
           "thread/goal/updated")


def _codex() -> str:
    for candidate in (os.environ.get("CODEX_BIN"), shutil.which("codex")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("CODEX_BIN (the reference codex binary) is not set or not executable")


def _pycodex() -> str:
    import sys

    return str(Path(sys.executable).parent / "pycodex")


class Peer:
    """One app-server on stdio, driven by a blocking script."""

    def __init__(self, binary: str, home_var: str, root: Path, mock_url: str) -> None:
        home = root / f"{Path(binary).name}-home"
        home.mkdir()
        (home / "config.toml").write_text(mock_provider_config(mock_url))
        (root / "tmp").mkdir(exist_ok=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "LANG": "C.UTF-8",
               "MOCK_KEY": "x", "TMPDIR": str(root / "tmp"), "CODEX_HOME": str(root / "unused-codex-home"),
               home_var: str(home)}
        self.proc = subprocess.Popen([binary, "app-server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env, cwd=root)
        self.lines = _Lines(self.proc.stdout)
        self._id = 0
        self.early: list[Json] = []  # what arrived while waiting for an answer
        self.traffic = TrafficValidator()

    def send(self, message: Json) -> None:
        assert self.proc.stdin
        self.traffic.sent(message)
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def recv(self) -> Json:
        line = self.lines.next(HANG)
        assert line is not None, "the server closed stdout"
        message: Json = json.loads(line)
        self.traffic.received(message)
        return message

    def call(self, method: str, params: Json) -> Json:
        self._id += 1
        self.send({"id": self._id, "method": method, "params": params})
        while True:
            msg = self.recv()
            if msg.get("id") == self._id and "method" not in msg:
                assert "result" in msg, msg
                return msg["result"]  # type: ignore[no-any-return]
            self.early.append(msg)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=HANG)


def _shape(msg: Json) -> str:
    """What is compared of a message: its method and the kind of thing it is about."""
    method, params = msg.get("method") or "", msg.get("params") or {}
    if method in ("item/started", "item/completed"):
        item = params["item"]
        return f"{method} {item['type']} {item.get('status', '')}".rstrip()
    if method == "thread/status/changed":
        status = params["status"]
        return f"{method} {status['type']} {status.get('activeFlags', '')}".rstrip()
    if method == "turn/completed":
        return f"{method} {params['turn']['status']}"
    return method


def _settle_races(shapes: list[str]) -> list[str]:
    """Codex sends a declined item's completion and the end of the approval wait in either
    order (it races them); each such adjacent pair is compared as a set."""
    out = list(shapes)
    for i in range(len(out) - 1):
        pair = {out[i], out[i + 1]}
        if any(s.endswith(" declined") for s in pair) and "thread/status/changed active []" in pair:
            out[i], out[i + 1] = sorted(pair)
    return out


def _turn(
    peer: Peer, workspace: Path, policy: str, sandbox: str, decision: str | None, experimental: bool
) -> list[str]:
    peer.call("initialize", initialize_params("diff_client", experimental=experimental))
    peer.send({"method": "initialized"})
    thread_id = peer.call("thread/start", {"cwd": str(workspace), "approvalPolicy": policy,
                                           "sandbox": sandbox})["thread"]["id"]
    # A per-turn setting: both announce the thread's settings now in force.
    turn = peer.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "go"}],
                                    "effort": "low"})
    seen: list[str] = []
    arrived = [m for m in peer.early if m.get("method") == "thread/settings/updated"]
    while True:
        msg = arrived.pop(0) if arrived else peer.recv()
        if "id" in msg and "method" in msg:  # a server request: an approval
            peer.send({"id": msg["id"], "result": {"decision": decision}})
        if decision == "interrupt" and _shape(msg) == "item/started commandExecution inProgress":
            peer.send({"id": 999, "method": "turn/interrupt",
                       "params": {"threadId": thread_id, "turnId": turn["turn"]["id"]}})
        if msg.get("method") and msg.get("method") not in IGNORED:
            seen.append(_shape(msg))
        if msg.get("method") == "turn/completed":
            return _settle_races([s for s in seen if not s.startswith("thread/started")])


def _run(binary: str, home_var: str, root: Path, mock: MockModelServer, replies: list[Any],
         policy: str, sandbox: str, decision: str | None, experimental: bool = True) -> list[str]:
    root.mkdir()
    workspace = root / "ws"
    workspace.mkdir()
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    (workspace / "existing.txt").write_text("old line\n")
    mock.enqueue(*replies)
    peer = Peer(binary, home_var, root, mock.url)
    try:
        return _turn(peer, workspace, policy, sandbox, decision, experimental)
    finally:
        peer.stop()


def _command(request: RecordedRequest, script: str = "touch made.txt && echo hi") -> Reply:
    names = {tool.get("name") for tool in request.body.get("tools", [])}
    if "exec_command" in names:
        return response(function_call("exec_command", {"cmd": script}, "call_1"))
    return response(function_call("shell", {"command": ["bash", "-lc", script]}, "call_1"))


def _slow_command(request: RecordedRequest) -> Reply:
    return _command(request, "sleep 30")


PATCH = "*** Begin Patch\n*** Update File: existing.txt\n@@\n-old line\n+new line\n*** End Patch\n"
SCENARIOS: dict[str, tuple[Callable[[], list[Any]], str, str, str | None]] = {
    "text": (lambda: [response(message("hello there"))], "never", "workspace-write", None),
    "command accepted": (lambda: [_command, response(message("done"))], "untrusted", "workspace-write", "accept"),
    "command declined": (lambda: [_command, response(message("ok"))], "untrusted", "workspace-write", "decline"),
    "reasoning": (lambda: [response(reasoning(["Thinking it over."]), message("thought"))],
                  "never", "workspace-write", None),
    "interrupted command": (lambda: [_slow_command], "never", "danger-full-access", "interrupt"),
    "bad request": (lambda: [http_error(400, {"error": {"message": "bad input", "type": "invalid_request_error"}})],
                    "never", "workspace-write", None),
    "patch accepted": (lambda: [response(custom_tool_call("apply_patch", PATCH)), response(message("done"))],
                       "untrusted", "read-only", "accept"),
}


@pytest.mark.parametrize(
    ("scenario", "experimental"),
    [*((name, True) for name in sorted(SCENARIOS)), ("command accepted", False)],
)
def test_a_turn_sends_what_codex_sends_in_the_same_order(
    scenario: str, experimental: bool, tmp_path: Path, mock_model: MockModelServer
) -> None:
    """Experimental clients hear more (`thread/settings/updated`); a stable one does not."""
    codex = _codex()
    replies, policy, sandbox, decision = SCENARIOS[scenario]
    theirs = _run(codex, "CODEX_HOME", tmp_path / "codex", mock_model, replies(), policy, sandbox, decision,
                  experimental)
    ours = _run(_pycodex(), "PYCODEX_HOME", tmp_path / "pycodex", mock_model, replies(), policy, sandbox,
                decision, experimental)
    if decision == "interrupt":  # pycodex kills the turn's commands and completes their items
        ours = [s for s in ours if s != "item/completed commandExecution failed"]
    if ours != theirs:
        import difflib

        diff = difflib.unified_diff(theirs, ours, "codex", "pycodex", lineterm="", n=30)
        raise AssertionError("notifications differ from Codex's:\n" + "\n".join(diff))
