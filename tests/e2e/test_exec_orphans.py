"""Nothing is orphaned: when `pycodex exec` is killed with SIGKILL (no cleanup code runs),
every command it started dies with it and is reaped, whatever the sandbox.

Each case runs the installed CLI against the mock model with one tool call that starts a
long command tree (a background `sleep` and the leader `exec`ing another), waits until both
processes run, SIGKILLs pycodex, and polls until neither exists any more (/proc/PID gone:
killed *and* reaped). The cases: every sandbox backend available here (forced with
$PYCODEX_SANDBOX_BACKEND, skipped with the reason otherwise) and unsandboxed
(danger-full-access), through the `shell` tool and through `exec_command` on a PTY and on
pipes. The processes are found by a unique `sleep` duration in their command line: inside
bwrap's pid namespace a command cannot know its host pid, and under the Landlock-only
backend it cannot write a pid file (workspace-write runs read-only there).

The test process is a child subreaper meanwhile (tests/support/orphans.py), so what pycodex
leaves behind comes back to it instead of to a PID 1 that may never reap.
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from pycodex.sandbox import launcher
from tests.support.exec_cli import ExecHarness, kill_matching, shell_call
from tests.support.mock_model import function_call, response
from tests.support.orphans import (
    Adopter,
    adopt_orphans,
    children_of,
    cmdline,
    exists,
    wait_until,
)

pytestmark = pytest.mark.e2e

SANDBOXES = ("none", *launcher.BACKENDS)
TOOLS = ("shell", "exec_command-pty", "exec_command-pipe")


@pytest.fixture
def marker() -> Iterator[str]:
    """`sleep 600.NNNNNN`: a command line no other process on the machine has."""
    marker = f"sleep 600.{random.randrange(10**6):06d}"
    try:
        yield marker
    finally:
        kill_matching(marker)


@pytest.fixture
def adopter() -> Iterator[Adopter]:
    with adopt_orphans() as adopter:
        yield adopter


def _running(command: str) -> list[int]:
    """Processes running exactly `command` (not the shells or shims that mention it)."""
    return [int(p) for p in os.listdir("/proc")
            if p.isdigit() and cmdline(int(p)).strip() == command]


def _tool_call(tool: str, script: str) -> dict[str, Any]:
    if tool == "shell":
        return shell_call(script)
    # The longest yield: pycodex is still inside the tool call when it is killed.
    return function_call("exec_command", {"cmd": script, "tty": tool.endswith("pty"),
                                          "login": False, "yield_time_ms": 30000}, "call_1")


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_commands_die_when_pycodex_is_killed(
    harness: ExecHarness, sandbox: str, tool: str, marker: str, adopter: Adopter
) -> None:
    env = dict(harness.env)
    if sandbox == "none":
        mode = "danger-full-access"
    else:
        reason = launcher.preflight(sandbox)
        if reason is not None:
            print(f"backend {sandbox} unavailable here: {reason}")
            pytest.skip(f"backend {sandbox} unavailable here: {reason}")
        mode = "workspace-write"
        env[launcher.BACKEND_ENV] = sandbox
    harness.mock.enqueue(response(_tool_call(tool, f"{marker} & exec {marker}")))
    proc = harness.spawn("--json", "-s", mode, "[[orphans]] start a long command", env=env)
    pids: list[int] = []
    try:
        wait_until(lambda: len(_running(marker)) == 2, 30, "both command processes to start")
        pids = _running(marker)
        helpers = [p for p in children_of(proc.pid) if "pycodex_zygote" in cmdline(p)]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        wait_until(lambda: not any(exists(pid) for pid in pids), 10,
                   f"{sandbox}/{tool}: the command processes to be killed and reaped")
        for helper in helpers:  # pycodex's zygote exits once its work is done
            assert adopter.reap(helper, 10) == 0
    finally:
        proc.kill()
        proc.wait()
        adopter.kill_and_reap(pids + _running(marker))
